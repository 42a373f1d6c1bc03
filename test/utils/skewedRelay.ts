/** Test helper: a relay over SQLite whose clock a test can move forward (retention, expiry), with live clients on it. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { RegistryWatcher } from '../../src/chain/registryWatcher.js'
import type { Client } from '../../src/client/Client.js'
import { connectClient } from '../../src/client/connect.js'
import { type RelayLimits, RelayServer } from '../../src/relay/RelayServer.js'
import { SqliteRelayStore } from '../../src/store/relayStore.js'
import { type ChainContext, setupChain } from './anvil.js'
import { type TestNetwork, testKdf, testNetwork, testPassphrase } from './clients.js'

/**
 * Registers `beforeAll`/`afterAll` hooks that start anvil, a relay whose clock runs `skew` ms ahead of the wall clock
 * (the store stamps envelopes with the wall clock), and stop it all. Read the fields inside tests (after `beforeAll`).
 *
 * @example const relay = skewedRelay('sealpost-relay-expired-'); relay.skew += 61_000; relay.server.prune()
 */
export function skewedRelay(prefix: string, limits?: Partial<RelayLimits>) {
  const clients: Client[] = []
  const relay = {
    ctx: undefined as unknown as ChainContext,
    net: undefined as unknown as TestNetwork,
    dir: '',
    store: undefined as unknown as SqliteRelayStore,
    watcher: undefined as unknown as RegistryWatcher,
    server: undefined as unknown as RelayServer,
    url: '',
    /** Milliseconds the relay's clock runs ahead of the wall clock. */
    skew: 0,
    /** A live client of anvil account `index` under `home`, registered if needed and connected to this relay. */
    async online(index: number, home: string, beforeStart?: (c: Client) => void): Promise<Client> {
      const client = await connectClient({
        account: relay.net.account(index),
        home,
        rpc: relay.ctx.anvil.rpcUrl,
        deployment: relay.net.deployment,
        relay: relay.url,
        passphrase: testPassphrase,
        kdf: testKdf,
        pollingInterval: 200,
        beforeStart,
      })
      clients.push(client)
      return client
    },
  }

  beforeAll(async () => {
    relay.ctx = await setupChain()
    relay.net = testNetwork(relay.ctx)
    relay.dir = mkdtempSync(join(tmpdir(), prefix))
    relay.store = SqliteRelayStore.open({ path: join(relay.dir, 'relay.db') })
    relay.watcher = new RegistryWatcher({
      publicClient: relay.ctx.publicClient,
      registry: relay.ctx.contracts.keyRegistry,
      fromBlock: relay.ctx.deployBlock,
      pollingInterval: 100,
    })
    relay.server = new RelayServer({
      store: relay.store,
      watcher: relay.watcher,
      chainId: relay.ctx.anvil.chainId,
      registry: relay.ctx.contracts.keyRegistry,
      limits,
      now: () => Date.now() + relay.skew,
    })
    ;({ url: relay.url } = await relay.server.start())
    await relay.watcher.start()
  })

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined)
    await relay.net?.cleanup()
    await relay.server?.stop()
    relay.watcher?.stop()
    relay.store?.close()
    await relay.ctx?.stop()
    if (relay.dir) rmSync(relay.dir, { recursive: true, force: true })
  })

  return relay
}
