import type { Hex } from 'viem'
import { afterEach, describe, expect, test } from 'vitest'
import { createTestRelay, type TestRelay, testDevice, tick } from '../../test/utils/relayContext.js'
import { createEnvelope, encodeEnvelope } from '../protocol/envelope.js'
import { inboxTopic } from '../protocol/topics.js'
import { followRegistry } from './auth.js'
import { deliver, handleSubscribe, handleUnsubscribe, mayRead, REPLAY_PAGE } from './topics.js'

let relay: TestRelay | undefined
afterEach(() => relay?.close())

const topic: Hex = `0x${'7a'.repeat(32)}`
function store(relay: TestRelay, n: number): Uint8Array[] {
  const all = Array.from({ length: n }, (_, i) =>
    encodeEnvelope(createEnvelope({ kind: 'application', topic, payload: Uint8Array.of(i, i >> 8) })),
  )
  relay.store.append(
    all.map((bytes) => ({
      topic,
      id: `0x${Buffer.from(bytes.subarray(36, 68)).toString('hex')}` as Hex,
      bytes,
      publisher: `0x${'00'.repeat(32)}`,
    })),
  )
  return all
}

/** Waits (event-loop turns, no timer) until `socket` has received a frame: the answer to a SUBSCRIBE's look-up. */
async function answered(socket: { frames: unknown[] }): Promise<void> {
  while (socket.frames.length === 0) await new Promise((resolve) => setImmediate(resolve))
}

describe('handleSubscribe', () => {
  test("another device's inbox is forbidden; the own inbox and other topics are open", () => {
    relay = createTestRelay()
    const owner = testDevice()
    const other = testDevice()
    relay.ctx.inboxes.set(inboxTopic(owner.deviceId), owner.deviceId)
    expect(mayRead(relay.ctx, inboxTopic(owner.deviceId), other.deviceId)).toBe(false)
    expect(mayRead(relay.ctx, inboxTopic(owner.deviceId), owner.deviceId)).toBe(true)
    expect(mayRead(relay.ctx, topic, other.deviceId)).toBe(true)
    const { conn, socket } = relay.connect(other)
    handleSubscribe(relay.ctx, conn, { reqId: 4, topic: inboxTopic(owner.deviceId), after: 0n })
    expect(socket.take()).toEqual([{ type: 'error', reqId: 4, code: 'RELAY_FORBIDDEN' }])
    expect(relay.ctx.topics.size).toBe(0)
  })

  test('a topic not checked yet costs one look-up: the sync may reveal it as an inbox (forbidden), else it opens', async () => {
    relay = createTestRelay({ limits: { registryLookupsPerIpPerMinute: 2 } })
    followRegistry(relay.ctx)
    const victim = testDevice()
    relay.registry.pending.set(victim.deviceId, victim.record) // registered, not synced yet
    const { conn, socket } = relay.connect(testDevice())
    handleSubscribe(relay.ctx, conn, { reqId: 1, topic: inboxTopic(victim.deviceId), after: 0n })
    expect(socket.frames).toEqual([]) // waiting for the sync
    await answered(socket)
    expect(socket.take()).toEqual([{ type: 'error', reqId: 1, code: 'RELAY_FORBIDDEN' }])
    expect(relay.registry.syncs).toBe(1)
    handleSubscribe(relay.ctx, conn, { reqId: 2, topic, after: 0n })
    await answered(socket)
    expect(socket.take()).toEqual([{ type: 'ok', reqId: 2, value: 0n }])
    // Checked now (live subscriber, recorded recipient): no further look-up; the budget (2) is spent.
    const other = relay.connect(testDevice())
    handleSubscribe(relay.ctx, other.conn, { reqId: 3, topic, after: 0n })
    expect(other.socket.take()).toEqual([{ type: 'ok', reqId: 3, value: 0n }])
    handleSubscribe(relay.ctx, other.conn, { reqId: 4, topic: `0x${'7c'.repeat(32)}`, after: 0n })
    expect(other.socket.take()).toEqual([{ type: 'error', reqId: 4, code: 'RELAY_TOPIC_UNVERIFIED' }])
    expect(relay.registry.syncs).toBe(2)
  })

  test('a failed registry sync refuses the SUBSCRIBE with RELAY_TOPIC_UNVERIFIED; the connection stays', async () => {
    relay = createTestRelay()
    relay.registry.failSync = new Error('rpc down')
    const { conn, socket } = relay.connect(testDevice())
    handleSubscribe(relay.ctx, conn, { reqId: 1, topic, after: 0n })
    await answered(socket)
    expect(socket.take()).toEqual([{ type: 'error', reqId: 1, code: 'RELAY_TOPIC_UNVERIFIED' }])
    expect(conn.closing).toBe(false)
    expect(relay.ctx.topics.has(topic)).toBe(false)
  })

  test('replays after the cursor page by page, answers OK(head), then takes live deliveries', async () => {
    relay = createTestRelay()
    const n = REPLAY_PAGE + 10
    store(relay, n)
    const device = testDevice()
    const { conn, socket } = relay.connect(device)
    relay.store.subscribe(topic, device.deviceId) // a recipient from before: the topic was checked then
    handleSubscribe(relay.ctx, conn, { reqId: 1, topic, after: 5n })
    expect(socket.frames).toHaveLength(REPLAY_PAGE) // the first page, then a yield
    // A live envelope committed while replaying is not sent twice: the replay reads it from the store.
    deliver(relay.ctx, { topic, seq: BigInt(n + 1), bytes: Uint8Array.of(1), from: undefined })
    await tick()
    const frames = socket.take()
    expect(frames.at(-1)).toEqual({ type: 'ok', reqId: 1, value: BigInt(n) })
    expect(frames.slice(0, -1).map((f) => (f.type === 'deliver' ? f.seq : -1n))).toEqual(
      Array.from({ length: n - 5 }, (_, i) => BigInt(i + 6)),
    )
    expect(relay.store.acks(topic)).toEqual([{ deviceId: device.deviceId, seq: 5n }])
    deliver(relay.ctx, { topic, seq: BigInt(n + 1), bytes: Uint8Array.of(1), from: undefined })
    expect(socket.take()).toMatchObject([{ type: 'deliver', seq: BigInt(n + 1) }])
  })

  test('more topics than maxSubscriptionsPerConnection are refused', () => {
    relay = createTestRelay({ limits: { maxSubscriptionsPerConnection: 1 } })
    const device = testDevice()
    const { conn, socket } = relay.connect(device)
    relay.store.subscribe(topic, device.deviceId)
    relay.store.subscribe(`0x${'7b'.repeat(32)}`, device.deviceId)
    handleSubscribe(relay.ctx, conn, { reqId: 1, topic, after: 0n })
    handleSubscribe(relay.ctx, conn, { reqId: 2, topic: `0x${'7b'.repeat(32)}`, after: 0n })
    handleSubscribe(relay.ctx, conn, { reqId: 3, topic, after: 0n }) // the same topic again is fine
    expect(socket.take()).toEqual([
      { type: 'ok', reqId: 1, value: 0n },
      { type: 'error', reqId: 2, code: 'RELAY_RATE_LIMITED' },
      { type: 'ok', reqId: 3, value: 0n },
    ])
  })
})

describe('deliver and handleUnsubscribe', () => {
  test('fans out to live subscribers but the publisher, once per seq; UNSUBSCRIBE stops it', () => {
    relay = createTestRelay()
    const a = relay.connect(testDevice())
    const b = relay.connect(testDevice())
    relay.store.subscribe(topic, a.conn.deviceId!) // checked before: no look-up
    const events: unknown[] = []
    relay.events.on('delivered', (e) => events.push(e))
    handleSubscribe(relay.ctx, a.conn, { reqId: 1, topic, after: 0n })
    handleSubscribe(relay.ctx, b.conn, { reqId: 1, topic, after: 0n })
    a.socket.take()
    b.socket.take()
    deliver(relay.ctx, { topic, seq: 1n, bytes: Uint8Array.of(9), from: a.conn })
    deliver(relay.ctx, { topic, seq: 1n, bytes: Uint8Array.of(9), from: undefined })
    expect(a.socket.take()).toEqual([{ type: 'deliver', topic, seq: 1n, envelope: Uint8Array.of(9) }])
    expect(b.socket.take()).toEqual([{ type: 'deliver', topic, seq: 1n, envelope: Uint8Array.of(9) }])
    expect(events).toEqual([
      { topic, seq: 1n, deviceId: b.conn.deviceId },
      { topic, seq: 1n, deviceId: a.conn.deviceId },
    ])
    handleUnsubscribe(relay.ctx, b.conn, { reqId: 5, topic })
    expect(b.socket.take()).toEqual([{ type: 'ok', reqId: 5, value: 0n }])
    deliver(relay.ctx, { topic, seq: 2n, bytes: Uint8Array.of(9), from: undefined })
    expect(b.socket.frames).toEqual([])
    handleUnsubscribe(relay.ctx, a.conn, { reqId: 6, topic })
    expect(relay.ctx.topics.has(topic)).toBe(false)
  })
})
