/** Sealpost live dashboard: validated SSE events → bounded model → views rendered on animation frames. */
import { parseDashboardEvent } from '../../src/dashboard/events.ts'
import { type App, type TabId, tabs, type View } from './app.ts'
import { fmtTime, h, plural, shortHex } from './dom.ts'
import { Model } from './model.ts'
import './style.css'
import { Timeline } from './timeline.ts'
import { alertsView } from './views/alerts.ts'
import { flowView } from './views/flow.ts'
import { groupsView } from './views/groups.ts'
import { inspectorView } from './views/inspector.ts'
import { keysView } from './views/keys.ts'
import { logsView } from './views/logs.ts'
import { metricsView } from './views/metrics.ts'

/** This run's token, from the URL `sealpost up` printed (`#token=`, or `?token=`); kept for reloads of this tab. */
function dashboardToken(): string {
  const token =
    new URLSearchParams(location.hash.slice(1)).get('token') ??
    new URLSearchParams(location.search).get('token') ??
    sessionStorage.getItem('sealpost-dashboard-token') ??
    ''
  if (token) sessionStorage.setItem('sealpost-dashboard-token', token)
  // Out of the address bar and the history once kept.
  if (/(^#|&)token=/.test(location.hash))
    history.replaceState(null, '', `${location.pathname}${location.search}`)
  return token
}
// Read before the tab router rewrites the fragment.
const token = dashboardToken()

type ConnState = 'connecting' | 'live' | 'reconnecting' | 'closed' | 'fixture'

const model = new Model()
const timeline = new Timeline(model)
const counters = { received: 0, invalid: 0 }
let conn: ConnState = 'connecting'
let active: TabId = 'flow'

// ---------------------------------------------------------------------------------------------------------
// Theme

const THEME_KEY = 'sealpost-theme'
const prefersDark = matchMedia('(prefers-color-scheme: dark)')
function currentTheme(): 'light' | 'dark' {
  const forced = document.documentElement.dataset.theme
  if (forced === 'light' || forced === 'dark') return forced
  return prefersDark.matches ? 'dark' : 'light'
}
try {
  const saved = localStorage.getItem(THEME_KEY)
  if (saved === 'light' || saved === 'dark') document.documentElement.dataset.theme = saved
} catch {
  // storage may be unavailable (private mode); the system preference applies
}

// ---------------------------------------------------------------------------------------------------------
// App shell

const app: App = {
  model,
  timeline,
  selectedId: undefined,
  inspect(id: string) {
    app.selectedId = id.toLowerCase()
    select('inspector', true)
  },
  theme: currentTheme,
}

const views: Record<TabId, View> = {
  flow: flowView(app),
  inspector: inspectorView(app),
  logs: logsView(app),
  metrics: metricsView(app),
  keys: keysView(app),
  alerts: alertsView(app),
  groups: groupsView(app),
}

const statusEl = h('span', { class: 'status', 'data-testid': 'connection-status', role: 'status' })
const chainEl = h('div', { class: 'chain-info' })
const countersEl = h('div', { class: 'counters', 'aria-live': 'off' })
const themeBtn = h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'theme-toggle' })
themeBtn.addEventListener('click', () => {
  const next = currentTheme() === 'dark' ? 'light' : 'dark'
  document.documentElement.dataset.theme = next
  try {
    localStorage.setItem(THEME_KEY, next)
  } catch {
    // ignore
  }
  themeChanged()
})
prefersDark.addEventListener('change', () => themeChanged())

function themeChanged(): void {
  const t = currentTheme()
  themeBtn.textContent = t === 'dark' ? '☀ Light theme' : '☾ Dark theme'
  themeBtn.setAttribute('aria-label', `Switch to ${t === 'dark' ? 'light' : 'dark'} theme`)
  for (const v of Object.values(views)) v.onTheme?.()
  schedule()
}

// Timeline bar
const pauseBtn = h('button', {
  type: 'button',
  class: 'btn',
  'data-testid': 'timeline-pause',
  'aria-pressed': 'false',
})
const liveBtn = h(
  'button',
  { type: 'button', class: 'btn btn-ghost', 'data-testid': 'timeline-live' },
  '⇥ Go live',
)
const scrub = h('input', {
  type: 'range',
  min: '0',
  max: '0',
  step: '1',
  value: '0',
  'data-testid': 'timeline-scrub',
  'aria-label': 'Event history position',
})
const posEl = h('span', { class: 'timeline-pos mono', 'data-testid': 'timeline-position' })
pauseBtn.addEventListener('click', () => timeline.setPaused(!timeline.paused))
liveBtn.addEventListener('click', () => timeline.setPaused(false))
let scrubFrame = 0
scrub.addEventListener('input', () => {
  if (!timeline.paused) timeline.setPaused(true)
  if (scrubFrame) return
  scrubFrame = requestAnimationFrame(() => {
    scrubFrame = 0
    timeline.seek(Number(scrub.value))
  })
})

const tabList = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Dashboard views' })
const tabButtons = new Map<TabId, HTMLButtonElement>()
const badges = new Map<TabId, HTMLSpanElement>()
const main = h('main', { class: 'panels', id: 'main' })
for (const t of tabs) {
  const badge = h('span', { class: 'tab-badge', hidden: true })
  badges.set(t.id, badge)
  const btn = h(
    'button',
    {
      type: 'button',
      role: 'tab',
      id: `tab-${t.id}`,
      class: 'tab',
      'data-testid': `tab-${t.id}`,
      'aria-controls': `panel-${t.id}`,
      'aria-selected': 'false',
      'aria-keyshortcuts': t.key,
      tabindex: '-1',
    },
    t.label,
    badge,
  )
  btn.addEventListener('click', () => select(t.id, true))
  tabButtons.set(t.id, btn)
  tabList.append(btn)
  const panel = h('div', {
    role: 'tabpanel',
    id: `panel-${t.id}`,
    class: 'panel',
    'aria-labelledby': `tab-${t.id}`,
    hidden: true,
  })
  panel.append(views[t.id].el)
  main.append(panel)
}
tabList.addEventListener('keydown', (ev) => {
  const i = tabs.findIndex((t) => t.id === active)
  let next: number | undefined
  if (ev.key === 'ArrowRight') next = (i + 1) % tabs.length
  else if (ev.key === 'ArrowLeft') next = (i - 1 + tabs.length) % tabs.length
  else if (ev.key === 'Home') next = 0
  else if (ev.key === 'End') next = tabs.length - 1
  if (next === undefined) return
  ev.preventDefault()
  const t = tabs[next]
  if (t) {
    select(t.id, true)
    tabButtons.get(t.id)?.focus()
  }
})

function select(id: TabId, push: boolean): void {
  if (active !== id) views[active].onHide?.()
  active = id
  for (const t of tabs) {
    const on = t.id === id
    const btn = tabButtons.get(t.id) as HTMLButtonElement
    btn.setAttribute('aria-selected', String(on))
    btn.tabIndex = on ? 0 : -1
    const panel = document.getElementById(`panel-${t.id}`) as HTMLElement
    panel.hidden = !on
  }
  if (push) {
    const hash = id === 'inspector' && app.selectedId ? `#inspector/${app.selectedId}` : `#${id}`
    if (location.hash !== hash)
      history.replaceState(null, '', `${location.pathname}${location.search}${hash}`)
  }
  views[id].onShow?.()
  schedule()
}

function fromHash(): void {
  const [tab, id] = location.hash.slice(1).split('/')
  if (id && /^0x[0-9a-fA-F]{64}$/.test(id)) app.selectedId = id.toLowerCase()
  const t = tabs.find((x) => x.id === tab)
  select(t ? t.id : active, false)
}
addEventListener('hashchange', fromHash)

document.addEventListener('keydown', (ev) => {
  const target = ev.target as HTMLElement
  if (ev.altKey || ev.ctrlKey || ev.metaKey || target.closest('input, select, textarea, [role="option"]'))
    return
  const t = tabs.find((x) => x.key === ev.key)
  if (t) {
    select(t.id, true)
    tabButtons.get(t.id)?.focus()
  } else if (ev.key === 'p') {
    timeline.setPaused(!timeline.paused)
  }
})

const shell = h(
  'div',
  { class: 'shell' },
  h('a', { class: 'skip', href: '#main' }, 'Skip to content'),
  h(
    'header',
    { class: 'topbar' },
    h(
      'div',
      { class: 'brand' },
      h('span', { class: 'logo', 'aria-hidden': 'true' }, '◆'),
      h('h1', {}, 'Sealpost'),
      h('span', { class: 'muted' }, 'live dashboard'),
    ),
    statusEl,
    chainEl,
    h('div', { class: 'spacer' }),
    countersEl,
    themeBtn,
  ),
  h(
    'div',
    { class: 'timeline', role: 'group', 'aria-label': 'Timeline' },
    pauseBtn,
    h('label', { class: 'scrub' }, h('span', { class: 'sr-only' }, 'Scrub event history'), scrub),
    posEl,
    liveBtn,
  ),
  h('nav', { 'aria-label': 'Views' }, tabList),
  main,
)
document.body.append(shell)

// ---------------------------------------------------------------------------------------------------------
// Rendering

let frame = 0
function schedule(): void {
  if (!frame) frame = requestAnimationFrame(render)
}
timeline.onChange = schedule

let seenHello = -1
function render(): void {
  frame = 0
  // Status: icon + text, never colour alone.
  const status: Record<ConnState, [string, string]> = {
    connecting: ['◌', 'Connecting…'],
    live: ['●', 'Connected'],
    reconnecting: ['↻', 'Reconnecting…'],
    closed: ['✖', 'Disconnected'],
    fixture: ['◆', 'Fixture data'],
  }
  const [icon, label] = status[conn]
  statusEl.dataset.state = conn
  statusEl.replaceChildren(h('span', { 'aria-hidden': 'true' }, icon), ` ${label}`)

  if (model.revs.hello !== seenHello) {
    seenHello = model.revs.hello
    const hello = model.hello
    chainEl.replaceChildren(
      ...(hello
        ? [
            h('span', { class: 'chip' }, `chain ${hello.chainId}`),
            h(
              'span',
              { class: 'chip mono', title: `KeyRegistry ${hello.keyRegistry}` },
              `registry ${shortHex(hello.keyRegistry)}`,
            ),
            h(
              'span',
              { class: 'chip mono', title: `MessageAnchor ${hello.messageAnchor}` },
              `anchor ${shortHex(hello.messageAnchor)}`,
            ),
            hello.demo ? h('span', { class: 'chip chip-demo' }, '▶ demo') : null,
          ].filter((x): x is HTMLSpanElement => x !== null)
        : []),
    )
  }
  countersEl.replaceChildren(
    h(
      'span',
      {},
      h('strong', {}, counters.received.toLocaleString()),
      counters.received === 1 ? ' event' : ' events',
    ),
    h(
      'span',
      {
        class: counters.invalid ? 'warn' : '',
        'data-testid': 'invalid-count',
        title: 'Events that failed schema validation were dropped',
      },
      h('strong', {}, counters.invalid.toLocaleString()),
      ' invalid dropped',
    ),
  )

  // Timeline
  const paused = timeline.paused
  pauseBtn.textContent = paused ? '▶ Resume' : '❚❚ Pause'
  pauseBtn.setAttribute('aria-pressed', String(paused))
  liveBtn.hidden = timeline.live
  scrub.min = String(timeline.history.first)
  scrub.max = String(timeline.history.end)
  if (!scrubFrame) scrub.value = String(timeline.cursor)
  const at = timeline.history.at(timeline.cursor - 1)?.at
  const pos = `${timeline.cursor.toLocaleString()} / ${timeline.history.end.toLocaleString()}`
  scrub.setAttribute('aria-valuetext', `event ${pos}${at ? ` at ${fmtTime(at)}` : ''}`)
  posEl.replaceChildren(
    h(
      'span',
      { class: `live-flag ${timeline.live ? 'is-live' : 'is-paused'}` },
      timeline.live ? '● LIVE' : '❚❚ PAUSED',
    ),
    ` ${pos}`,
    at ? ` · ${fmtTime(at)}` : '',
    timeline.buffered
      ? h('span', { class: 'muted' }, ` · ${timeline.buffered.toLocaleString()} buffered`)
      : '',
  )

  // Tab badges
  const critical = [...model.alerts].filter((a) => a.severity !== 'info').length
  const alertBadge = badges.get('alerts') as HTMLSpanElement
  alertBadge.hidden = model.alerts.length === 0
  alertBadge.textContent = critical ? `⚠ ${critical}` : String(model.alerts.length)
  alertBadge.setAttribute(
    'aria-label',
    `${plural(model.alerts.length, 'alert')}, ${critical} warning or critical`,
  )

  if (views[active].update()) schedule()
}

// ---------------------------------------------------------------------------------------------------------
// Events in

function ingest(raw: string): void {
  counters.received++
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    counters.invalid++
    schedule()
    return
  }
  const event = parseDashboardEvent(value)
  if (!event) {
    counters.invalid++
    schedule()
    return
  }
  timeline.ingest(event)
}

function connect(): void {
  const source = new EventSource(`/events?token=${encodeURIComponent(token)}`)
  source.addEventListener('open', () => {
    conn = 'live'
    schedule()
  })
  source.addEventListener('message', (ev: MessageEvent<string>) => ingest(ev.data))
  source.addEventListener('error', () => {
    conn = source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'
    schedule()
  })
}

const params = new URLSearchParams(location.search)
if (params.get('fixture') === '1') {
  conn = 'fixture'
  import('../fixture.ts').then(({ startFixture }) =>
    startFixture(ingest, { messages: Number(params.get('n') ?? 400), rate: Number(params.get('rate') ?? 8) }),
  )
} else {
  connect()
}

themeChanged()
fromHash()
