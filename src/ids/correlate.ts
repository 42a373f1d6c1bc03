/** Correlation: alerts that share an entity within a gap of time become one incident. */
import { type Alert, type AlertCategory, type Incident, SEVERITIES, type Severity } from './alerts.js'

/** Entities too common to join incidents through (every relay-drop alert names the relay, which is fine; `chain` is not). */
const HUBS = new Set(['chain'])
/**
 * Whether an entity joins incidents: not a hub, and not a placeholder (`device:unknown`, a refusal whose sender the
 * client's checks never reached: unrelated attacks would merge through it).
 */
const joins = (e: string) => !HUBS.has(e) && !e.endsWith(':unknown')

/** Categories that decide an incident's kind whatever else it holds, strongest first. */
const DECISIVE: AlertCategory[] = [
  'revoked-key-use',
  'anchor-front-running',
  'replay-flood',
  'forgery',
  'policy-violation',
  'compromised-device',
]

/**
 * Groups alerts into incidents: an alert joins every open incident (last alert within `gapMs`) that shares an
 * entity with it, merging them. An incident's kind is its decisive rule category if any, else its most frequent
 * category among alerts above `info`. Incidents of `info` alerts only are dropped unless `keepInfo`.
 *
 * @example correlate(alerts, { gapMs: 2 * 3600_000 }).map((i) => i.kind)
 */
export function correlate(
  alerts: readonly Alert[],
  { gapMs = 2 * 3600_000, keepInfo = false }: { gapMs?: number; keepInfo?: boolean } = {},
): Incident[] {
  type Group = { alerts: Alert[]; last: number; merged?: Group }
  const root = (g: Group): Group => (g.merged ? root(g.merged) : g)
  const open = new Map<string, Group>()
  const groups: Group[] = []
  const sorted = [...alerts].sort((a, b) => a.at - b.at)
  for (const a of sorted) {
    const found = new Set<Group>()
    for (const e of a.entities) {
      if (!joins(e)) continue
      const g = open.get(e)
      if (g && a.at - root(g).last <= gapMs) found.add(root(g))
    }
    let g: Group
    const [first, ...rest] = [...found]
    if (!first) {
      g = { alerts: [], last: a.at }
      groups.push(g)
    } else {
      g = first
      for (const other of rest) {
        g.alerts.push(...other.alerts)
        other.alerts = []
        other.merged = g
      }
    }
    g.alerts.push(a)
    g.last = Math.max(g.last, a.at)
    for (const e of a.entities) if (joins(e)) open.set(e, g)
  }
  const out: Incident[] = []
  for (const g of groups) {
    if (g.merged || g.alerts.length === 0) continue
    const severity = g.alerts.reduce<Severity>(
      (s, a) => (SEVERITIES.indexOf(a.severity) > SEVERITIES.indexOf(s) ? a.severity : s),
      'info',
    )
    if (severity === 'info' && !keepInfo) continue
    g.alerts.sort((a, b) => a.at - b.at)
    out.push({
      id: `i-${g.alerts[0]?.id ?? out.length}`,
      start: g.alerts[0]?.at ?? 0,
      end: g.alerts[g.alerts.length - 1]?.at ?? 0,
      kind: incidentKind(g.alerts),
      severity,
      entities: [...new Set(g.alerts.flatMap((a) => a.entities))].sort(),
      alerts: g.alerts.map((a) => a.id),
      detectors: [...new Set(g.alerts.map((a) => `${a.detector.type}:${a.detector.name}`))].sort(),
    })
  }
  return out.sort((a, b) => a.start - b.start)
}

function incidentKind(alerts: readonly Alert[]): AlertCategory {
  const real = alerts.filter((a) => a.severity !== 'info')
  for (const c of DECISIVE) if (real.some((a) => a.category === c)) return c
  const counts = new Map<AlertCategory, number>()
  for (const a of real) counts.set(a.category, (counts.get(a.category) ?? 0) + 1)
  let best: AlertCategory = real[0]?.category ?? alerts[0]?.category ?? 'policy-violation'
  for (const [c, n] of counts) if (n > (counts.get(best) ?? 0)) best = c
  return best
}
