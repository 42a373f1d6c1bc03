import { createHash, randomBytes } from 'node:crypto'
import { getAddress, type Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { type ConversationContext, directGroupId, groupGroupId } from './conversationContext.js'
import {
  conversationPreimage,
  decodeTopicPreimage,
  encodeTopicPreimage,
  inboxTopic,
  TOPIC_PREIMAGE_BYTES,
  type TopicPreimage,
  TopicPreimageError,
  topicOf,
  welcomeKey,
  welcomeTreePreimage,
} from './topics.js'
import { blobTopic, welcomeTreeTopic } from './welcomeTree.js'

const hex = (n: number): Hex => `0x${randomBytes(n).toString('hex')}`
const registry = getAddress(hex(20))
const [low, high] = [getAddress(hex(20)), getAddress(hex(20))].sort((x, y) =>
  x.toLowerCase() < y.toLowerCase() ? -1 : 1,
) as [Hex, Hex]
const nonce = hex(32)
const all: TopicPreimage[] = [
  { kind: 'inbox', deviceId: hex(32) },
  { kind: 'direct', chainId: 31337, registry, a: high, b: low, nonce },
  { kind: 'group', chainId: 31337, registry, nonce },
  { kind: 'welcome-tree', welcomeDigest: hex(32) },
  { kind: 'blob', digest: hex(32) },
]

/** SHA-256(label || 0x00 || body), written out independently of `labelledHash`. */
const labelled = (label: string, body: Uint8Array): Hex =>
  `0x${createHash('sha256')
    .update(Buffer.concat([Buffer.from(label), Buffer.of(0), body]))
    .digest('hex')}`

describe('topicOf', () => {
  test('each kind is the derivation the topic is made with elsewhere', () => {
    const [inbox, direct, group] = all as [
      Extract<TopicPreimage, { kind: 'inbox' }>,
      Extract<TopicPreimage, { kind: 'direct' }>,
      Extract<TopicPreimage, { kind: 'group' }>,
    ]
    expect(topicOf(inbox)).toBe(inboxTopic(inbox.deviceId))
    expect(topicOf(direct)).toBe(directGroupId(direct))
    expect(topicOf(group)).toBe(groupGroupId(group))
    const groupInfo = randomBytes(100)
    expect(topicOf(welcomeTreePreimage(groupInfo))).toBe(welcomeTreeTopic(groupInfo))
    expect(welcomeKey(groupInfo)).toBe(labelled('sealpost/v3/welcome-key', groupInfo))
    const digest = hex(32)
    expect(topicOf({ kind: 'blob', digest })).toBe(blobTopic(digest))
  })

  test('is SHA-256(label || 0x00 || body) with the body as encoded on the wire', () => {
    const labels = [
      'sealpost/v1/inbox',
      'sealpost/v2/direct-group',
      'sealpost/v2/group',
      'sealpost/v2/welcome-tree',
      'sealpost/v3/blob',
    ]
    for (const [i, preimage] of all.entries())
      expect(topicOf(preimage)).toBe(labelled(labels[i]!, encodeTopicPreimage(preimage).subarray(1)))
  })

  test('the same bytes under two kinds give two topics (domain separation)', () => {
    const bytes = hex(32)
    expect(topicOf({ kind: 'inbox', deviceId: bytes })).not.toBe(
      topicOf({ kind: 'welcome-tree', welcomeDigest: bytes }),
    )
    expect(topicOf({ kind: 'blob', digest: bytes })).not.toBe(
      topicOf({ kind: 'welcome-tree', welcomeDigest: bytes }),
    )
  })

  test('conversationPreimage gives the group id of a context', () => {
    const members = [low, high]
    const direct: ConversationContext = {
      kind: 'direct',
      chainId: 5,
      registry,
      nonce,
      members,
      admins: members,
    }
    expect(topicOf(conversationPreimage(direct))).toBe(
      directGroupId({ chainId: 5, registry, a: low, b: high, nonce }),
    )
    const group: ConversationContext = {
      kind: 'group',
      chainId: 5,
      registry,
      nonce,
      members,
      admins: [low],
      name: 'g',
    }
    expect(topicOf(conversationPreimage(group))).toBe(groupGroupId({ chainId: 5, registry, nonce }))
  })
})

describe('encodeTopicPreimage and decodeTopicPreimage', () => {
  test('round trip every kind; a direct preimage comes back with its accounts in ascending order', () => {
    for (const preimage of all) {
      const bytes = encodeTopicPreimage(preimage)
      expect(bytes.length).toBe(1 + TOPIC_PREIMAGE_BYTES[preimage.kind])
      const decoded = decodeTopicPreimage(bytes)
      expect(topicOf(decoded)).toBe(topicOf(preimage))
    }
    expect(decodeTopicPreimage(encodeTopicPreimage(all[1]!))).toMatchObject({ a: low, b: high })
  })

  test('malformed preimages are TopicPreimageError', () => {
    expect(() =>
      encodeTopicPreimage({ kind: 'direct', chainId: 1, registry, a: low, b: low, nonce }),
    ).toThrow(/two different accounts/)
    expect(() => encodeTopicPreimage({ kind: 'group', chainId: 0, registry, nonce })).toThrow(/chain id/)
    expect(() => encodeTopicPreimage({ kind: 'group', chainId: 1, registry: '0x12', nonce })).toThrow(
      TopicPreimageError,
    )
    expect(() => decodeTopicPreimage(Uint8Array.of(0))).toThrow(/unknown kind 0/)
    expect(() => decodeTopicPreimage(new Uint8Array())).toThrow(TopicPreimageError)
    expect(() => decodeTopicPreimage(Uint8Array.of(1, 2, 3))).toThrow(/32 bytes/)
    const group = encodeTopicPreimage(all[2]!)
    group.fill(0xff, 1, 9)
    expect(() => decodeTopicPreimage(group)).toThrow(/chain id out of range/)
  })
})
