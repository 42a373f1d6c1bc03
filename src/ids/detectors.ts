/** Window detectors: per-entity anomaly models, the multivariate model, and the fixed-threshold baseline. */
import { type AlertCategory, type Severity, severityFor } from './alerts.js'
import { robustScore, SeasonalBaseline } from './baseline.js'
import { RobustMahalanobis } from './multivariate.js'
import type { AlertDraft } from './rules.js'
import { DEVICE_FEATURES, type FeatureWindow } from './window.js'

/** Every univariate model: entity class and feature. @example UNIVARIATE['ip.authFails'] // 'credential-stuffing' */
export const UNIVARIATE = {
  'device.publishes': 'spam-fanout',
  'device.fanout': 'spam-fanout',
  'device.newPeers': 'spam-fanout',
  'device.fetched': 'exfiltration',
  'device.kpClaims': 'kp-draining',
  'device.deniedSubs': 'enumeration',
  'device.authFails': 'credential-stuffing',
  'ip.authFails': 'credential-stuffing',
  'sender.clockSkew': 'clock-skew-forgery',
  'relay.seqGaps': 'relay-drop',
  'registry.newAccounts': 'sybil-registration',
} as const satisfies Record<string, AlertCategory>

/** A univariate model's name. @example const n: UnivariateName = 'device.fetched' */
export type UnivariateName = keyof typeof UNIVARIATE

/**
 * Thresholds of every detector: robust z and a least count per univariate model, d² of the multivariate one, and
 * the counts of the fixed-threshold baseline (which only runs when asked for, to be compared with).
 *
 * @example const t: IdsThresholds = { ...DEFAULT_THRESHOLDS, mahalanobis: 60 }
 */
export type IdsThresholds = {
  z: Record<UnivariateName, number>
  minCount: Record<UnivariateName, number>
  mahalanobis: number
  fixed: Record<UnivariateName, number>
}

/** Learned models, serialisable through state.ts. @example const m = newModels() */
export type Models = {
  baselines: Record<UnivariateName, SeasonalBaseline>
  /** Sliding sums per model and entity: x + 0.5·previous, about the last 20–30 minutes with 10-minute windows. */
  carry: Record<UnivariateName, Map<string, number>>
  multivariate: RobustMahalanobis
  devices: Set<string>
  relays: Set<string>
}

/** Fresh models. @example newModels().devices.size // 0 */
export function newModels(): Models {
  const baselines = Object.fromEntries(
    Object.keys(UNIVARIATE).map((k) => [k, new SeasonalBaseline()]),
  ) as Record<UnivariateName, SeasonalBaseline>
  const carry = Object.fromEntries(Object.keys(UNIVARIATE).map((k) => [k, new Map()])) as Models['carry']
  return {
    baselines,
    carry,
    multivariate: new RobustMahalanobis(DEVICE_FEATURES.length),
    devices: new Set(),
    relays: new Set(),
  }
}

/**
 * What scoring needs besides the window: thresholds, whether alerts may fire yet (warm-up), devices linked at an
 * odd hour (their anomalies are a compromised device), and whether to run the baseline too.
 *
 * @example scoreWindow(w, models, { thresholds, armed: true, oddLinked: new Map(), fixed: false, end: w.start + 600_000 })
 */
export type ScoreContext = {
  thresholds: IdsThresholds
  armed: boolean
  oddLinked: ReadonlyMap<string, number>
  fixed: boolean
  end: number
}

const ODD_LINK_WINDOW_MS = 24 * 3600_000
const CARRY = 0.5

/**
 * The score of a sliding sum `v`, its peak allowance halved when the burst is sustained: the previous window's sum
 * was already above the entity's usual peak and this one grew (a history pull over 20 minutes, not a reconnect's
 * sync, which comes in one window and then only decays).
 */
function sustainedScore(
  r: { score: number; mean: number; dev: number; peak: number },
  v: number,
  prev: number,
) {
  if (!(prev > r.peak && v > prev)) return r.score
  return robustScore(v, r.mean, r.dev, r.mean + Math.max(0, r.peak - r.mean) / 2)
}

/** The sliding sum of `name` for `key` after adding this window's `x`. */
function slide(models: Models, name: UnivariateName, key: string, x: number): number {
  const m = models.carry[name]
  const v = x + CARRY * (m.get(key) ?? 0)
  if (v < 0.05) m.delete(key)
  else m.set(key, v)
  return v
}

/**
 * Scores a closed window against the models, then teaches the models the window. Returns the alert drafts.
 *
 * @example const drafts = scoreWindow(w, models, ctx)
 */
export function scoreWindow(w: FeatureWindow, models: Models, ctx: ScoreContext): AlertDraft[] {
  const out: AlertDraft[] = []
  const hour = new Date(w.start).getUTCHours()
  const { thresholds: th } = ctx
  const span = { from: w.start, to: ctx.end }
  const emit = (
    name: UnivariateName | 'multivariate',
    entity: string,
    extra: string[],
    x: number,
    score: number,
    mean: number,
    category: AlertCategory,
    evidence: AlertDraft['evidence'],
  ) => {
    const threshold = name === 'multivariate' ? th.mahalanobis : th.z[name]
    if (!ctx.armed || score < threshold) return
    if (name !== 'multivariate' && x < th.minCount[name]) return
    let cat = category
    let severity: Severity = severityFor(score, threshold)
    const device = entity.startsWith('device:') ? entity.slice(7) : undefined
    const linked = device !== undefined ? ctx.oddLinked.get(device) : undefined
    if (linked !== undefined && ctx.end - linked <= ODD_LINK_WINDOW_MS && cat !== 'credential-stuffing') {
      cat = 'compromised-device'
      if (severity === 'medium') severity = 'high'
    }
    out.push({
      at: ctx.end,
      severity,
      category: cat,
      detector: { type: name === 'multivariate' ? 'multivariate' : 'anomaly', name },
      score: round(score),
      entities: [entity, ...extra],
      summary: `${entity}: ${name} ${round(x)} in a window, expected about ${round(mean)}`,
      evidence: {
        count: round(x),
        expected: round(mean),
        windowFrom: span.from,
        windowTo: span.to,
        ...evidence,
      },
    })
  }

  // Devices: every known device is scored (zero windows teach the baseline what quiet looks like).
  for (const d of w.devices.keys()) models.devices.add(d)
  const mv = models.multivariate
  mv.refresh()
  for (const device of models.devices) {
    const x = w.devices.get(device)
    const key = `device:${device}`
    const residual: number[] = []
    const slid: number[] = []
    for (let i = 0; i < DEVICE_FEATURES.length; i++) {
      const f = DEVICE_FEATURES[i] as (typeof DEVICE_FEATURES)[number]
      const name = `device.${f}` as UnivariateName
      const now = x?.[i] ?? 0
      const prev = models.carry[name].get(key) ?? 0
      const v = slide(models, name, key, now)
      slid.push(v)
      const r = models.baselines[name].observe(key, hour, v, ctx.armed, now > 0 ? ctx.end : undefined)
      residual.push(Math.log1p(v) - Math.log1p(Math.max(0, r.mean, r.peak)))
      if (now > 0) emit(name, key, [], v, sustainedScore(r, v, prev), r.mean, UNIVARIATE[name], {})
    }
    if (!x) continue
    const s = mv.score(residual)
    const topFeature = DEVICE_FEATURES[s.top] as (typeof DEVICE_FEATURES)[number]
    const topName = `device.${topFeature}` as UnivariateName
    // The least count applies to the sliding sum, as for the univariate models (a burst split across two windows).
    const topCount = slid[s.top] ?? 0
    if (topCount >= th.minCount[topName])
      emit('multivariate', key, [], topCount, s.d2, 0, UNIVARIATE[topName], {
        topFeature,
        features: x.map(round),
      })
    mv.learn(residual, s.d2)
  }

  for (const ip of new Set(
    [...w.ipFails.keys(), ...models.carry['ip.authFails'].keys()].map((k) => k.replace(/^ip:/, '')),
  )) {
    const now = w.ipFails.get(ip) ?? 0
    const n = slide(models, 'ip.authFails', `ip:${ip}`, now)
    const r = models.baselines['ip.authFails'].observe(`ip:${ip}`, hour, n, ctx.armed)
    const devices = [...(w.ipDevices.get(ip) ?? [])]
    if (now > 0)
      emit('ip.authFails', `ip:${ip}`, [], n, r.score, r.mean, 'credential-stuffing', {
        distinctDevices: devices.length,
      })
  }
  for (const sender of new Set([
    ...w.clockFails.keys(),
    ...[...models.carry['sender.clockSkew'].keys()].map((k) => k.slice(7)),
  ])) {
    const now = w.clockFails.get(sender) ?? 0
    const n = slide(models, 'sender.clockSkew', `device:${sender}`, now)
    const r = models.baselines['sender.clockSkew'].observe(`device:${sender}`, hour, n, ctx.armed)
    const receivers = [...(w.clockReceivers.get(sender) ?? [])]
    if (now > 0)
      emit('sender.clockSkew', `device:${sender}`, [], n, r.score, r.mean, 'clock-skew-forgery', {
        receivers: receivers.length,
      })
  }
  for (const relay of w.seqGaps.keys()) models.relays.add(relay)
  for (const relay of models.relays) {
    const now = w.seqGaps.get(relay) ?? 0
    const n = slide(models, 'relay.seqGaps', `relay:${relay}`, now)
    const r = models.baselines['relay.seqGaps'].observe(`relay:${relay}`, hour, n, ctx.armed)
    if (now > 0) emit('relay.seqGaps', `relay:${relay}`, [], n, r.score, r.mean, 'relay-drop', {})
  }
  const regN = slide(models, 'registry.newAccounts', 'registry', w.newAccounts)
  const reg = models.baselines['registry.newAccounts'].observe('registry', hour, regN, ctx.armed)
  if (w.newAccounts > 0)
    emit('registry.newAccounts', 'registry', [], regN, reg.score, reg.mean, 'sybil-registration', {
      submitters: [...w.newAccountSubmitters],
    })

  if (ctx.fixed && ctx.armed) out.push(...fixedThresholdAlerts(w, th.fixed, ctx.end))
  return out
}

/**
 * The baseline detector: the same window features against one fixed count each, no seasonality, no per-entity
 * baseline, no learning.
 *
 * @example fixedThresholdAlerts(w, DEFAULT_THRESHOLDS.fixed, w.start + 600_000)
 */
export function fixedThresholdAlerts(
  w: FeatureWindow,
  fixed: Record<UnivariateName, number>,
  end: number,
): AlertDraft[] {
  const out: AlertDraft[] = []
  const fire = (name: UnivariateName, entity: string, x: number) => {
    if (x < fixed[name] || x <= 0) return
    out.push({
      at: end,
      severity: 'medium',
      category: UNIVARIATE[name],
      detector: { type: 'threshold', name },
      score: x,
      entities: [entity],
      summary: `${entity}: ${name} ${x} in a window (fixed threshold ${fixed[name]})`,
      evidence: { count: x, threshold: fixed[name] },
    })
  }
  for (const [device, x] of w.devices)
    for (let i = 0; i < DEVICE_FEATURES.length; i++)
      fire(`device.${DEVICE_FEATURES[i]}` as UnivariateName, `device:${device}`, x[i] ?? 0)
  for (const [ip, n] of w.ipFails) fire('ip.authFails', `ip:${ip}`, n)
  for (const [sender, n] of w.clockFails) fire('sender.clockSkew', `device:${sender}`, n)
  for (const [relay, n] of w.seqGaps) fire('relay.seqGaps', `relay:${relay}`, n)
  fire('registry.newAccounts', 'registry', w.newAccounts)
  return out
}

const round = (x: number) => Math.round(x * 1000) / 1000
