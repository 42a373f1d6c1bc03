/** What the registry watcher reports: devices added to and revoked from the KeyRegistry (the Keys view). */
import type { RegistryWatcher, RegistryWatcherEvents } from '../../chain/registryWatcher.js'
import type { Collector } from './collector.js'

/**
 * Feeds the hub with KeyRegistry changes as `watcher` sees them.
 *
 * @example const detach = attachWatcher(collector, client.watcher)
 */
export function attachWatcher(collector: Collector, watcher: RegistryWatcher): () => void {
  const { hub } = collector
  const added = (d: RegistryWatcherEvents['device-added'][0]) =>
    hub.emit({
      type: 'device',
      at: Date.now(),
      change: 'added',
      account: d.account,
      deviceId: d.deviceId,
      block: d.addedAt.toString(),
      tx: d.addedTx,
    })
  const revoked = (d: RegistryWatcherEvents['device-revoked'][0]) =>
    hub.emit({
      type: 'device',
      at: Date.now(),
      change: 'revoked',
      account: d.account,
      deviceId: d.deviceId,
      block: (d.revokedAt ?? 0n).toString(),
      ...(d.revokedTx ? { tx: d.revokedTx } : {}),
    })
  watcher.on('device-added', added)
  watcher.on('device-revoked', revoked)
  return () => {
    watcher.off('device-added', added)
    watcher.off('device-revoked', revoked)
  }
}
