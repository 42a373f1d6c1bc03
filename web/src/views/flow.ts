/** Message flow: participant graph with animated message tokens, and a virtualized message list. */
import type { DashboardMessageState, MessageEvent } from '../../../src/dashboard/events.ts'
import { messageStates } from '../../../src/dashboard/events.ts'
import type { App, View } from '../app.ts'
import { roleLabels, stateBadge, stateIcons } from '../badges.ts'
import { fmtTime, h, plural, s, shortHex } from '../dom.ts'
import type { MessageRec, Party } from '../model.ts'
import { VirtualList } from '../vlist.ts'

const W = 600
const H = 540
/** Where along the sender → recipient edge a message sits in each state. */
const progress: Record<DashboardMessageState, number> = {
  queued: 0.08,
  accepted: 0.35,
  delivered: 0.65,
  received: 0.88,
  anchored: 0.94,
  final: 1,
  rejected: -1,
}
const MAX_TOKENS = 60

interface Token {
  g: SVGGElement
  dots: Map<string, SVGGElement>
  timer: number
}

interface Pos {
  x: number
  y: number
}

export function flowView(app: App): View {
  const { model } = app
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'graph',
    role: 'img',
    'aria-label': 'Participants and messages in flight',
  })
  const edgesG = s('g', { class: 'edges' })
  const nodesG = s('g', { class: 'nodes' })
  const tokensG = s('g', { class: 'tokens', 'aria-hidden': 'true' })
  svg.append(edgesG, nodesG, tokensG)
  const positions = new Map<string, Pos>()
  const tokens = new Map<string, Token>()
  const edges = new Set<string>()
  let seenParticipants = -1
  let seenMessages = -1
  let seenGeneration = -1
  let lastFilter = 0
  let forceFilter = true

  const legendCounts = new Map<DashboardMessageState, HTMLSpanElement>()
  const legend = h(
    'ul',
    { class: 'legend', 'aria-label': 'Messages per state' },
    ...messageStates.map((st) => {
      const n = h('span', { class: 'legend-count', 'data-testid': `state-count-${st}` }, '0')
      legendCounts.set(st, n)
      return h('li', {}, stateBadge(st), n)
    }),
  )
  const nodeSummary = h('p', { class: 'sr-only', 'aria-live': 'polite' })

  // ---- list
  const stateFilter = h(
    'select',
    { 'aria-label': 'Filter by state', 'data-testid': 'message-state-filter' },
    h('option', { value: '' }, 'All states'),
    ...messageStates.map((st) => h('option', { value: st }, `${stateIcons[st]} ${st}`)),
  )
  const search = h('input', {
    type: 'search',
    placeholder: 'Search id, party, text…',
    'aria-label': 'Search messages',
    'data-testid': 'message-search',
  })
  const count = h('span', { class: 'muted count' })
  const list = new VirtualList<MessageRec>({
    label: 'Messages, newest first. Press Enter to inspect.',
    rowHeight: 40,
    className: 'message-list',
    key: (m) => m.id,
    empty: 'No messages yet.',
    onActivate: (m) => app.inspect(m.id),
    signature: (m) =>
      `${m.state}|${m.to.length}|${m.text !== undefined}|${m.id === app.selectedId}|${model.revs.participants}`,
    renderRow: (m) => {
      const to = m.to.map((a) => model.nameOf(a)).join(', ')
      const rejected = m.state === 'rejected'
      return h(
        'div',
        {
          class: `row msg-row${m.id === app.selectedId ? ' selected' : ''}`,
          'data-testid': 'message-row',
          'data-id': m.id,
          'data-state': m.state,
          'aria-label': rejected
            ? `Message ${shortHex(m.id)} claiming to be from ${model.nameOf(m.from)}, refused by ${to || 'its recipient'}`
            : `Message ${shortHex(m.id)} from ${model.nameOf(m.from)} to ${to || 'nobody'}: ${m.state}`,
        },
        h('span', { class: 'cell time mono' }, fmtTime(m.firstAt)),
        h('span', { class: 'cell' }, stateBadge(m.state)),
        h(
          'span',
          {
            class: 'cell parties',
            title: rejected
              ? `claimed sender ${model.nameOf(m.from)} · refused by ${to || '—'}`
              : `${model.nameOf(m.from)} → ${to || '—'}`,
          },
          h('strong', {}, model.nameOf(m.from)),
          h('span', { class: 'arrow', 'aria-hidden': 'true' }, ' → '),
          rejected ? h('span', { class: 'refused' }, `refused by ${to || '—'}`) : to || '—',
        ),
        h('span', { class: 'cell mono muted' }, shortHex(m.id)),
        h(
          'span',
          { class: 'cell preview' },
          m.text !== undefined
            ? m.text
            : h('span', { class: 'muted' }, m.bytes !== undefined ? `sealed · ${m.bytes} B` : 'sealed'),
        ),
      )
    },
  })
  const refilter = () => {
    forceFilter = true
    seenMessages = -1
  }
  stateFilter.addEventListener('change', refilter)
  search.addEventListener('input', refilter)

  const el = h(
    'section',
    { class: 'view flow' },
    h(
      'div',
      { class: 'card graph-card' },
      h(
        'div',
        { class: 'card-head' },
        h('h2', {}, 'Participants'),
        h('span', { class: 'muted' }, 'Tokens move sender → recipient as states advance'),
      ),
      h('div', { class: 'graph-wrap' }, svg),
      legend,
      nodeSummary,
    ),
    h(
      'div',
      { class: 'card list-card' },
      h('div', { class: 'card-head' }, h('h2', {}, 'Messages'), count),
      h('div', { class: 'toolbar' }, search, stateFilter),
      h(
        'div',
        { class: 'row list-head msg-row', 'aria-hidden': 'true' },
        h('span', {}, 'Time'),
        h('span', {}, 'State'),
        h('span', {}, 'From → to'),
        h('span', {}, 'Id'),
        h('span', {}, 'Content'),
      ),
      list.el,
    ),
  )

  function layout(): void {
    const parties = [...model.parties.values()].sort((a, b) => a.firstAt - b.firstAt)
    positions.clear()
    const n = parties.length
    const rx = W / 2 - 80
    const ry = H / 2 - 80
    parties.forEach((p, i) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, n)
      positions.set(p.account.toLowerCase(), {
        x: n === 1 ? W / 2 : W / 2 + rx * Math.cos(a),
        y: n === 1 ? H / 2 : H / 2 - 6 + ry * Math.sin(a),
      })
    })
    nodesG.replaceChildren(...parties.map(nodeEl))
    nodeSummary.textContent = `${plural(n, 'participant')}: ${parties
      .map((p) => `${p.name ?? p.account}${p.role && p.role !== 'honest' ? ` (${p.role})` : ''}`)
      .join(', ')}`
    drawEdges()
  }

  function nodeEl(p: Party): SVGGElement {
    const pos = positions.get(p.account.toLowerCase()) as Pos
    const bad = p.role !== undefined && p.role !== 'honest'
    const name = p.name ?? shortHex(p.account)
    const initials = (p.name ?? p.account.slice(2, 4)).slice(0, 2).toUpperCase()
    const g = s(
      'g',
      { class: `node${bad ? ' node-bad' : ''}`, transform: `translate(${pos.x} ${pos.y})` },
      s(
        'title',
        {},
        `${name} ${p.account}${bad ? ` (${p.role})` : ''} · ${plural(p.devices.size, 'device')}`,
      ),
      s('circle', { r: 26 }),
      s('text', { class: 'node-initials', 'text-anchor': 'middle', dy: '0.35em' }, initials),
      s('text', { class: 'node-name', 'text-anchor': 'middle', y: 44 }, name),
    )
    if (bad)
      g.append(
        s('text', { class: 'node-role', 'text-anchor': 'middle', y: 60 }, roleLabels[p.role ?? ''] ?? p.role),
      )
    return g
  }

  function drawEdges(): void {
    const lines: SVGLineElement[] = []
    for (const key of edges) {
      const [a, b] = key.split('|') as [string, string]
      const pa = positions.get(a)
      const pb = positions.get(b)
      if (pa && pb) lines.push(s('line', { x1: pa.x, y1: pa.y, x2: pb.x, y2: pb.y }))
    }
    edgesG.replaceChildren(...lines)
  }

  function addEdge(from: string, to: string): boolean {
    const a = from.toLowerCase()
    const b = to.toLowerCase()
    if (a === b) return false
    const key = a < b ? `${a}|${b}` : `${b}|${a}`
    if (edges.has(key)) return false
    edges.add(key)
    return true
  }

  function scanEdges(): void {
    edges.clear()
    for (const m of model.messages.values()) for (const t of m.to) addEdge(m.from, t)
    drawEdges()
  }

  function point(from: Pos, to: Pos, t: number): Pos {
    const dx = to.x - from.x
    const dy = to.y - from.y
    const len = Math.hypot(dx, dy) || 1
    const pad = 34 / len // stop at the nodes' rims
    const tt = pad + (1 - 2 * pad) * t
    return { x: from.x + dx * tt, y: from.y + dy * tt }
  }

  function place(dot: SVGGElement, from: Pos, to: Pos, state: DashboardMessageState): void {
    dot.setAttribute('class', `dot state-${state}`)
    const icon = dot.lastChild as SVGTextElement
    icon.textContent = stateIcons[state]
    if (state === 'rejected') return
    const p = point(from, to, progress[state])
    dot.style.transform = `translate(${p.x}px, ${p.y}px)`
  }

  function dropToken(id: string): void {
    const t = tokens.get(id)
    if (!t) return
    clearTimeout(t.timer)
    t.g.remove()
    tokens.delete(id)
  }

  function retire(id: string, token: Token, delay: number): void {
    clearTimeout(token.timer)
    token.timer = window.setTimeout(() => {
      token.g.classList.add('fading')
      token.timer = window.setTimeout(() => dropToken(id), 450)
    }, delay)
  }

  model.onLiveMessage = (e: MessageEvent, rec: MessageRec) => {
    let newEdge = false
    for (const t of rec.to) newEdge = addEdge(rec.from, t) || newEdge
    if (newEdge) drawEdges()
    const from = positions.get(rec.from.toLowerCase())
    if (!from || document.hidden) return
    let token = tokens.get(e.id)
    if (!token) {
      if (tokens.size >= MAX_TOKENS) dropToken(tokens.keys().next().value as string)
      token = { g: s('g', { class: 'token' }), dots: new Map(), timer: 0 }
      tokens.set(e.id, token)
      tokensG.append(token.g)
    }
    const state = rec.state
    for (const r of rec.to) {
      const to = positions.get(r.toLowerCase())
      if (!to) continue
      const dot = token.dots.get(r)
      if (dot) {
        place(dot, from, to, state)
        continue
      }
      const created = s(
        'g',
        { class: `dot state-${state}` },
        s('circle', { r: 10 }),
        s('text', { 'text-anchor': 'middle', dy: '0.35em' }, stateIcons[state]),
      )
      const start = point(from, to, 0)
      created.style.transform = `translate(${start.x}px, ${start.y}px)`
      token.dots.set(r, created)
      token.g.append(created)
      requestAnimationFrame(() => requestAnimationFrame(() => place(created, from, to, state)))
    }
    if (state === 'final') retire(e.id, token, 1500)
    else if (state === 'rejected') retire(e.id, token, 5000)
    else retire(e.id, token, 20_000)
  }

  function filteredMessages(): MessageRec[] {
    const st = stateFilter.value
    const q = search.value.trim().toLowerCase()
    const out: MessageRec[] = []
    const order = model.messageOrder
    for (let i = 0; i < order.length; i++) {
      const id = order.fromNewest(i)
      const m = id === undefined ? undefined : model.messages.get(id)
      if (!m) continue
      if (st && m.state !== st) continue
      if (q) {
        const hay = `${m.id} ${model.nameOf(m.from)} ${m.from} ${m.to.map((t) => `${model.nameOf(t)} ${t}`).join(' ')} ${m.text ?? ''}`
        if (!hay.toLowerCase().includes(q)) continue
      }
      out.push(m)
    }
    return out
  }

  return {
    el,
    update() {
      if (model.generation !== seenGeneration) {
        seenGeneration = model.generation
        for (const id of [...tokens.keys()]) dropToken(id)
      }
      if (model.revs.participants !== seenParticipants) {
        seenParticipants = model.revs.participants
        layout()
      }
      if (model.revs.messages !== seenMessages) {
        const now = performance.now()
        // Under a firehose, re-filter the (up to 10,000) messages at most ~6 times a second.
        if (!forceFilter && now - lastFilter < 160) return true
        forceFilter = false
        lastFilter = now
        seenMessages = model.revs.messages
        if (!app.timeline.live || edges.size === 0) scanEdges()
        for (const [st, n] of legendCounts) n.textContent = (model.stateCounts.get(st) ?? 0).toLocaleString()
        const items = filteredMessages()
        list.setItems(items)
        count.textContent = `${items.length.toLocaleString()} of ${model.messages.size.toLocaleString()} shown`
      }
      return false
    },
    onShow() {
      forceFilter = true
      seenMessages = -1
    },
  }
}
