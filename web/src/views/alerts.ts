/** Alerts: rejections, anomalies, IDS alerts grouped by incident and contacts' key changes, newest first, each message alert linking to the inspector. */
import type { AlertEvent } from '../../../src/dashboard/events.ts'
import type { App, View } from '../app.ts'
import { type Severity, severityBadge } from '../badges.ts'
import { fmtTime, h, plural, shortHex } from '../dom.ts'

const MAX_SHOWN = 500
/** A contact's device set changed on chain (the client collector's code): the filter shows these alone. */
const KEY_CHANGE = 'KEY_CHANGE'

export function alertsView(app: App): View {
  const { model } = app
  const sev = h(
    'select',
    { 'aria-label': 'Filter by severity or kind', 'data-testid': 'alert-filter-severity' },
    h('option', { value: '' }, 'All severities'),
    h('option', { value: 'critical' }, '‼ critical'),
    h('option', { value: 'warning' }, '⚠ warning'),
    h('option', { value: 'info' }, 'ℹ info'),
    h('option', { value: KEY_CHANGE }, '🔑 key changes'),
  )
  const list = h('ol', { class: 'alerts', 'aria-label': 'Alerts, newest first' })
  const count = h('span', { class: 'muted count' })
  const el = h(
    'section',
    { class: 'view alerts-view' },
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', {}, 'Alerts'), count),
      h('div', { class: 'toolbar' }, sev),
      list,
    ),
  )
  let seen = ''
  sev.addEventListener('change', () => {
    seen = ''
  })

  function row(a: AlertEvent): HTMLElement {
    const who = a.account
      ? model.nameOf(a.account)
      : a.deviceId
        ? `device ${shortHex(a.deviceId)}`
        : undefined
    return h(
      'li',
      {
        class: `alert sev-row-${a.severity}${a.code === KEY_CHANGE ? ' alert-key-change' : ''}`,
        'data-testid': 'alert-row',
        'data-code': a.code,
        'data-severity': a.severity,
      },
      severityBadge(a.severity as Severity),
      h(
        'div',
        { class: 'alert-main' },
        h(
          'div',
          {},
          h('code', { class: 'alert-code' }, a.code),
          h('span', { class: 'muted' }, ` · ${a.source}${who ? ` · ${who}` : ''}`),
        ),
        h('div', { class: 'alert-msg' }, a.message),
      ),
      h('span', { class: 'mono muted' }, fmtTime(a.at, false)),
      a.id
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small',
              'data-testid': 'alert-inspect',
              'aria-label': `Inspect message ${a.id}`,
              onclick: () => app.inspect(a.id as string),
            },
            `Inspect ${shortHex(a.id)} →`,
          )
        : h('span', {}),
    )
  }

  function incidentEntry(id: string): HTMLElement {
    return h(
      'li',
      { class: 'alert-incident', 'data-testid': 'alert-incident', 'data-incident': id },
      h('div', { class: 'alert-incident-head' }),
      h('ol', { class: 'alerts', 'aria-label': `Alerts of ${id}, newest first` }),
    )
  }

  return {
    el,
    update() {
      const key = `${model.revs.alerts}|${model.revs.participants}|${model.generation}|${sev.value}`
      if (key === seen) return false
      seen = key
      const out: HTMLElement[] = []
      // IDS alerts of one incident are one entry, placed where its newest alert is, its alerts inside.
      const incidents = new Map<string, { rows: HTMLElement[]; codes: Set<string> }>()
      let shown = 0
      let matched = 0
      for (let i = 0; i < model.alerts.length; i++) {
        const a = model.alerts.fromNewest(i) as AlertEvent
        if (sev.value === KEY_CHANGE ? a.code !== KEY_CHANGE : sev.value && a.severity !== sev.value) continue
        matched++
        if (shown >= MAX_SHOWN) continue
        shown++
        if (!a.incident) {
          out.push(row(a))
          continue
        }
        let group = incidents.get(a.incident)
        if (!group) {
          group = { rows: [], codes: new Set() }
          incidents.set(a.incident, group)
          out.push(incidentEntry(a.incident))
        }
        group.rows.push(row(a))
        group.codes.add(a.code)
      }
      for (const [id, g] of incidents) {
        const head = list.ownerDocument.createTextNode(
          `${id}: ${[...g.codes].join(', ')} · ${plural(g.rows.length, 'alert')}`,
        )
        const entry = out.find((e) => e.dataset.incident === id)
        entry?.firstElementChild?.replaceChildren(head)
        entry?.lastElementChild?.replaceChildren(...g.rows)
      }
      list.replaceChildren(...(out.length ? out : [h('li', { class: 'muted empty' }, 'No alerts. ✓')]))
      count.textContent = `${plural(matched, 'alert')}${matched > MAX_SHOWN ? ` (newest ${MAX_SHOWN} shown)` : ''}`
      return false
    },
    onShow() {
      seen = ''
    },
  }
}
