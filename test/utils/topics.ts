/** Test topics with known preimages (SUBSCRIBE v2 carries one): group topics from a seed, looked up by topic. */
import { randomBytes } from 'node:crypto'
import type { Address, Hex } from 'viem'
import { type TopicPreimage, topicOf } from '../../src/protocol/topics.js'

const known = new Map<Hex, TopicPreimage>()
const REGISTRY: Address = '0x5Ea1000000000000000000000000000000000001'

/** A group-conversation topic whose nonce is `seed` repeated (random without a seed); its preimage is remembered. */
export function testTopic(seed?: number): Hex {
  const nonce: Hex =
    seed === undefined
      ? `0x${randomBytes(32).toString('hex')}`
      : `0x${seed.toString(16).padStart(2, '0').repeat(32)}`
  return remember({ kind: 'group', chainId: 31337, registry: REGISTRY, nonce })
}

/** Remembers `preimage` and returns its topic. */
export function remember(preimage: TopicPreimage): Hex {
  const topic = topicOf(preimage)
  known.set(topic, preimage)
  return topic
}

/** The preimage of a topic made by `testTopic` or `remember` (lowercase or not); throws for any other. */
export function preimageOf(topic: Hex): TopicPreimage {
  const preimage = known.get(topic.toLowerCase() as Hex)
  if (!preimage) throw new Error(`no preimage for ${topic}`)
  return preimage
}

/** The inbox preimage of `deviceId`. */
export function inboxPreimage(deviceId: Hex): TopicPreimage {
  return { kind: 'inbox', deviceId }
}
