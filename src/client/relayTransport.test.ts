import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { type ChainContext, setupChain, type TestWalletClient } from '../../test/utils/anvil.js'
import { registerTestDevice } from '../../test/utils/devices.js'
import { freePort } from '../../test/utils/net.js'
import { preimageOf, testTopic } from '../../test/utils/topics.js'
import { RegistryWatcher } from '../chain/registryWatcher.js'
import { DeviceSigningKey } from '../crypto/p256.js'
import { createEnvelope } from '../protocol/envelope.js'
import { inboxTopic } from '../protocol/topics.js'
import { RelayServer } from '../relay/RelayServer.js'
import { SqliteRelayStore } from '../store/relayStore.js'
import { TopicPreimageUnknownError } from './errors.js'
import {
  RelayAuthError,
  type RelayConnectionState,
  type RelayRequestError,
  RelayTransport,
  RelayUnreachableError,
  TransportClosedError,
} from './relayTransport.js'
import type { Delivery } from './transport.js'

type Device = { key: DeviceSigningKey; account: Hex; deviceId: Hex }

let ctx: ChainContext
let dir: string
let store: SqliteRelayStore
let watcher: RegistryWatcher
let server: RelayServer
let url: string
let alice: Device
let bob: Device
const transports: RelayTransport[] = []

async function registerDevice(wallet: TestWalletClient): Promise<Device> {
  const { deviceId, keys } = await registerTestDevice(ctx, wallet)
  return { key: keys.signingKey, account: wallet.account.address, deviceId }
}

async function connect(device: Device, extra: Partial<Parameters<typeof RelayTransport.connect>[0]> = {}) {
  const transport = await RelayTransport.connect({
    url,
    account: device.account,
    deviceId: device.deviceId,
    sign: (m) => device.key.sign(m),
    expect: { chainId: ctx.anvil.chain.id, registry: ctx.contracts.keyRegistry },
    backoff: { minMs: 20, maxMs: 200 },
    connectTimeoutMs: 5000,
    ...extra,
  })
  transports.push(transport)
  return transport
}

beforeAll(async () => {
  ctx = await setupChain()
  dir = mkdtempSync(join(tmpdir(), 'sealpost-transport-'))
  alice = await registerDevice(ctx.walletClients[1] as TestWalletClient)
  bob = await registerDevice(ctx.walletClients[2] as TestWalletClient)
  store = SqliteRelayStore.open({ path: join(dir, 'relay.db') })
  watcher = new RegistryWatcher({
    publicClient: ctx.publicClient,
    registry: ctx.contracts.keyRegistry,
    fromBlock: ctx.deployBlock,
    pollingInterval: 100,
  })
  server = new RelayServer({
    store,
    watcher,
    chainId: ctx.anvil.chain.id,
    registry: ctx.contracts.keyRegistry,
  })
  ;({ url } = await server.start())
})

afterAll(async () => {
  for (const t of transports) await t.close().catch(() => undefined)
  await server?.stop()
  watcher?.stop()
  store?.close()
  await ctx?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('RelayTransport against a relay on port 0', () => {
  test('authenticates, publishes, replays with pull, delivers live to a subscriber, and takes acks', async () => {
    const states: RelayConnectionState[] = []
    const sender = await connect(alice, { onState: (s) => states.push(s) })
    expect(states).toContain('ready')
    expect(sender.stats()).toMatchObject({ state: 'ready', reconnects: 0 })
    const receiver = await connect(bob)
    const topic = inboxTopic(bob.deviceId)

    const first = createEnvelope({ kind: 'welcome', topic, payload: new TextEncoder().encode('first') })
    const { cursor } = await sender.publish(first)
    expect(cursor).toBeGreaterThan(0n)
    const pulled = await receiver.pull({ topic, after: 0n, limit: 10 })
    expect(pulled.map((d) => [d.envelope.id, d.cursor])).toEqual([[first.id, cursor]])

    const live: Delivery[] = []
    const arrived = new Promise<void>((resolve) => {
      receiver.subscribe({
        topics: [topic],
        after: () => cursor,
        onDelivery: (d) => {
          live.push(d)
          resolve()
        },
      })
    })
    const second = createEnvelope({ kind: 'welcome', topic, payload: new TextEncoder().encode('second') })
    const published = await sender.publish(second)
    await arrived
    expect(live.map((d) => [d.envelope.id, d.cursor])).toEqual([[second.id, published.cursor]])
    await receiver.ack({ topic, cursor: published.cursor })
    expect(await receiver.pull({ topic, after: published.cursor, limit: 10 })).toEqual([])
  })

  test('key packages: put, count, take', async () => {
    const transport = await connect(alice)
    const topic = inboxTopic(alice.deviceId)
    const envelopes = [1, 2].map((n) =>
      createEnvelope({ kind: 'key-package', topic, payload: new TextEncoder().encode(`kp ${n}`) }),
    )
    await transport.putKeyPackages({ deviceId: alice.deviceId, envelopes })
    const other = await connect(bob)
    expect(await other.countKeyPackages({ deviceId: alice.deviceId })).toBe(2)
    const taken = await other.takeKeyPackage({ deviceId: alice.deviceId })
    expect(envelopes.map((e) => e.id)).toContain(taken?.id)
    expect(await other.countKeyPackages({ deviceId: alice.deviceId })).toBe(1)
  })

  test.each([
    ['another chain', () => ({ chainId: 1, registry: ctx.contracts.keyRegistry })],
    ['another registry', () => ({ chainId: ctx.anvil.chain.id, registry: `0x${'11'.repeat(20)}` as Hex })],
    ['no expectation at all (a JavaScript caller)', () => undefined],
  ])('a relay for %s is refused before anything is signed', async (_, expected) => {
    let signed = false
    const err = await connect(alice, {
      expect: expected() as { chainId: number; registry: Hex },
      sign: (m) => {
        signed = true
        return alice.key.sign(m)
      },
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RelayAuthError)
    expect((err as RelayAuthError).wireCode).toBe('WRONG_DEPLOYMENT')
    expect(signed).toBe(false)
  })

  test('a device the registry does not know is refused', async () => {
    const stranger = { ...alice, key: DeviceSigningKey.generate(), deviceId: `0x${'ee'.repeat(32)}` as Hex }
    await expect(connect(stranger)).rejects.toBeInstanceOf(RelayAuthError)
  })

  test('requests pending or made after close are refused with TransportClosedError', async () => {
    const transport = await connect(alice)
    await transport.close()
    await expect(transport.countKeyPackages({ deviceId: alice.deviceId })).rejects.toBeInstanceOf(
      TransportClosedError,
    )
  })
})

describe('RelayTransport over a list of relays', () => {
  test('an unreachable first relay is skipped; an empty list is RelayUnreachableError at once', async () => {
    const dead = `ws://127.0.0.1:${await freePort()}`
    const transport = await connect(alice, { url: [dead, url] })
    expect(transport.urls).toEqual([dead, url])
    expect(transport.stats()).toMatchObject({ state: 'ready', url })
    await expect(connect(alice, { url: [] })).rejects.toBeInstanceOf(RelayUnreachableError)
  })

  test('when its relay dies it fails over to the next, authenticates again and resumes every topic after its cursor: nothing lost, nothing twice', async () => {
    // Relay A shares the store with `server` (relay B), as relays of one cluster share JetStream.
    const watcherA = new RegistryWatcher({
      publicClient: ctx.publicClient,
      registry: ctx.contracts.keyRegistry,
      fromBlock: ctx.deployBlock,
      pollingInterval: 100,
    })
    const relayA = new RelayServer({
      store,
      watcher: watcherA,
      chainId: ctx.anvil.chain.id,
      registry: ctx.contracts.keyRegistry,
    })
    const { url: urlA } = await relayA.start()
    const receiver = await connect(bob, { url: [urlA, url] })
    // Two servers on one SQLite store do not deliver live across each other (a cluster's relays do): both start on A.
    const sender = await connect(alice, { url: [urlA, url] })
    const topic = inboxTopic(bob.deviceId)
    const after = await receiver.pull({ topic, after: 0n, limit: 10_000 })
    const from = after.at(-1)?.cursor ?? 0n
    const got: Delivery[] = []
    receiver.subscribe({ topics: [topic], after: () => from, onDelivery: (d) => got.push(d) })
    const send = async (text: string) =>
      (
        await sender.publish(
          createEnvelope({ kind: 'welcome', topic, payload: new TextEncoder().encode(text) }),
        )
      ).cursor
    const first = await send('before')
    await vi.waitFor(() => expect(got).toHaveLength(1), { timeout: 10_000, interval: 20 })
    await relayA.stop() // every socket of A is terminated
    watcherA.stop()
    const missed = await send('while failing over')
    await vi.waitFor(() => expect(receiver.stats()).toMatchObject({ state: 'ready', url }), {
      timeout: 10_000,
      interval: 20,
    })
    const last = await send('after')
    await vi.waitFor(() => expect(got).toHaveLength(3), { timeout: 10_000, interval: 20 })
    expect(receiver.stats()).toMatchObject({ url, reconnects: 1 })
    expect(got.map((d) => d.cursor)).toEqual([first, missed, last])
  })
})

describe('RelayTransport and the relay registry look-up budget', () => {
  let clock = Date.now()
  let limitedStore: SqliteRelayStore
  let limitedWatcher: RegistryWatcher
  let limited: RelayServer
  let limitedUrl: string
  const rejected: string[] = []

  beforeAll(async () => {
    limitedStore = SqliteRelayStore.open({ path: join(dir, 'limited.db') })
    // Not polling: a device registered after start is known only after a look-up.
    limitedWatcher = new RegistryWatcher({
      publicClient: ctx.publicClient,
      registry: ctx.contracts.keyRegistry,
      fromBlock: ctx.deployBlock,
      pollingInterval: 100,
    })
    limited = new RelayServer({
      store: limitedStore,
      watcher: limitedWatcher,
      chainId: ctx.anvil.chain.id,
      registry: ctx.contracts.keyRegistry,
      // The tests refill the look-up budget by moving the clock a minute; challenges outlive those jumps.
      limits: {
        registryLookupsPerIpPerMinute: 1,
        registrySyncIntervalMs: 10,
        challengeTtlMs: 10 * 60_000,
        maxSubscriptionsPerConnection: 2,
      },
      now: () => clock,
    })
    limited.on('rejected', ({ code }) => rejected.push(code))
    ;({ url: limitedUrl } = await limited.start())
  })

  afterAll(async () => {
    await limited?.stop()
    limitedWatcher?.stop()
    limitedStore?.close()
  })

  test('an AUTH refused with RELAY_LOOKUP_LIMITED is transient: the transport reconnects with backoff and gets in', async () => {
    const stranger = { ...alice, key: DeviceSigningKey.generate(), deviceId: `0x${'ef'.repeat(32)}` as Hex }
    await expect(connect(stranger, { url: limitedUrl })).rejects.toBeInstanceOf(RelayAuthError) // spends the look-up
    const carol = await registerDevice(ctx.walletClients[3] as TestWalletClient) // the relay has not synced it
    const states: RelayConnectionState[] = []
    const connecting = connect(carol, {
      url: limitedUrl,
      connectTimeoutMs: 10_000,
      onState: (s) => states.push(s),
    })
    await expect.poll(() => states.filter((s) => s === 'disconnected').length).toBeGreaterThanOrEqual(2)
    expect(rejected).toContain('RELAY_LOOKUP_LIMITED')
    clock += 60_000 // the budget refills
    const transport = await connecting
    expect(transport.state).toBe('ready')
  })

  test("SUBSCRIBE v2 carries the topic's preimage; none, another device's inbox, and running out of retries end it with a typed error", async () => {
    const a = await connect(alice, { url: limitedUrl, subscribeRetry: { minMs: 5, maxMs: 10, attempts: 2 } })
    const b = await connect(bob, { url: limitedUrl })
    const topic = testTopic()
    const envelope = createEnvelope({ kind: 'application', topic, payload: Uint8Array.of(7) })
    await b.publish(envelope)
    const delivered: Delivery[] = []
    a.subscribe({ topics: [topic], preimage: preimageOf, onDelivery: (d) => delivered.push(d) })
    await expect.poll(() => delivered.map((d) => d.envelope.id)).toEqual([envelope.id])

    const errors: [Hex, unknown][] = []
    const onError = (t: Hex, e: unknown) => errors.push([t, e])
    const before = rejected.length
    // No preimage: refused here, nothing is sent.
    const unknown = testTopic()
    a.subscribe({ topics: [unknown], onDelivery: () => undefined, onError })
    await expect.poll(() => errors).toHaveLength(1)
    expect(errors[0]).toEqual([unknown, expect.any(TopicPreimageUnknownError)])
    await expect(a.pull({ topic: unknown, after: 0n })).rejects.toBeInstanceOf(TopicPreimageUnknownError)
    // Another device's inbox, named as what it is: the relay refuses it.
    const bobInbox = inboxTopic(bob.deviceId)
    const bobPreimage = () => ({ kind: 'inbox', deviceId: bob.deviceId }) as const
    a.subscribe({ topics: [bobInbox], preimage: bobPreimage, onDelivery: () => undefined, onError })
    await expect.poll(() => errors).toHaveLength(2)
    expect(errors[1]![0]).toBe(bobInbox)
    expect((errors[1]![1] as RelayRequestError).wireCode).toBe('RELAY_FORBIDDEN')
    // The own inbox needs no resolver: the transport knows its preimage.
    expect(await a.pull({ topic: inboxTopic(alice.deviceId), after: 0n })).toEqual([])
    // A third topic is over this relay's per-connection limit: transient, retried twice, then given up.
    const third = testTopic()
    a.subscribe({ topics: [third], preimage: preimageOf, onDelivery: () => undefined, onError })
    await expect.poll(() => errors).toHaveLength(3)
    expect((errors[2]![1] as RelayRequestError).wireCode).toBe('RELAY_RATE_LIMITED')
    expect(rejected.slice(before).filter((c) => c === 'RELAY_RATE_LIMITED')).toHaveLength(3)
    expect(a.stats().subscriptions).toBe(2)
  })
})
