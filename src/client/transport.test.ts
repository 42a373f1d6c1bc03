import type { Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { UsageError } from '../errors.js'
import { createEnvelope, type Envelope } from '../protocol/envelope.js'
import { type Delivery, MemoryHub, NoTransportError, offlineTransport, type Transport } from './transport.js'

const TOPIC_A: Hex = `0x${'aa'.repeat(32)}`
const TOPIC_B: Hex = `0x${'bb'.repeat(32)}`
const DEVICE_1: Hex = `0x${'d1'.repeat(32)}`
const DEVICE_2: Hex = `0x${'d2'.repeat(32)}`

const envelope = (topic: Hex, text: string, kind: Envelope['kind'] = 'application') =>
  createEnvelope({ kind, topic, payload: new TextEncoder().encode(text) })
const text = (d: Delivery) => new TextDecoder().decode(d.envelope.payload)
/** Lets queued microtasks (live deliveries) run. */
const flush = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('MemoryHub: publish and pull', () => {
  test('cursors start at 1 and increase per topic', async () => {
    const t = new MemoryHub().connect()
    expect(await t.publish(envelope(TOPIC_A, 'a1'))).toEqual({ cursor: 1n })
    expect(await t.publish(envelope(TOPIC_A, 'a2'))).toEqual({ cursor: 2n })
    expect(await t.publish(envelope(TOPIC_B, 'b1'))).toEqual({ cursor: 1n })
    expect(await t.publish(envelope(TOPIC_A, 'a3'))).toEqual({ cursor: 3n })
  })

  test('pull returns the envelopes after a cursor, in order, honouring limit', async () => {
    const t = new MemoryHub().connect()
    for (let i = 1; i <= 5; i++) await t.publish(envelope(TOPIC_A, `a${i}`))
    await t.publish(envelope(TOPIC_B, 'b1'))

    const all = await t.pull({ topic: TOPIC_A, after: 0n })
    expect(all.map((d) => d.cursor)).toEqual([1n, 2n, 3n, 4n, 5n])
    expect(all.map(text)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5'])
    expect(all.every((d) => d.topic === TOPIC_A)).toBe(true)

    const after2 = await t.pull({ topic: TOPIC_A, after: 2n, limit: 2 })
    expect(after2.map((d) => [d.cursor, text(d)])).toEqual([
      [3n, 'a3'],
      [4n, 'a4'],
    ])
    expect(await t.pull({ topic: TOPIC_A, after: 5n })).toEqual([])
    expect(await t.pull({ topic: `0x${'cc'.repeat(32)}`, after: 0n })).toEqual([])
    expect((await t.pull({ topic: TOPIC_B, after: 0n })).map(text)).toEqual(['b1'])
  })

  test('every connection of a hub sees the same log', async () => {
    const hub = new MemoryHub()
    const alice = hub.connect()
    const bob = hub.connect()
    const sent = envelope(TOPIC_A, 'hi')
    await alice.publish(sent)
    const [d] = await bob.pull({ topic: TOPIC_A, after: 0n })
    expect(d?.envelope).toEqual(sent)
    expect(hub.deliveries(TOPIC_A)).toHaveLength(1)
    // Another hub is another network.
    expect(await new MemoryHub().connect().pull({ topic: TOPIC_A, after: 0n })).toEqual([])
  })

  test('publishing the same envelope twice is idempotent: same cursor, one delivery', async () => {
    const hub = new MemoryHub()
    const t = hub.connect()
    const live: Delivery[] = []
    t.subscribe({ topics: [TOPIC_A], onDelivery: (d) => live.push(d) })
    const e = envelope(TOPIC_A, 'once')
    const first = await t.publish(e)
    await t.publish(envelope(TOPIC_A, 'other'))
    const second = await hub
      .connect()
      .publish(createEnvelope({ kind: e.kind, topic: e.topic, payload: e.payload }))
    expect(second).toEqual(first)
    await flush()
    expect(live.map(text)).toEqual(['once', 'other'])
    expect((await t.pull({ topic: TOPIC_A, after: 0n })).map(text)).toEqual(['once', 'other'])
  })

  test('the same payload on another topic or of another kind is a different envelope', async () => {
    const t = new MemoryHub().connect()
    await t.publish(envelope(TOPIC_A, 'x', 'application'))
    expect(await t.publish(envelope(TOPIC_A, 'x', 'commit'))).toEqual({ cursor: 2n })
    expect(await t.publish(envelope(TOPIC_B, 'x', 'application'))).toEqual({ cursor: 1n })
  })

  test('ack resolves and does not remove anything from the log', async () => {
    const t = new MemoryHub().connect()
    await t.publish(envelope(TOPIC_A, 'a1'))
    await expect(t.ack({ topic: TOPIC_A, cursor: 1n })).resolves.toBeUndefined()
    expect(await t.pull({ topic: TOPIC_A, after: 0n })).toHaveLength(1)
  })
})

describe('MemoryHub: subscribe', () => {
  test('delivers live only on subscribed topics, and unsubscribe stops it', async () => {
    const hub = new MemoryHub()
    const sender = hub.connect()
    const receiver = hub.connect()
    const live: Delivery[] = []
    const unsubscribe = receiver.subscribe({ topics: [TOPIC_A], onDelivery: (d) => live.push(d) })

    await sender.publish(envelope(TOPIC_A, 'a1'))
    await sender.publish(envelope(TOPIC_B, 'b1'))
    await sender.publish(envelope(TOPIC_A, 'a2'))
    await flush()
    expect(live.map((d) => [d.topic, d.cursor, text(d)])).toEqual([
      [TOPIC_A, 1n, 'a1'],
      [TOPIC_A, 2n, 'a2'],
    ])

    unsubscribe()
    await sender.publish(envelope(TOPIC_A, 'a3'))
    await flush()
    expect(live).toHaveLength(2)
    expect((await receiver.pull({ topic: TOPIC_A, after: 2n })).map(text)).toEqual(['a3'])
  })

  test('a subscription on several topics gets each; two subscribers each get their own copy', async () => {
    const hub = new MemoryHub()
    const t = hub.connect()
    const both: string[] = []
    const onlyB: string[] = []
    t.subscribe({ topics: [TOPIC_A, TOPIC_B], onDelivery: (d) => both.push(text(d)) })
    hub.connect().subscribe({ topics: [TOPIC_B], onDelivery: (d) => onlyB.push(text(d)) })
    await t.publish(envelope(TOPIC_A, 'a1'))
    await t.publish(envelope(TOPIC_B, 'b1'))
    await flush()
    expect(both).toEqual(['a1', 'b1'])
    expect(onlyB).toEqual(['b1'])
  })

  test('live delivery is asynchronous: publish resolves before the listener runs', async () => {
    const t = new MemoryHub().connect()
    const live: string[] = []
    t.subscribe({ topics: [TOPIC_A], onDelivery: (d) => live.push(text(d)) })
    const published = t.publish(envelope(TOPIC_A, 'a1'))
    expect(live).toEqual([])
    await published
    await flush()
    expect(live).toEqual(['a1'])
  })
})

describe('MemoryHub: key packages', () => {
  test('consumed FIFO per device and counted', async () => {
    const hub = new MemoryHub()
    const owner = hub.connect()
    const peer = hub.connect()
    const kps = [1, 2, 3].map((i) => envelope(TOPIC_A, `kp${i}`, 'key-package'))
    await owner.putKeyPackages({ deviceId: DEVICE_1, envelopes: kps.slice(0, 2) })
    await owner.putKeyPackages({ deviceId: DEVICE_1, envelopes: kps.slice(2) })
    await owner.putKeyPackages({ deviceId: DEVICE_2, envelopes: [envelope(TOPIC_B, 'other', 'key-package')] })

    expect(await peer.countKeyPackages({ deviceId: DEVICE_1 })).toBe(3)
    expect(await peer.takeKeyPackage({ deviceId: DEVICE_1 })).toEqual(kps[0])
    expect(await peer.takeKeyPackage({ deviceId: DEVICE_1 })).toEqual(kps[1])
    expect(await peer.countKeyPackages({ deviceId: DEVICE_1 })).toBe(1)
    expect(await peer.takeKeyPackage({ deviceId: DEVICE_1 })).toEqual(kps[2])
    expect(await peer.takeKeyPackage({ deviceId: DEVICE_1 })).toBeUndefined()
    expect(await peer.countKeyPackages({ deviceId: DEVICE_1 })).toBe(0)
    expect(await peer.countKeyPackages({ deviceId: DEVICE_2 })).toBe(1)
  })

  test('an unknown device has none', async () => {
    const t = new MemoryHub().connect()
    expect(await t.countKeyPackages({ deviceId: DEVICE_1 })).toBe(0)
    expect(await t.takeKeyPackage({ deviceId: DEVICE_1 })).toBeUndefined()
  })
})

describe('offlineTransport', () => {
  const e = envelope(TOPIC_A, 'x')
  const calls: [string, (t: Transport) => Promise<unknown>][] = [
    ['publish', (t) => t.publish(e)],
    ['pull', (t) => t.pull({ topic: TOPIC_A, after: 0n })],
    ['ack', (t) => t.ack({ topic: TOPIC_A, cursor: 1n })],
    ['putKeyPackages', (t) => t.putKeyPackages({ deviceId: DEVICE_1, envelopes: [e] })],
    ['takeKeyPackage', (t) => t.takeKeyPackage({ deviceId: DEVICE_1 })],
    ['countKeyPackages', (t) => t.countKeyPackages({ deviceId: DEVICE_1 })],
  ]

  test.each(calls)('%s rejects with NoTransportError', async (_, call) => {
    const err = await call(offlineTransport).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(err).toBeInstanceOf(NoTransportError)
    expect(err).toBeInstanceOf(UsageError)
    expect((err as NoTransportError).code).toBe('SEALPOST_NO_TRANSPORT')
    expect((err as NoTransportError).name).toBe('NoTransportError')
  })

  test('subscribe throws NoTransportError synchronously', () => {
    expect(() => offlineTransport.subscribe({ topics: [TOPIC_A], onDelivery: () => {} })).toThrow(
      NoTransportError,
    )
    expect(new NoTransportError().message).toMatchInlineSnapshot(
      `"No message transport is configured for this client."`,
    )
  })
})
