/** Attack (issue 9, item 6): an honest relay must not delete messages for an invitee who has not connected yet. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RegistryWatcher } from '../../src/chain/registryWatcher.js'
import type { Client } from '../../src/client/Client.js'
import { connectClient } from '../../src/client/connect.js'
import { loadDevice } from '../../src/client/identity.js'
import { RelayTransport } from '../../src/client/relayTransport.js'
import { RelayServer } from '../../src/relay/RelayServer.js'
import { SqliteRelayStore } from '../../src/store/relayStore.js'
import { type ChainContext, setupChain } from '../utils/anvil.js'
import { type TestNetwork, testKdf, testNetwork, testPassphrase } from '../utils/clients.js'

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
  dir = mkdtempSync(join(tmpdir(), 'sealpost-attack-retention-'))
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

describe('attack: the relay prunes what an invitee who has not connected yet still needs', () => {
  test('Bob, offline since registering, gets the Welcome and every message after Alice acked them all and prune ran', async () => {
    const aliceHome = mkdtempSync(join(dir, 'alice-'))
    const bobHome = mkdtempSync(join(dir, 'bob-'))
    const alice = await online(1, aliceHome)
    // Bob registers and publishes key packages, then goes offline before anyone talks to him.
    const bobFirst = await online(2, bobHome)
    await bobFirst.close()

    const chat = await alice.conversations.open(bobFirst.account)
    const texts = ['one', 'two', 'three', 'four']
    for (const text of texts) await chat.send(text)
    const topic = chat.id
    const head = store.head(topic)
    expect(head).toBeGreaterThanOrEqual(BigInt(texts.length))

    // Alice's own subscription acks everything on the conversation topic (as her device, over the wire).
    const keys = await loadDevice({ home: aliceHome, passphrase: testPassphrase })
    const transport = await RelayTransport.connect({
      url,
      account: alice.account,
      deviceId: keys.deviceId,
      sign: (m) => keys.signingKey.sign(m),
      expect: { chainId: ctx.anvil.chainId, registry: ctx.contracts.keyRegistry },
    })
    await transport.ack({ topic, cursor: head })
    await expect
      .poll(() => store.acks(topic).find((a) => a.deviceId === alice.deviceId.toLowerCase())?.seq)
      .toBe(head)
    await transport.close()
    // Every device that ever subscribed to the conversation acked it all; an hour passes; retention runs.
    expect(store.acks(topic).every((a) => a.seq === head)).toBe(true)
    skew += 60 * 60 * 1000
    expect(server.prune()).toBe(0)
    expect(store.readAfter(topic, 0n, 100)).toHaveLength(Number(head))

    // Bob comes online for the first time since: the Welcome, then every message.
    const received: string[] = []
    await online(2, bobHome, (bob) => bob.events.on('message', (m) => received.push(m.text)))
    await expect.poll(() => received, { timeout: 20_000 }).toEqual(texts)
  })
})
