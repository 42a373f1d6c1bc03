/** Tiny DOM helpers. Event data only ever reaches the page through text nodes and attributes, never as HTML. */

type Child = Node | string | number | null | undefined | false
type AttrValue = string | number | boolean | null | undefined | EventListener

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  setAttrs(el, attrs)
  append(el, children)
  return el
}

const SVG_NS = 'http://www.w3.org/2000/svg'

export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag)
  setAttrs(el, attrs)
  append(el, children)
  return el
}

function setAttrs(el: Element, attrs: Record<string, AttrValue>): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v)
    else el.setAttribute(k, v === true ? '' : String(v))
  }
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    el.append(typeof c === 'number' ? String(c) : c)
  }
}

export function clear(el: Element): void {
  el.replaceChildren()
}

export function shortHex(value: string | undefined, head = 6, tail = 4): string {
  if (!value) return '—'
  if (value.length <= head + tail + 1) return value
  return `${value.slice(0, head)}…${tail > 0 ? value.slice(-tail) : ''}`
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

export function fmtTime(at: number, ms = true): string {
  const d = new Date(at)
  const base = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  return ms ? `${base}.${pad(d.getMilliseconds(), 3)}` : base
}

export function fmtNumber(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '—'
  return n.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

/**
 * A count and its noun, pluralised: `1 entry`, `2 entries`, `0 messages`.
 *
 * @example plural(1, 'entry', 'entries') // '1 entry'
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`
}

export function fmtMs(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—'
  return n >= 10_000 ? `${fmtNumber(n / 1000, 1)} s` : `${fmtNumber(n, n < 10 ? 1 : 0)} ms`
}

/** A ✓/✗ verdict as icon + text, never colour alone. */
export function verdict(ok: boolean, yes = 'ok', no = 'failed'): HTMLSpanElement {
  return h(
    'span',
    { class: `verdict ${ok ? 'verdict-ok' : 'verdict-bad'}` },
    h('span', { 'aria-hidden': 'true', class: 'verdict-icon' }, ok ? '✓' : '✗'),
    ` ${ok ? yes : no}`,
  )
}

/** Copyable monospace value with a full-value tooltip. */
export function mono(value: string | undefined, short = true): HTMLElement {
  return h('code', { class: 'mono', title: value ?? '' }, short ? shortHex(value) : (value ?? '—'))
}
