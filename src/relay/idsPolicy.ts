/** The relay's IDS response: a quarantined device's publishes refused, a throttled IP or device slowed (docs/ids.md §4a). */
import type { Hex } from 'viem'
import type { ResponseLog } from '../ids/responseLog.js'
import type { ClientFrameType, RelayErrorCode } from '../protocol/relayFrames.js'

/**
 * What the relay asks before handling a frame: the wire code that refuses it, or undefined.
 *
 * @example const code = policy.refusal({ ip: '10.0.0.9', deviceId: undefined }, 'auth', Date.now())
 */
export type RelayIdsPolicy = {
  refusal(
    conn: { ip: string; deviceId: Hex | undefined },
    type: ClientFrameType,
    now: number,
  ): RelayErrorCode | undefined
}

/**
 * A policy over a response log: PUBLISH and LEAF of a quarantined device get `RELAY_QUARANTINED` (reading stays
 * allowed, so the person sees what happens); a throttled IP or device gets one frame per `intervalMs`, the others
 * `RELAY_RATE_LIMITED` (a transient code clients retry with backoff).
 *
 * @example new RelayServer({ …, idsPolicy: relayIdsPolicy({ log: ids.responses, intervalMs: 10_000 }) })
 */
export function relayIdsPolicy({
  log,
  intervalMs,
}: {
  log: ResponseLog
  intervalMs: number
}): RelayIdsPolicy {
  const last = new Map<string, number>()
  const throttled = (entity: string, now: number): boolean => {
    if (log.throttledUntil(entity, now) === undefined) {
      last.delete(entity) // a throttle that ended leaves nothing behind
      return false
    }
    const prev = last.get(entity)
    if (prev !== undefined && now - prev < intervalMs) return true
    last.set(entity, now)
    return false
  }
  return {
    refusal({ ip, deviceId }, type, now) {
      if (log.idle) {
        if (last.size > 0) last.clear() // every throttle ended or was lifted
        return undefined // the common case costs one check per frame
      }
      const device = deviceId && `device:${deviceId}`
      if (device && (type === 'publish' || type === 'leaf') && log.isQuarantined(device))
        return 'RELAY_QUARANTINED'
      if (throttled(`ip:${ip}`, now) || (device !== undefined && throttled(device, now)))
        return 'RELAY_RATE_LIMITED'
      return undefined
    },
  }
}
