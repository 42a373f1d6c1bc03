import type { Hex } from 'viem'
import { afterEach, describe, expect, test } from 'vitest'
import { createTestRelay, type TestRelay, testDevice, tick } from '../../test/utils/relayContext.js'
import { preimageOf, testTopic } from '../../test/utils/topics.js'
import { inboxTopic } from '../protocol/topics.js'
import { cancelAcksPush, handleAck } from './acks.js'
import { handleSubscribe } from './topics.js'

let relay: TestRelay | undefined
afterEach(() => relay?.close())

const topic: Hex = testTopic(0xac)
const entry = (n: number) => ({
  topic,
  id: `0x${n.toString(16).padStart(64, '0')}` as Hex,
  bytes: Uint8Array.of(n),
  publisher: `0x${'00'.repeat(32)}` as Hex,
})

describe('acks', () => {
  test('ACK moves the cursor at once; ACKS for the topic is pushed once per throttle window to every subscriber', async () => {
    relay = createTestRelay({ limits: { acksThrottleMs: 30 } })
    await relay.store.append([entry(1), entry(2), entry(3)])
    const a = relay.connect(testDevice())
    const b = relay.connect(testDevice())
    handleSubscribe(relay.ctx, a.conn, { reqId: 1, topic, after: 0n, preimage: preimageOf(topic) })
    await tick()
    handleSubscribe(relay.ctx, b.conn, { reqId: 1, topic, after: 0n, preimage: preimageOf(topic) })
    await tick()
    a.socket.take()
    b.socket.take()
    const acked: unknown[] = []
    relay.events.on('acked', (e) => acked.push(e))
    await handleAck(relay.ctx, a.conn, { topic, seq: 1n })
    await handleAck(relay.ctx, b.conn, { topic, seq: 3n })
    await handleAck(relay.ctx, a.conn, { topic, seq: 2n })
    expect(acked).toEqual([
      { topic, seq: 1n, deviceId: a.conn.deviceId },
      { topic, seq: 3n, deviceId: b.conn.deviceId },
      { topic, seq: 2n, deviceId: a.conn.deviceId },
    ])
    expect(a.socket.frames).toEqual([]) // no reply to ACK itself, and the push waits for the window
    await tick(60)
    const expected = {
      type: 'acks',
      topic,
      acks: expect.arrayContaining([
        { deviceId: a.conn.deviceId, seq: 2n },
        { deviceId: b.conn.deviceId, seq: 3n },
      ]),
    }
    expect(a.socket.take()).toEqual([expected])
    expect(b.socket.take()).toEqual([expected])
  })

  test("acking another device's inbox is forbidden; a cancelled push sends nothing", async () => {
    relay = createTestRelay({ limits: { acksThrottleMs: 10 } })
    const owner = testDevice()
    relay.ctx.inboxes.set(inboxTopic(owner.deviceId), owner.deviceId)
    const other = relay.connect(testDevice())
    await handleAck(relay.ctx, other.conn, { topic: inboxTopic(owner.deviceId), seq: 1n })
    expect(other.socket.take()).toEqual([{ type: 'error', reqId: 0, code: 'RELAY_FORBIDDEN' }])
    expect(relay.ctx.acks.timer).toBeUndefined()
    handleSubscribe(relay.ctx, other.conn, { reqId: 1, topic, after: 0n, preimage: preimageOf(topic) })
    await tick()
    other.socket.take()
    await handleAck(relay.ctx, other.conn, { topic, seq: 0n })
    cancelAcksPush(relay.ctx)
    await tick(30)
    expect(other.socket.frames).toEqual([])
  })

  test('an ACK from a device that never subscribed to the topic moves nothing and records no recipient', async () => {
    relay = createTestRelay()
    await relay.store.append([entry(1)])
    const stranger = relay.connect(testDevice())
    await handleAck(relay.ctx, stranger.conn, { topic, seq: 1n })
    expect(stranger.socket.take()).toEqual([])
    expect(await relay.store.acks(topic)).toEqual([])
    expect(relay.ctx.acks.timer).toBeUndefined()
  })
})
