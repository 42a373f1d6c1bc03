/** Per-window features: what each device, IP, sender, relay and the registry did in one window of event time. */
import type { IdsEvent } from './events.js'

/** Per-device features, in the order of the multivariate model's vector. @example DEVICE_FEATURES[3] // 'fetched' */
export const DEVICE_FEATURES = [
  'publishes',
  'fanout',
  'newPeers',
  'fetched',
  'kpClaims',
  'deniedSubs',
  'authFails',
] as const

/**
 * One window's counts. `newPeers` counts topics no device of the account ever published on before; `clockFails`
 * sums, per sender, the hours of skew of its refused messages (at least 1 each).
 *
 * @example const w = newWindow(0); accumulate(w, event, peers)
 */
export type FeatureWindow = {
  start: number
  events: number
  devices: Map<string, number[]>
  ipFails: Map<string, number>
  ipDevices: Map<string, Set<string>>
  clockFails: Map<string, number>
  clockReceivers: Map<string, Set<string>>
  seqGaps: Map<string, number>
  newAccounts: number
  newAccountSubmitters: Set<string>
}

/** An empty window starting at `start`. @example newWindow(Date.now()).events // 0 */
export function newWindow(start: number): FeatureWindow {
  return {
    start,
    events: 0,
    devices: new Map(),
    ipFails: new Map(),
    ipDevices: new Map(),
    clockFails: new Map(),
    clockReceivers: new Map(),
    seqGaps: new Map(),
    newAccounts: 0,
    newAccountSubmitters: new Set(),
  }
}

const FI = Object.fromEntries(DEVICE_FEATURES.map((f, i) => [f, i])) as Record<
  (typeof DEVICE_FEATURES)[number],
  number
>

function bump(w: FeatureWindow, device: string, feature: (typeof DEVICE_FEATURES)[number], by: number): void {
  let v = w.devices.get(device)
  if (!v) {
    v = new Array(DEVICE_FEATURES.length).fill(0)
    w.devices.set(device, v)
  }
  v[FI[feature]] = (v[FI[feature]] ?? 0) + by
}

const add = (m: Map<string, number>, k: string, by: number) => m.set(k, (m.get(k) ?? 0) + by)
const addTo = (m: Map<string, Set<string>>, k: string, v: string) => {
  let s = m.get(k)
  if (!s) {
    s = new Set()
    m.set(k, s)
  }
  if (s.size < 1000) s.add(v)
}

/**
 * Adds one event to the window. `peers` (account → topics it ever published on) is updated here.
 *
 * @example accumulate(w, { v: 1, t: 1, src: 'relay', kind: 'fetch', device: 'd1', topic: 't', count: 40 }, peers)
 */
export function accumulate(w: FeatureWindow, e: IdsEvent, peers: Map<string, Set<string>>): void {
  w.events += 1
  switch (e.kind) {
    case 'publish': {
      bump(w, e.device, 'publishes', e.count ?? 1)
      bump(w, e.device, 'fanout', e.recipients)
      // Re-inserted on every publish: the map's order is least recently active first (evict.ts drops from the front).
      const known = peers.get(e.account) ?? new Set<string>()
      peers.delete(e.account)
      peers.set(e.account, known)
      if (!known.has(e.topic)) {
        // Bounded: past 10,000 topics an account's new topics still count but are no longer remembered.
        if (known.size < 10_000) known.add(e.topic)
        bump(w, e.device, 'newPeers', 1)
      }
      break
    }
    case 'fetch':
      bump(w, e.device, 'fetched', e.count)
      break
    case 'kp-claim':
      bump(w, e.device, 'kpClaims', 1)
      break
    case 'subscribe':
      if (e.denied) bump(w, e.device, 'deniedSubs', 1)
      break
    case 'auth':
      if (!e.ok) {
        bump(w, e.device, 'authFails', 1)
        add(w.ipFails, e.ip, 1)
        addTo(w.ipDevices, e.ip, e.device)
      }
      break
    case 'verify-fail':
      if (e.reason === 'clock') {
        // Hours of skew, at least 1 per failure: a drifting clock is minutes off, a forged timestamp hours.
        add(w.clockFails, e.sender, Math.max(1, Math.ceil(Math.abs(e.skewMs ?? 0) / 3600_000)))
        addTo(w.clockReceivers, e.sender, e.device)
      }
      break
    case 'seq-gap':
      add(w.seqGaps, e.relay, e.missing)
      break
    case 'device-added':
      if (e.newAccount) {
        w.newAccounts += 1
        if (w.newAccountSubmitters.size < 50) w.newAccountSubmitters.add(e.submitter)
      }
      break
    default:
      break
  }
}
