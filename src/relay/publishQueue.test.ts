import type { Hex } from 'viem'
import { afterEach, describe, expect, test } from 'vitest'
import { createTestRelay, type TestRelay, testDevice, tick } from '../../test/utils/relayContext.js'
import { preimageOf, testTopic } from '../../test/utils/topics.js'
import { decodeIdsEvent, type IdsEvent } from '../ids/events.js'
import { accumulate, DEVICE_FEATURES, newWindow } from '../ids/window.js'
import { createEnvelope, encodeEnvelope } from '../protocol/envelope.js'
import { RelayInternalError } from './errors.js'
import { enqueuePublish, flushPublishes, handlePublish, SYSTEM_PUBLISHER } from './publishQueue.js'
import { handleSubscribe } from './topics.js'

let relay: TestRelay | undefined
afterEach(() => relay?.close())

const topicA: Hex = testTopic(0xa0)
const topicB: Hex = `0x${'b0'.repeat(32)}`
const envelope = (topic: Hex, text: string) =>
  encodeEnvelope(createEnvelope({ kind: 'application', topic, payload: new TextEncoder().encode(text) }))

/** Alice and Bob connected, and a reader subscribed to topic A (its replay answered). */
async function twoPublishersAndAReader(relay: TestRelay) {
  const [alice, bob, reader] = [0, 1, 2].map(() => relay.connect(testDevice())) as [
    ReturnType<TestRelay['connect']>,
    ReturnType<TestRelay['connect']>,
    ReturnType<TestRelay['connect']>,
  ]
  handleSubscribe(relay.ctx, reader.conn, {
    reqId: 1,
    topic: topicA,
    after: 0n,
    preimage: preimageOf(topicA),
  })
  await tick()
  return { alice, bob, reader }
}

describe('publish queue', () => {
  test('publishes of one turn commit together, in arrival order, then OK and DELIVER in that order', async () => {
    relay = createTestRelay()
    let appends = 0
    const append = relay.store.append.bind(relay.store)
    relay.store.append = (entries) => {
      appends++
      return append(entries)
    }
    const { alice, bob, reader } = await twoPublishersAndAReader(relay)
    reader.socket.take()
    const published: unknown[] = []
    relay.events.on('published', (e) => published.push([e.topic, e.seq, e.publisher]))
    handlePublish(relay.ctx, alice.conn, { reqId: 1, envelope: envelope(topicA, 'a1') })
    handlePublish(relay.ctx, bob.conn, { reqId: 7, envelope: envelope(topicA, 'b1') })
    handlePublish(relay.ctx, alice.conn, { reqId: 2, envelope: envelope(topicB, 'a2') })
    handlePublish(relay.ctx, alice.conn, { reqId: 3, envelope: envelope(topicA, 'a3') })
    expect(alice.socket.frames).toEqual([]) // nothing is answered before the commit
    await tick()
    expect(appends).toBe(1)
    expect(alice.socket.take()).toEqual([
      { type: 'ok', reqId: 1, value: 1n },
      { type: 'ok', reqId: 2, value: 1n },
      { type: 'ok', reqId: 3, value: 3n },
    ])
    expect(bob.socket.take()).toEqual([{ type: 'ok', reqId: 7, value: 2n }])
    expect(reader.socket.take().map((f) => (f.type === 'deliver' ? f.seq : -1n))).toEqual([1n, 2n, 3n])
    expect(published).toEqual([
      [topicA, 1n, alice.conn.deviceId],
      [topicA, 2n, bob.conn.deviceId],
      [topicB, 1n, alice.conn.deviceId],
      [topicA, 3n, alice.conn.deviceId],
    ])
    expect(relay.ctx.publishes.pending).toEqual([])
  })

  test('envelopes of the same commit count against maxQueueDepth; invalid ones are refused at once', async () => {
    relay = createTestRelay({ limits: { maxQueueDepth: 2 } })
    const { conn, socket } = relay.connect(testDevice())
    for (let i = 1; i <= 3; i++)
      handlePublish(relay.ctx, conn, { reqId: i, envelope: envelope(topicA, `m${i}`) })
    handlePublish(relay.ctx, conn, { reqId: 4, envelope: Uint8Array.of(1, 2, 3) })
    expect(socket.take()).toEqual([{ type: 'error', reqId: 4, code: 'RELAY_ENVELOPE_INVALID' }])
    await tick()
    expect(socket.take()).toEqual([
      { type: 'error', reqId: 3, code: 'RELAY_QUEUE_FULL' },
      { type: 'ok', reqId: 1, value: 1n },
      { type: 'ok', reqId: 2, value: 2n },
    ])
    // The stored ones count in the next commit.
    handlePublish(relay.ctx, conn, { reqId: 5, envelope: envelope(topicA, 'm5') })
    await tick()
    expect(socket.take()).toEqual([{ type: 'error', reqId: 5, code: 'RELAY_QUEUE_FULL' }])
  })

  test("the relay's own envelopes resolve with their seq; a failed commit answers RELAY_INTERNAL to all", async () => {
    relay = createTestRelay()
    const bytes = envelope(topicA, 'receipt')
    const id = `0x${Buffer.from(bytes.subarray(36, 68)).toString('hex')}` as Hex
    const seq = new Promise<bigint>((resolve, reject) =>
      enqueuePublish(relay!.ctx, {
        conn: undefined,
        reqId: 0,
        entry: { topic: topicA, id, bytes, publisher: SYSTEM_PUBLISHER },
        kind: 'receipt',
        resolve,
        reject,
      }),
    )
    flushPublishes(relay.ctx) // as stop() does: no need to wait for the turn to end
    expect(await seq).toBe(1n)

    const { conn, socket } = relay.connect(testDevice())
    relay.store.append = () => {
      throw new Error('disk full')
    }
    const errors: unknown[] = []
    relay.events.on('error', (e) => errors.push(e))
    handlePublish(relay.ctx, conn, { reqId: 9, envelope: envelope(topicB, 'lost') })
    const failed = new Promise<bigint>((resolve, reject) =>
      enqueuePublish(relay!.ctx, {
        conn: undefined,
        reqId: 0,
        entry: { topic: topicB, id, bytes, publisher: SYSTEM_PUBLISHER },
        kind: 'receipt',
        resolve,
        reject,
      }),
    )
    await expect(failed).rejects.toBeInstanceOf(RelayInternalError)
    expect(socket.take()).toEqual([{ type: 'error', reqId: 9, code: 'RELAY_INTERNAL' }])
    expect(errors).toHaveLength(1)
  })

  test('the IDS hears one publish event per device and topic per commit, its count the publishes it stands for', async () => {
    const heard: IdsEvent[] = []
    relay = createTestRelay({ ids: { emit: (e) => void heard.push(e) } })
    const { alice, bob } = await twoPublishersAndAReader(relay)
    heard.length = 0
    for (let i = 1; i <= 5; i++)
      handlePublish(relay.ctx, alice.conn, { reqId: i, envelope: envelope(topicA, `a${i}`) })
    handlePublish(relay.ctx, alice.conn, { reqId: 6, envelope: envelope(topicB, 'b') })
    handlePublish(relay.ctx, bob.conn, { reqId: 1, envelope: envelope(topicA, 'c') })
    handlePublish(relay.ctx, alice.conn, { reqId: 7, envelope: envelope(topicA, 'a1') }) // a duplicate: not counted
    await tick()
    const account = (d: typeof alice) => d.conn.account!.toLowerCase()
    const base = { v: 1, src: 'relay', kind: 'publish' }
    expect(heard.map(({ t: _t, ...e }) => e)).toEqual([
      {
        ...base,
        device: alice.conn.deviceId,
        account: account(alice),
        topic: topicA,
        recipients: 5,
        bytes: 5 * envelope(topicA, 'a1').length,
        count: 5,
      },
      {
        ...base,
        device: alice.conn.deviceId,
        account: account(alice),
        topic: topicB,
        recipients: 0,
        bytes: envelope(topicB, 'b').length,
      },
      {
        ...base,
        device: bob.conn.deviceId,
        account: account(bob),
        topic: topicA,
        recipients: 1,
        bytes: envelope(topicA, 'c').length,
      },
    ])
    // The window counts the folded event as the five publishes it stands for (and its topic as one new peer).
    const w = newWindow(0)
    for (const e of heard) accumulate(w, decodeIdsEvent(e), new Map())
    const feature = (d: typeof alice, f: (typeof DEVICE_FEATURES)[number]) =>
      w.devices.get(d.conn.deviceId!)![DEVICE_FEATURES.indexOf(f)]
    expect([feature(alice, 'publishes'), feature(alice, 'fanout'), feature(bob, 'publishes')]).toEqual([
      6, 5, 1,
    ])
  })
})
