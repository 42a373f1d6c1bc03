/** Response policy: which alert categories throttle an IP or device, or quarantine a device (docs/ids.md §4a). */
import type { Alert, AlertCategory } from './alerts.js'

/**
 * What the relay does about an alert. `throttle` limits an IP or device to one frame per `throttleIntervalMs` for
 * `throttleMs`; `quarantine` refuses a device's publishes (`RELAY_QUARANTINED`) until an operator lifts it.
 *
 * @example const p: ResponsePolicy = { ...DEFAULT_RESPONSE_POLICY, quarantine: ['compromised-device'] }
 */
export type ResponsePolicy = {
  /** Categories whose alerts throttle the IPs they name. */
  throttleIp: AlertCategory[]
  /** Categories whose alerts throttle the devices they name. */
  throttleDevice: AlertCategory[]
  /** Categories whose alerts quarantine the devices they name, pending review. */
  quarantine: AlertCategory[]
  /** How long a throttle lasts (default 15 min). */
  throttleMs: number
  /** A throttled IP or device gets one frame per this interval (default 10 s); the rest `RELAY_RATE_LIMITED`. */
  throttleIntervalMs: number
}

/**
 * On by default only where the alert is an attack by definition: 20+ failed authentications from one IP against keys
 * it does not hold (`credential-stuffing`), and a revoked key in use (`revoked-key-use`). Both throttle the IP only:
 * an honest user behind it still gets one AUTH per 10 s. Device throttles and quarantines are off (anomaly models
 * can be wrong about a device, and a quarantine stops a person's messages).
 *
 * @example DEFAULT_RESPONSE_POLICY.throttleIp // ['credential-stuffing', 'revoked-key-use']
 */
export const DEFAULT_RESPONSE_POLICY: ResponsePolicy = {
  throttleIp: ['credential-stuffing', 'revoked-key-use'],
  throttleDevice: [],
  quarantine: [],
  throttleMs: 15 * 60_000,
  throttleIntervalMs: 10_000,
}

/**
 * One response taken: a throttle of an IP or device until `until`, a quarantine of a device, or an operator's lift.
 * `alert` and `category` name what caused it (absent for an operator's own action).
 *
 * @example const a: ResponseAction = { action: 'quarantine', entity: 'device:0xab…', at: 0, alert: 'a-3', category: 'spam-fanout' }
 */
export type ResponseAction = {
  action: 'throttle' | 'quarantine' | 'lift'
  /** `ip:…` or `device:…`. */
  entity: string
  /** Unix ms. */
  at: number
  /** Throttles only: Unix ms when it ends. */
  until?: number | undefined
  alert?: string | undefined
  category?: AlertCategory | undefined
  /** Who acted when not the IDS (an operator's lift or quarantine). */
  by?: string | undefined
}

/**
 * The actions `policy` takes for `alert`, at wall-clock time `now`: one per matching entity (`info` alerts never act;
 * a device the alert names as a target, not a culprit, is left alone).
 *
 * @example decideResponse(alert, DEFAULT_RESPONSE_POLICY, Date.now()) // [{ action: 'throttle', entity: 'ip:10.0.0.9', … }]
 */
export function decideResponse(alert: Alert, policy: ResponsePolicy, now: number): ResponseAction[] {
  if (alert.severity === 'info') return []
  const out: ResponseAction[] = []
  const cause = { at: now, alert: alert.id, category: alert.category }
  const until = now + policy.throttleMs
  // Devices an alert names as targets are never restricted: the device that refused a message (`receiver`), and the
  // devices whose keys credential stuffing tried.
  const receiver = alert.evidence.receiver
  const target = (entity: string) =>
    alert.category === 'credential-stuffing' ||
    (typeof receiver === 'string' && entity === `device:${receiver}`)
  for (const entity of alert.entities) {
    if (entity.startsWith('ip:') && policy.throttleIp.includes(alert.category))
      out.push({ action: 'throttle', entity, until, ...cause })
    if (!entity.startsWith('device:') || target(entity)) continue
    if (policy.quarantine.includes(alert.category)) out.push({ action: 'quarantine', entity, ...cause })
    else if (policy.throttleDevice.includes(alert.category))
      out.push({ action: 'throttle', entity, until, ...cause })
  }
  return out
}
