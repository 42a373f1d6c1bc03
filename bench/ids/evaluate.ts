/** Scoring the IDS against ground truth: matching incidents to attacks, per-kind metrics, threshold tuning. */
import type { Alert, Incident } from '../../src/ids/alerts.js'
import { correlate } from '../../src/ids/correlate.js'
import type { IdsThresholds, UnivariateName } from '../../src/ids/detectors.js'
import { IdsEngine } from '../../src/ids/engine.js'
import { RECORD_THRESHOLDS } from '../../src/ids/thresholds.js'
import { ATTACK_KINDS, type AttackKind, type AttackLabel, type Trace } from './simulate.js'

const GRACE_MS = 3600_000
const EARLY_MS = 10 * 60_000

/** The two systems compared: the models (rules + anomaly + multivariate) and the fixed-threshold baseline (rules + fixed counts). @example const s: System = 'baseline' */
export type System = 'models' | 'baseline'

/** Runs the engine over a trace in record mode (low thresholds, both systems) and returns every alert. @example recordAlerts(generateTrace({ seed: 1, days: 2, devices: 100, attacksPerKind: 1 })) */
export function recordAlerts(trace: Trace): Alert[] {
  const engine = new IdsEngine({ thresholds: RECORD_THRESHOLDS, fixedBaseline: true })
  for (const e of trace.events) engine.ingest(e)
  engine.flush()
  return [...engine.alerts()]
}

/** The alerts one system would have raised with `th`. @example alertsOf(alerts, 'models', DEFAULT_THRESHOLDS) */
export function alertsOf(alerts: readonly Alert[], system: System, th: IdsThresholds): Alert[] {
  return alerts.filter((a) => {
    switch (a.detector.type) {
      case 'rule':
      case 'engine':
        return true
      case 'anomaly':
        return system === 'models' && a.score >= th.z[a.detector.name as UnivariateName]
      case 'multivariate':
        return system === 'models' && a.score >= th.mahalanobis
      case 'threshold':
        return system === 'baseline' && a.score >= th.fixed[a.detector.name as UnivariateName]
      default:
        return false
    }
  })
}

const overlaps = (entities: readonly string[], at0: number, at1: number, a: AttackLabel) =>
  at0 <= a.end + GRACE_MS && at1 >= a.start - EARLY_MS && entities.some((e) => a.entities.includes(e))

/** Per-kind result. @example const m: KindMetrics = evaluate(recorded, 'models', th).kinds[0] */
export type KindMetrics = {
  kind: AttackKind
  attacks: number
  detected: number
  incidents: number
  correct: number
  precision: number | null
  recall: number
  f1: number
  delaysMs: number[]
}

/** Scores the incidents of one trace. @example scoreIncidents(correlate(alerts), alerts, trace.labels.attacks).falseAlarms */
export function scoreIncidents(
  incidents: readonly Incident[],
  alerts: readonly Alert[],
  attacks: readonly AttackLabel[],
) {
  const byId = new Map(alerts.map((a) => [a.id, a]))
  const detectAt = (i: Incident) =>
    Math.min(
      ...i.alerts
        .map((id) => byId.get(id))
        .filter((a) => a && a.severity !== 'info')
        .map((a) => (a as Alert).at),
    )
  const perKind = new Map<
    AttackKind,
    { attacks: number; detected: number; incidents: number; correct: number; delays: number[] }
  >()
  for (const k of ATTACK_KINDS)
    perKind.set(k, { attacks: 0, detected: 0, incidents: 0, correct: 0, delays: [] })
  for (const a of attacks) {
    const m = perKind.get(a.kind)
    if (!m) continue
    m.attacks += 1
    const hits = incidents.filter((i) => i.kind === a.kind && overlaps(i.entities, i.start, i.end, a))
    if (hits.length > 0) {
      m.detected += 1
      m.delays.push(Math.max(0, Math.min(...hits.map(detectAt)) - a.start))
    }
  }
  let falseAlarms = 0
  const falseIncidents: Incident[] = []
  for (const i of incidents) {
    const m = perKind.get(i.kind as AttackKind)
    if (m) {
      m.incidents += 1
      if (attacks.some((a) => a.kind === i.kind && overlaps(i.entities, i.start, i.end, a))) m.correct += 1
    }
    if (!attacks.some((a) => overlaps(i.entities, i.start, i.end, a))) {
      falseAlarms += 1
      falseIncidents.push(i)
    }
  }
  return { perKind, falseAlarms, falseIncidents }
}

/** Sums per-trace scores into per-kind metrics. @example summarise([scoreIncidents(incidents, alerts, attacks)]).kinds */
export function summarise(runs: ReturnType<typeof scoreIncidents>[]): {
  kinds: KindMetrics[]
  falseAlarms: number
} {
  const kinds: KindMetrics[] = ATTACK_KINDS.map((kind) => {
    let attacks = 0
    let detected = 0
    let incidents = 0
    let correct = 0
    const delaysMs: number[] = []
    for (const r of runs) {
      const m = r.perKind.get(kind)
      if (!m) continue
      attacks += m.attacks
      detected += m.detected
      incidents += m.incidents
      correct += m.correct
      delaysMs.push(...m.delays)
    }
    const precision = incidents === 0 ? null : correct / incidents
    const recall = attacks === 0 ? 0 : detected / attacks
    const p = precision ?? 0
    return {
      kind,
      attacks,
      detected,
      incidents,
      correct,
      precision,
      recall,
      f1: p + recall === 0 ? 0 : (2 * p * recall) / (p + recall),
      delaysMs,
    }
  })
  return { kinds, falseAlarms: runs.reduce((s, r) => s + r.falseAlarms, 0) }
}

/** Evaluates a system with thresholds over recorded traces. @example evaluate([{ trace, alerts }], 'models', th).falseAlarmsPer1000DeviceHours */
export function evaluate(recorded: { trace: Trace; alerts: Alert[] }[], system: System, th: IdsThresholds) {
  const runs = recorded.map(({ trace, alerts }) => {
    const mine = alertsOf(alerts, system, th)
    return scoreIncidents(correlate(mine), mine, trace.labels.attacks)
  })
  const deviceHours = recorded.reduce((s, r) => s + r.trace.labels.deviceHours, 0)
  const { kinds, falseAlarms } = summarise(runs)
  return {
    kinds,
    falseAlarms,
    deviceHours,
    falseAlarmsPer1000DeviceHours: (falseAlarms / deviceHours) * 1000,
    runs,
  }
}

const Z_GRID = [3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 17, 20, 25, 30, 40, 50, 70, 100]
const D2_GRID = [10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 130, 160, 200, 300, 500, 1000]
const COUNT_GRID = [
  3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000,
  3000, 5000, 10000,
]

/**
 * Tunes each detector alone on training traces: the lowest threshold on its grid whose alerts that match no attack
 * stay within `budget` per 1,000 device-hours (a share of the false-alarm target).
 *
 * @example const th = tune(trainingRecorded, DEFAULT_THRESHOLDS, 0.01)
 */
export function tune(
  recorded: { trace: Trace; alerts: Alert[] }[],
  base: IdsThresholds,
  budget: number,
): IdsThresholds {
  const deviceHours = recorded.reduce((s, r) => s + r.trace.labels.deviceHours, 0)
  const allowed = (budget * deviceHours) / 1000
  const falseAt = (pred: (a: Alert) => boolean) => {
    let n = 0
    for (const { trace, alerts } of recorded)
      for (const a of alerts)
        if (pred(a) && !trace.labels.attacks.some((l) => overlaps(a.entities, a.at, a.at, l))) n += 1
    return n
  }
  const pick = (grid: number[], pred: (t: number) => (a: Alert) => boolean) =>
    grid.find((t) => falseAt(pred(t)) <= allowed) ?? (grid[grid.length - 1] as number)
  const th: IdsThresholds = structuredClone(base)
  for (const name of Object.keys(th.z) as UnivariateName[]) {
    th.z[name] = pick(
      Z_GRID,
      (t) => (a) => a.detector.type === 'anomaly' && a.detector.name === name && a.score >= t,
    )
    th.fixed[name] = pick(
      COUNT_GRID,
      (t) => (a) => a.detector.type === 'threshold' && a.detector.name === name && a.score >= t,
    )
  }
  th.mahalanobis = pick(D2_GRID, (t) => (a) => a.detector.type === 'multivariate' && a.score >= t)
  return th
}

/** Median of a list (NaN when empty). @example median([3, 1, 2]) // 2 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}
