import type { Hex } from 'viem'
import { expect, test } from 'vitest'
import { createEnvelope, encodeEnvelope } from '../protocol/envelope.js'
import { inboxTopic, type TopicPreimage } from '../protocol/topics.js'
import { TopicPreimageUnknownError } from './errors.js'
import {
  acceptDelivery,
  acknowledge,
  newSubscription,
  resetHead,
  subscriptionPreimage,
} from './relaySubscription.js'
import type { Delivery } from './transport.js'

const deviceId: Hex = `0x${'aa'.repeat(32)}`
const inbox: TopicPreimage = { kind: 'inbox', deviceId }
const topic: Hex = inboxTopic(deviceId)
const bytes = (n: number) =>
  encodeEnvelope(createEnvelope({ kind: 'welcome', topic, payload: new Uint8Array([n]) }))

test('deliveries after lastSeq are buffered and handed to the listeners they are new for; replays are dropped', () => {
  const sub = newSubscription(2n, inbox)
  const early: bigint[] = []
  const late: bigint[] = []
  sub.listeners.add({ after: 2n, onDelivery: (d: Delivery) => early.push(d.cursor) })
  sub.listeners.add({ after: 4n, onDelivery: (d: Delivery) => late.push(d.cursor) })
  expect(acceptDelivery(sub, { topic, seq: 2n, bytes: bytes(2) })).toBeUndefined()
  for (const seq of [3n, 4n, 5n, 4n]) acceptDelivery(sub, { topic, seq, bytes: bytes(Number(seq)) })
  expect(early).toEqual([3n, 4n, 5n])
  expect(late).toEqual([5n])
  expect(sub.lastSeq).toBe(5n)
  expect(sub.buffer.map((d) => d.cursor)).toEqual([3n, 4n, 5n])
  acknowledge(sub, 4n)
  expect(sub.buffer.map((d) => d.cursor)).toEqual([5n])
})

test('an envelope that does not decode is skipped and does not advance lastSeq', () => {
  const sub = newSubscription(0n, inbox)
  expect(acceptDelivery(sub, { topic, seq: 1n, bytes: new Uint8Array([1, 2, 3]) })).toBeUndefined()
  expect(sub.lastSeq).toBe(0n)
  expect(sub.buffer).toEqual([])
})

test('the head resolves with the relay answer to the current SUBSCRIBE; resetHead starts a new one', async () => {
  const sub = newSubscription(0n, inbox)
  const first = sub.head
  sub.setHead(7n)
  expect(await first).toBe(7n)
  resetHead(sub)
  sub.setHead(9n)
  expect(await sub.head).toBe(9n)
})

test('deliveries replayed before the relay answers SUBSCRIBE are catch-up; later ones are live; a resubscribe replays as catch-up again', () => {
  const sub = newSubscription(0n, inbox)
  expect(acceptDelivery(sub, { topic, seq: 1n, bytes: bytes(1) })?.live).toBe(false)
  sub.setHead(1n)
  expect(acceptDelivery(sub, { topic, seq: 2n, bytes: bytes(2) })?.live).toBe(true)
  resetHead(sub) // reconnect: the relay replays what was stored meanwhile
  expect(acceptDelivery(sub, { topic, seq: 3n, bytes: bytes(3) })?.live).toBe(false)
  sub.setHead(3n)
  expect(acceptDelivery(sub, { topic, seq: 4n, bytes: bytes(4) })?.live).toBe(true)
})

test("subscriptionPreimage: the caller's preimage, else the own inbox; none, a throwing resolver, or a wrong one is TopicPreimageUnknownError", () => {
  const tree: TopicPreimage = { kind: 'welcome-tree', welcomeDigest: deviceId }
  const treeTopic = `0x${'00'.repeat(32)}`
  expect(subscriptionPreimage(topic, deviceId, undefined)).toEqual(inbox)
  expect(subscriptionPreimage(topic.toUpperCase().replace('0X', '0x') as Hex, deviceId, undefined)).toEqual(
    inbox,
  )
  const other: Hex = inboxTopic(`0x${'bb'.repeat(32)}`)
  expect(() => subscriptionPreimage(other, deviceId, undefined)).toThrow(TopicPreimageUnknownError)
  expect(() => subscriptionPreimage(other, deviceId, () => tree)).toThrow(TopicPreimageUnknownError)
  expect(() =>
    subscriptionPreimage(treeTopic as Hex, deviceId, () => {
      throw new Error('no such group')
    }),
  ).toThrow(TopicPreimageUnknownError)
  const otherInbox: TopicPreimage = { kind: 'inbox', deviceId: `0x${'bb'.repeat(32)}` }
  expect(subscriptionPreimage(other, deviceId, () => otherInbox)).toEqual(otherInbox)
})
