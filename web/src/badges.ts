import type { DashboardMessageState } from '../../src/dashboard/events.ts'
import { h } from './dom.ts'

export const stateIcons: Record<DashboardMessageState, string> = {
  queued: '◷',
  accepted: '↑',
  delivered: '⇢',
  received: '✉',
  anchored: '⚓',
  final: '✔',
  rejected: '✖',
}

export function stateBadge(state: DashboardMessageState): HTMLSpanElement {
  return h(
    'span',
    { class: `badge state-${state}` },
    h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, stateIcons[state]),
    state,
  )
}

export type Severity = 'info' | 'warning' | 'critical'
export const severityIcons: Record<Severity, string> = { info: 'ℹ', warning: '⚠', critical: '‼' }

export function severityBadge(severity: Severity): HTMLSpanElement {
  return h(
    'span',
    { class: `badge sev-${severity}` },
    h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, severityIcons[severity]),
    severity,
  )
}

export const roleLabels: Record<string, string> = {
  tamperer: '⚠ tamperer',
  replayer: '⚠ replayer',
  revoked: '⊘ revoked key',
}

export function roleBadge(role: string | undefined): HTMLSpanElement | null {
  if (!role || role === 'honest') return null
  return h('span', { class: 'badge role-bad' }, roleLabels[role] ?? role)
}
