import type { Hex } from 'viem'
import { afterEach, describe, expect, test } from 'vitest'
import { createTestRelay, type TestRelay, testDevice, tick } from '../../test/utils/relayContext.js'
import { preimageOf, testTopic } from '../../test/utils/topics.js'
import { createEnvelope, encodeEnvelope } from '../protocol/envelope.js'
import { inboxTopic } from '../protocol/topics.js'
import { deliver, handleSubscribe, handleUnsubscribe, mayRead, REPLAY_PAGE } from './topics.js'

let relay: TestRelay | undefined
afterEach(() => relay?.close())

const topic: Hex = testTopic(0x7a)
const other: Hex = testTopic(0x7b)
/** A SUBSCRIBE of `topic` (a test topic) with its preimage. */
const sub = (reqId: number, t: Hex, after = 0n) => ({ reqId, topic: t, after, preimage: preimageOf(t) })
async function store(relay: TestRelay, n: number): Promise<Uint8Array[]> {
  const all = Array.from({ length: n }, (_, i) =>
    encodeEnvelope(createEnvelope({ kind: 'application', topic, payload: Uint8Array.of(i, i >> 8) })),
  )
  await relay.store.append(
    all.map((bytes) => ({
      topic,
      id: `0x${Buffer.from(bytes.subarray(36, 68)).toString('hex')}` as Hex,
      bytes,
      publisher: `0x${'00'.repeat(32)}`,
    })),
  )
  return all
}

describe('handleSubscribe', () => {
  test("an inbox is open to its owner only, registered or not; a preimage that is not the topic's is refused", async () => {
    relay = createTestRelay()
    const owner = testDevice()
    const stranger = testDevice() // known to no registry
    const { conn, socket } = relay.connect(owner)
    const ownInbox = inboxTopic(owner.deviceId)
    handleSubscribe(relay.ctx, conn, {
      reqId: 1,
      topic: ownInbox,
      after: 0n,
      preimage: { kind: 'inbox', deviceId: owner.deviceId },
    })
    await tick()
    const strangerInbox = inboxTopic(stranger.deviceId)
    const asInbox = { kind: 'inbox', deviceId: stranger.deviceId } as const
    handleSubscribe(relay.ctx, conn, { reqId: 2, topic: strangerInbox, after: 0n, preimage: asInbox })
    await tick()
    handleSubscribe(relay.ctx, conn, {
      reqId: 3,
      topic: strangerInbox,
      after: 0n,
      preimage: preimageOf(topic),
    })
    await tick()
    handleSubscribe(relay.ctx, conn, { reqId: 4, topic, after: 0n, preimage: preimageOf(other) })
    await tick()
    expect(socket.take()).toEqual([
      { type: 'ok', reqId: 1, value: 0n },
      { type: 'error', reqId: 2, code: 'RELAY_FORBIDDEN' },
      { type: 'error', reqId: 3, code: 'RELAY_TOPIC_MISMATCH' },
      { type: 'error', reqId: 4, code: 'RELAY_TOPIC_MISMATCH' },
    ])
    expect([...relay.ctx.topics.keys()]).toEqual([ownInbox])
    expect(relay.registry.syncs).toBe(0) // nothing of it asks the registry
  })

  test("mayRead (ACK): another known device's inbox is closed; the own inbox and other topics are open", () => {
    relay = createTestRelay()
    const owner = testDevice()
    const stranger = testDevice()
    relay.ctx.inboxes.set(inboxTopic(owner.deviceId), owner.deviceId)
    expect(mayRead(relay.ctx, inboxTopic(owner.deviceId), stranger.deviceId)).toBe(false)
    expect(mayRead(relay.ctx, inboxTopic(owner.deviceId), owner.deviceId)).toBe(true)
    expect(mayRead(relay.ctx, topic, stranger.deviceId)).toBe(true)
  })

  test('replays after the cursor page by page, answers OK(head), then takes live deliveries', async () => {
    relay = createTestRelay()
    const n = REPLAY_PAGE + 10
    await store(relay, n)
    const device = testDevice()
    const { conn, socket } = relay.connect(device)
    handleSubscribe(relay.ctx, conn, sub(1, topic, 5n))
    // The first page goes out, then the replay yields (how many turns the store's reads take is not fixed, so this
    // waits for the page instead of counting event-loop turns).
    while (socket.frames.length < REPLAY_PAGE) await new Promise((resolve) => setImmediate(resolve))
    // An envelope committed now, while replaying, is held, and sent once, after OK(head).
    deliver(relay.ctx, { topic, seq: BigInt(n + 1), bytes: Uint8Array.of(1), from: undefined })
    while (!socket.frames.some((f) => f.type === 'ok')) await tick()
    await tick()
    const frames = socket.take()
    expect(frames.at(-2)).toEqual({ type: 'ok', reqId: 1, value: BigInt(n) })
    expect(frames.at(-1)).toMatchObject({ type: 'deliver', seq: BigInt(n + 1) })
    expect(frames.slice(0, -2).map((f) => (f.type === 'deliver' ? f.seq : -1n))).toEqual(
      Array.from({ length: n - 5 }, (_, i) => BigInt(i + 6)),
    )
    expect(await relay.store.acks(topic)).toEqual([{ deviceId: device.deviceId, seq: 5n }])
    deliver(relay.ctx, { topic, seq: BigInt(n + 1), bytes: Uint8Array.of(1), from: undefined })
    expect(socket.take()).toEqual([])
    deliver(relay.ctx, { topic, seq: BigInt(n + 2), bytes: Uint8Array.of(2), from: undefined })
    expect(socket.take()).toMatchObject([{ type: 'deliver', seq: BigInt(n + 2) }])
  })

  test('more topics than maxSubscriptionsPerConnection are refused', async () => {
    relay = createTestRelay({ limits: { maxSubscriptionsPerConnection: 1 } })
    const device = testDevice()
    const { conn, socket } = relay.connect(device)
    handleSubscribe(relay.ctx, conn, sub(1, topic))
    await tick()
    handleSubscribe(relay.ctx, conn, sub(2, other))
    await tick()
    handleSubscribe(relay.ctx, conn, sub(3, topic)) // the same topic again is fine
    await tick()
    expect(socket.take()).toEqual([
      { type: 'ok', reqId: 1, value: 0n },
      { type: 'error', reqId: 2, code: 'RELAY_RATE_LIMITED' },
      { type: 'ok', reqId: 3, value: 0n },
    ])
  })
})

describe('deliver and handleUnsubscribe', () => {
  test('fans out to live subscribers but the publisher, once per seq; UNSUBSCRIBE stops it', async () => {
    relay = createTestRelay()
    const a = relay.connect(testDevice())
    const b = relay.connect(testDevice())
    const events: unknown[] = []
    relay.events.on('delivered', (e) => events.push(e))
    handleSubscribe(relay.ctx, a.conn, sub(1, topic))
    await tick()
    handleSubscribe(relay.ctx, b.conn, sub(1, topic))
    await tick()
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
    await tick()
    expect(b.socket.take()).toEqual([{ type: 'ok', reqId: 5, value: 0n }])
    deliver(relay.ctx, { topic, seq: 2n, bytes: Uint8Array.of(9), from: undefined })
    expect(b.socket.frames).toEqual([])
    handleUnsubscribe(relay.ctx, a.conn, { reqId: 6, topic })
    await tick()
    expect(relay.ctx.topics.has(topic)).toBe(false)
  })
})
