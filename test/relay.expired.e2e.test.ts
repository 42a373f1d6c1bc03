/** Expiry reported to the sender (issue 9, item 6): a message its recipient never acked expires at the relay. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RegistryWatcher } from '../src/chain/registryWatcher.js'
import type { Client } from '../src/client/Client.js'
import { connectClient } from '../src/client/connect.js'
import { loadDevice } from '../src/client/identity.js'
import { RelayTransport } from '../src/client/relayTransport.js'
import type { ExpiryNotice } from '../src/client/transport.js'
import type { ExpiredEvent } from '../src/client/types.js'
import { RelayServer } from '../src/relay/RelayServer.js'
import { SqliteRelayStore } from '../src/store/relayStore.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type TestNetwork, testKdf, testNetwork, testPassphrase } from './utils/clients.js'

const RETENTION_MS = 60_000

let ctx: ChainContext
let net: TestNetwork
let dir: string
let store: SqliteRelayStore
let watcher: RegistryWatcher
let server: RelayServer
let url: string
/** The relay's clock runs `skew` ms ahead of the wall clock (the store stamps envelopes with the wall clock). */
let skew = 0
const clients: Client[] = []

beforeAll(async () => {
  ctx = await setupChain()
  net = testNetwork(ctx)
  dir = mkdtempSync(join(tmpdir(), 'sealpost-relay-expired-'))
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
    chainId: ctx.anvil.chainId,
    registry: ctx.contracts.keyRegistry,
    // A one-minute retention, run by hand (server.prune()) with the relay's clock moved forward.
    limits: { retentionMs: RETENTION_MS, pruneIntervalMs: 60 * 60 * 1000 },
    now: () => Date.now() + skew,
  })
  ;({ url } = await server.start())
  await watcher.start()
})

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined)
  await net?.cleanup()
  await server?.stop()
  watcher?.stop()
  store?.close()
  await ctx?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function online(index: number, home: string, beforeStart?: (c: Client) => void): Promise<Client> {
  const client = await connectClient({
    account: net.account(index),
    home,
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    relay: url,
    passphrase: testPassphrase,
    kdf: testKdf,
    pollingInterval: 200,
    beforeStart,
  })
  clients.push(client)
  return client
}

describe('expiry is reported to the sender', () => {
  test("a message Bob never acks expires; Alice's client emits `expired` once, also when the relay repeats the notice", async () => {
    const aliceHome = mkdtempSync(join(dir, 'alice-'))
    const bobHome = mkdtempSync(join(dir, 'bob-'))
    const alice = await online(1, aliceHome)
    const bob = await online(2, bobHome)
    const joined = new Promise((resolve) => bob.events.once('joined', resolve))
    const chat = await alice.conversations.open(bob.account)
    await joined // Bob processed the Welcome and subscribes to the conversation
    const bobDevice = bob.deviceId.toLowerCase()
    await expect.poll(() => store.acks(chat.id).map((a) => a.deviceId)).toContain(bobDevice)
    await bob.close() // and never comes back: he never acks what follows
    const sent = await chat.send('are you there?')
    const expired: ExpiredEvent[] = []
    alice.events.on('expired', (e) => expired.push(e))

    skew += RETENTION_MS + 1000
    expect(server.prune()).toBeGreaterThanOrEqual(1)
    await expect.poll(() => expired.filter((e) => e.id === sent.id)).toHaveLength(1)
    expect(expired.find((e) => e.id === sent.id)).toEqual({
      id: sent.id,
      conversation: chat.id,
      seq: sent.cursor,
      expiredAt: expect.any(Number),
      recipients: [bobDevice],
      state: 'accepted', // not delivered (Bob never acked); the lifecycle has no expired state
    })
    expect(alice.messages.get(sent.id)?.state).toBe('accepted') // unchanged by the expiry

    // The relay repeats the notice after every AUTH (here on a second connection of Alice's device) ...
    const keys = await loadDevice({ home: aliceHome, passphrase: testPassphrase })
    const transport = await RelayTransport.connect({
      url,
      account: alice.account,
      deviceId: keys.deviceId,
      sign: (m) => keys.signingKey.sign(m),
      expect: { chainId: ctx.anvil.chainId, registry: ctx.contracts.keyRegistry },
    })
    const repeated: ExpiryNotice[] = []
    transport.onExpired((n) => repeated.push(n))
    await expect.poll(() => repeated.map((n) => n.id)).toContain(sent.id)
    await transport.close()
    // ... and to Alice's restarted client, which has recorded it: no second event.
    await alice.close()
    const again: ExpiredEvent[] = []
    const restarted = await online(1, aliceHome, (c) => c.events.on('expired', (e) => again.push(e)))
    await expect.poll(() => restarted.messages.list({ conversation: chat.id }).length).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(again.filter((e) => e.id === sent.id)).toEqual([])
  })
})
