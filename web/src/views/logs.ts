/** Logs: every party's tamper-evident log entries, filterable, exportable as JSON. */
import type { LogEvent } from '../../../src/dashboard/events.ts'
import type { App, View } from '../app.ts'
import { fmtTime, h, plural, shortHex, verdict } from '../dom.ts'
import { VirtualList } from '../vlist.ts'

const kinds: LogEvent['kind'][] = ['sent', 'received', 'rejected', 'receipt', 'log-anchor']

const partyKey = (e: LogEvent) => `${e.account.toLowerCase()}|${e.deviceId}`

export function logsView(app: App): View {
  const { model } = app
  const party = h('select', { 'aria-label': 'Filter by party', 'data-testid': 'log-filter-party' })
  const kind = h(
    'select',
    { 'aria-label': 'Filter by kind', 'data-testid': 'log-filter-kind' },
    h('option', { value: '' }, 'All kinds'),
    ...kinds.map((k) => h('option', { value: k }, k)),
  )
  const chained = h(
    'select',
    { 'aria-label': 'Filter by chain verdict', 'data-testid': 'log-filter-verdict' },
    h('option', { value: '' }, 'Any verdict'),
    h('option', { value: 'ok' }, '✓ chained (ok)'),
    h('option', { value: 'broken' }, '✗ broken'),
  )
  const search = h('input', {
    type: 'search',
    placeholder: 'Search summary, hash, id…',
    'aria-label': 'Search log entries',
    'data-testid': 'log-search',
  })
  const exportBtn = h(
    'button',
    { type: 'button', class: 'btn', 'data-testid': 'log-export' },
    '⤓ Export JSON',
  )
  const count = h('span', { class: 'muted count' })
  const chains = h('ul', { class: 'chains', 'aria-label': 'Log chains per party' })
  let filtered: LogEvent[] = []
  let seen = ''
  let dirty = true
  let lastRun = 0

  const list = new VirtualList<LogEvent>({
    label: 'Log entries, newest first',
    rowHeight: 38,
    className: 'log-list',
    key: (e) => `${partyKey(e)}|${e.index}|${e.hash}`,
    empty: 'No log entries match.',
    onActivate: (e) => {
      if (e.id) app.inspect(e.id)
    },
    renderRow: (e) =>
      h(
        'div',
        {
          class: `row log-row${e.chained ? '' : ' broken'}`,
          'data-testid': 'log-row',
          'data-kind': e.kind,
          'data-chained': String(e.chained),
          'aria-label': `${model.nameOf(e.account)} entry ${e.index}, ${e.kind}, ${e.chained ? 'chained' : 'chain broken'}: ${e.summary}${e.id ? '. Press Enter to inspect the message.' : ''}`,
        },
        h('span', { class: 'cell mono muted' }, fmtTime(e.at, false)),
        h(
          'span',
          { class: 'cell' },
          h('strong', {}, model.nameOf(e.account)),
          ' ',
          h('span', { class: 'muted mono' }, shortHex(e.deviceId, 6, 0)),
        ),
        h('span', { class: 'cell mono num' }, `#${e.index}`),
        h('span', { class: 'cell' }, h('span', { class: `kind kind-${e.kind}` }, e.kind)),
        h(
          'span',
          { class: 'cell mono', title: `hash ${e.hash}\nprev ${e.prevHash}` },
          shortHex(e.hash, 8, 4),
        ),
        h('span', { class: 'cell' }, verdict(e.chained, 'chained', 'broken')),
        h('span', { class: 'cell preview' }, e.summary),
      ),
  })

  for (const c of [party, kind, chained, search])
    c.addEventListener(c === search ? 'input' : 'change', () => {
      dirty = true
    })
  exportBtn.addEventListener('click', () => {
    const blob = new Blob([JSON.stringify(filtered, null, 2)], { type: 'application/json' })
    const url = URL.createObjectURL(blob)
    const a = h('a', {
      href: url,
      download: `sealpost-logs-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    })
    document.body.append(a)
    a.click()
    a.remove()
    setTimeout(() => URL.revokeObjectURL(url), 1000)
  })

  const el = h(
    'section',
    { class: 'view logs' },
    h(
      'div',
      { class: 'card' },
      h(
        'div',
        { class: 'card-head' },
        h('h2', {}, 'Log chains'),
        h('span', { class: 'muted' }, 'prevHash links each entry to the one before'),
      ),
      chains,
    ),
    h(
      'div',
      { class: 'card list-card' },
      h('div', { class: 'card-head' }, h('h2', {}, 'Entries'), count),
      h('div', { class: 'toolbar' }, search, party, kind, chained, exportBtn),
      h(
        'div',
        { class: 'row list-head log-row', 'aria-hidden': 'true' },
        h('span', {}, 'Time'),
        h('span', {}, 'Party'),
        h('span', {}, 'Index'),
        h('span', {}, 'Kind'),
        h('span', {}, 'Hash'),
        h('span', {}, 'Chain'),
        h('span', {}, 'Summary'),
      ),
      list.el,
    ),
  )

  function refreshParties(
    stats: Map<string, { e: LogEvent; n: number; broken: number; brokenAt: number | undefined }>,
  ) {
    const current = party.value
    const opts = [h('option', { value: '' }, 'All parties')]
    const items: HTMLElement[] = []
    for (const [key, st] of stats) {
      const name = `${model.nameOf(st.e.account)} · ${shortHex(st.e.deviceId, 6, 0)}`
      opts.push(h('option', { value: key }, name))
      items.push(
        h(
          'li',
          { class: st.broken ? 'chain-bad' : 'chain-ok' },
          h('strong', {}, name),
          h('span', { class: 'muted' }, plural(st.n, 'entry', 'entries')),
          st.broken
            ? verdict(false, '', `broken at #${st.brokenAt} (${st.broken} link${st.broken > 1 ? 's' : ''})`)
            : verdict(true, 'intact'),
        ),
      )
    }
    if (party.options.length !== opts.length) {
      party.replaceChildren(...opts)
      party.value = current
    }
    chains.replaceChildren(...(items.length ? items : [h('li', { class: 'muted' }, 'No log entries yet.')]))
  }

  return {
    el,
    update() {
      const key = `${model.revs.logs}|${model.revs.participants}|${model.generation}`
      if (!dirty && key === seen) return false
      const now = performance.now()
      if (!dirty && now - lastRun < 200) return true
      lastRun = now
      dirty = false
      seen = key
      const p = party.value
      const k = kind.value
      const c = chained.value
      const q = search.value.trim().toLowerCase()
      const stats = new Map<
        string,
        { e: LogEvent; n: number; broken: number; brokenAt: number | undefined }
      >()
      const out: LogEvent[] = []
      for (let i = 0; i < model.logs.length; i++) {
        const e = model.logs.fromNewest(i) as LogEvent
        const pk = partyKey(e)
        let st = stats.get(pk)
        if (!st) {
          st = { e, n: 0, broken: 0, brokenAt: undefined }
          stats.set(pk, st)
        }
        st.n++
        if (!e.chained) {
          st.broken++
          st.brokenAt = e.index
        }
        if (p && pk !== p) continue
        if (k && e.kind !== k) continue
        if (c === 'ok' && !e.chained) continue
        if (c === 'broken' && e.chained) continue
        if (
          q &&
          !`${e.summary} ${e.hash} ${e.prevHash} ${e.id ?? ''} ${model.nameOf(e.account)}`
            .toLowerCase()
            .includes(q)
        )
          continue
        out.push(e)
      }
      filtered = out
      refreshParties(stats)
      list.setItems(out)
      count.textContent = `${out.length.toLocaleString()} of ${model.logs.length.toLocaleString()} shown`
      return false
    },
    onShow() {
      dirty = true
    },
  }
}
