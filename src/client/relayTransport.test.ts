import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type ChainContext, setupChain, type TestWalletClient } from '../../test/utils/anvil.js'
import { registerTestDevice } from '../../test/utils/devices.js'
import { RegistryWatcher } from '../chain/registryWatcher.js'
import { DeviceSigningKey } from '../crypto/p256.js'
import { createEnvelope } from '../protocol/envelope.js'
import { inboxTopic } from '../protocol/topics.js'
import { RelayServer } from '../relay/RelayServer.js'
import { SqliteRelayStore } from '../store/relayStore.js'
import {
  RelayAuthError,
  type RelayConnectionState,
  RelayTransport,
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
