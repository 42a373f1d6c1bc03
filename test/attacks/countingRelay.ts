/** Test helper for the relay attacks: a relay over SQLite whose registry syncs are counted, with raw clients on it. */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { RegistryWatcher } from '../../src/chain/registryWatcher.js'
import { type RelayLimits, RelayServer } from '../../src/relay/RelayServer.js'
import { SqliteRelayStore } from '../../src/store/relayStore.js'
import type { ChainContext } from '../utils/anvil.js'
import { RawRelayClient } from './rawRelayClient.js'

/**
 * A relay on port 0 over a fresh SQLite file in `dir`; `counter.syncs` counts the registry syncs made after start;
 * `connect` opens raw clients (optionally from `localAddress`). Everything is stopped by the cleanup it pushes.
 */
export async function startCountingRelay(
  ctx: ChainContext,
  dir: string,
  cleanups: (() => Promise<void> | void)[],
  limits?: Partial<RelayLimits>,
) {
  const store = SqliteRelayStore.open({ path: join(dir, `${randomBytes(4).toString('hex')}.db`) })
  const watcher = new RegistryWatcher({
    publicClient: ctx.publicClient,
    registry: ctx.contracts.keyRegistry,
    fromBlock: ctx.deployBlock,
    pollingInterval: 100,
  })
  const counter = { syncs: 0 }
  const sync = watcher.sync.bind(watcher)
  watcher.sync = () => {
    counter.syncs++
    return sync()
  }
  const server = new RelayServer({
    store,
    watcher,
    chainId: ctx.anvil.chainId,
    registry: ctx.contracts.keyRegistry,
    limits,
  })
  const { url } = await server.start()
  counter.syncs = 0
  const clients: RawRelayClient[] = []
  cleanups.push(async () => {
    for (const c of clients) c.close()
    await server.stop()
    watcher.stop()
    store.close()
  })
  const connect = async (localAddress?: string) => {
    const client = await RawRelayClient.connect(url, localAddress)
    clients.push(client)
    return client
  }
  return { server, store, watcher, counter, connect }
}
