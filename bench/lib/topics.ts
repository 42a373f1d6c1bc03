/** Benchmark topics: group-conversation topics from a nonce, with the preimage every SUBSCRIBE v2 carries. */
import type { Hex } from 'viem'
import { type TopicPreimage, topicOf } from '../../src/protocol/topics.js'

/**
 * The preimage of a benchmark topic: a group conversation of nonce `nonce` (32 bytes) on a fixed deployment (the
 * relay recomputes the topic from it and does not look the deployment up).
 *
 * @example const topic = topicOf(benchPreimage(`0x${'6f'.repeat(32)}`))
 */
export function benchPreimage(nonce: Hex): TopicPreimage {
  return { kind: 'group', chainId: 31337, registry: '0x5Ea1000000000000000000000000000000000001', nonce }
}

/**
 * The preimage and topic of benchmark topic number `n`.
 *
 * @example const { topic, preimage } = numberedTopic(7)
 */
export function numberedTopic(n: number): { topic: Hex; preimage: TopicPreimage } {
  const preimage = benchPreimage(`0x${n.toString(16).padStart(64, '0')}`)
  return { topic: topicOf(preimage), preimage }
}
