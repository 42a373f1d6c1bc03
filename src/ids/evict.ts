/** Eviction of entity state: the engine's tables stay bounded under a flood of distinct ids, least recent first. */

import type { Models, UnivariateName } from './detectors.js'
import { DEVICE_FEATURES } from './window.js'

/**
 * Drops the oldest entries of `table` (insertion order: the tables are touched on use, so oldest is least recently
 * used) until at most `max` remain; returns how many it dropped.
 *
 * @example trimOldest(new Map([['a', 1], ['b', 2]]), 1) // 1, leaves b
 */
export function trimOldest(table: Map<string, unknown> | Set<string>, max: number): number {
  let dropped = 0
  for (const key of table.keys()) {
    if (table.size <= max) break
    table.delete(key)
    dropped += 1
  }
  return dropped
}

/**
 * Bounds every per-entity table at `max` entries: known devices (a device dropped takes its baselines and sliding
 * sums with it), relays, each model's baselines and sliding sums (IPs, senders), accounts' known peers, and revoked
 * devices. What goes is what has been quiet longest (devices by their baselines' last activity; baselines and peers
 * are kept in order of last use; relays first seen first); a device that comes back is judged against the
 * population again, like a new one. Revoked devices go oldest revocation first. Returns the number dropped.
 *
 * @example engine.stats.evicted += evictEntities(models, peers, revoked, 100_000)
 */
export function evictEntities(
  models: Models,
  peers: Map<string, Set<string>>,
  revoked: Set<string>,
  max: number,
): number {
  let dropped = 0
  // Devices are scored in the order first seen (the multivariate model learns in that order), so their recency is
  // the last activity their baselines recorded, not the set's order.
  const lastActive = (device: string) => {
    let t = 0
    for (const f of DEVICE_FEATURES)
      t = Math.max(t, models.baselines[`device.${f}` as UnivariateName].stats.get(`device:${device}`)?.T ?? 0)
    return t
  }
  const quietest =
    models.devices.size > max
      ? [...models.devices]
          .map((d) => [d, lastActive(d)] as const)
          .sort((a, b) => a[1] - b[1])
          .slice(0, models.devices.size - max)
      : []
  for (const [device] of quietest) {
    models.devices.delete(device)
    for (const f of DEVICE_FEATURES) {
      const name = `device.${f}` as UnivariateName
      models.baselines[name].stats.delete(`device:${device}`)
      models.carry[name].delete(`device:${device}`)
    }
    dropped += 1
  }
  for (const relay of models.relays) {
    if (models.relays.size <= max) break
    models.relays.delete(relay)
    models.baselines['relay.seqGaps'].stats.delete(`relay:${relay}`)
    models.carry['relay.seqGaps'].delete(`relay:${relay}`)
    dropped += 1
  }
  for (const name of Object.keys(models.baselines) as UnivariateName[]) {
    dropped += trimOldest(models.baselines[name].stats, max)
    dropped += trimOldest(models.carry[name], max)
  }
  dropped += trimOldest(peers, max)
  dropped += trimOldest(revoked, max)
  return dropped
}
