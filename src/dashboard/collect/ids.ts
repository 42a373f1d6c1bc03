/** The IDS collector: a relay's live IDS alerts as Alerts-tab rows, each tagged with its incident. */
import type { Alert } from '../../ids/alerts.js'
import type { LiveIds } from '../../ids/liveIds.js'
import type { AlertEvent, DashboardEvent } from '../events.js'

/** Alerts that share an entity within this long are one incident (as `correlate.ts` groups them). */
const INCIDENT_GAP_MS = 2 * 3600_000

/**
 * Maps an IDS severity to the dashboard's three.
 *
 * @example dashboardSeverity('high') // 'critical'
 */
export function dashboardSeverity(s: Alert['severity']): AlertEvent['severity'] {
  return s === 'critical' || s === 'high' ? 'critical' : s === 'info' ? 'info' : 'warning'
}

/**
 * Shows each alert of `ids` as it fires, with an incident id: the incident of an entity it shares with an alert of
 * the last two hours, else a new one (`correlate.ts` does the same over a whole run, and also merges incidents;
 * the live view does not re-number rows already shown). Returns the function that stops.
 *
 * @example const detach = attachIds((e) => hub.emit(e), node.ids)
 */
export function attachIds(emit: (e: DashboardEvent) => void, ids: Pick<LiveIds, 'onAlert'>): () => void {
  const byEntity = new Map<string, { incident: string; at: number }>()
  let next = 0
  return ids.onAlert((a) => {
    let incident: string | undefined
    for (const e of a.entities) {
      const seen = byEntity.get(e)
      if (seen && a.at - seen.at <= INCIDENT_GAP_MS) incident = seen.incident
    }
    incident ??= `incident-${++next}`
    for (const e of a.entities) byEntity.set(e, { incident, at: a.at })
    if (byEntity.size > 10_000)
      for (const [k, v] of byEntity) if (a.at - v.at > INCIDENT_GAP_MS) byEntity.delete(k)
    emit({
      type: 'alert',
      at: Date.now(),
      source: 'ids',
      severity: dashboardSeverity(a.severity),
      code: a.category.slice(0, 64),
      message: `${a.summary} (${a.detector.type} ${a.detector.name})`.slice(0, 512),
      incident,
    })
  })
}
