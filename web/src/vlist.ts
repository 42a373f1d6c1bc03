/** Virtualized list: only the rows in view (plus a few) exist in the DOM; one row is tabbable (roving tabindex). */
import { h } from './dom.ts'

export interface VirtualListOptions<T> {
  label: string
  rowHeight: number
  className: string
  key: (item: T) => string
  renderRow: (item: T, index: number) => HTMLElement
  /** Rows whose key and signature are unchanged are reused as they are (stable elements, less work). */
  signature?: (item: T) => string
  onActivate?: (item: T) => void
  empty?: string
}

const OVERSCAN = 6

export class VirtualList<T> {
  readonly el: HTMLDivElement
  private readonly spacer: HTMLDivElement
  private readonly emptyEl: HTMLDivElement
  private items: T[] = []
  private active = 0
  private frame = 0
  private lastRange = ''
  private cache = new Map<string, { sig: string; row: HTMLElement }>()

  constructor(private readonly o: VirtualListOptions<T>) {
    this.spacer = h('div', { class: 'vlist-spacer' })
    this.emptyEl = h('div', { class: 'vlist-empty', role: 'presentation' }, o.empty ?? 'Nothing yet.')
    this.el = h(
      'div',
      { class: `vlist ${o.className}`, role: 'listbox', 'aria-label': o.label, tabindex: '-1' },
      this.spacer,
    )
    this.el.addEventListener('scroll', () => this.schedule(), { passive: true })
    this.el.addEventListener('keydown', (ev) => this.onKey(ev))
    this.el.addEventListener('click', (ev) => {
      const row = (ev.target as Element).closest<HTMLElement>('[data-index]')
      if (!row) return
      this.active = Number(row.dataset.index)
      const item = this.items[this.active]
      if (item !== undefined) this.o.onActivate?.(item)
    })
    this.el.addEventListener('focusin', (ev) => {
      const row = (ev.target as Element).closest<HTMLElement>('[data-index]')
      if (row) this.active = Number(row.dataset.index)
    })
    new ResizeObserver(() => this.schedule()).observe(this.el)
  }

  setItems(items: T[]): void {
    this.items = items
    if (this.active >= items.length) this.active = Math.max(0, items.length - 1)
    this.lastRange = ''
    this.schedule()
  }

  get length(): number {
    return this.items.length
  }

  private schedule(): void {
    if (this.frame) return
    this.frame = requestAnimationFrame(() => {
      this.frame = 0
      this.render()
    })
  }

  render(): void {
    const rh = this.o.rowHeight
    const n = this.items.length
    this.spacer.style.height = `${n * rh}px`
    const top = this.el.scrollTop
    const height = this.el.clientHeight || 600
    const start = Math.max(0, Math.floor(top / rh) - OVERSCAN)
    const end = Math.min(n, Math.ceil((top + height) / rh) + OVERSCAN)
    const range = `${start}:${end}:${n}:${this.active}`
    if (range === this.lastRange) return
    this.lastRange = range
    const focusedKey = this.focusedKey()
    const rows: HTMLElement[] = []
    const tabbable = this.active >= start && this.active < end ? this.active : start
    let refocus: HTMLElement | undefined
    const cache = new Map<string, { sig: string; row: HTMLElement }>()
    for (let i = start; i < end; i++) {
      const item = this.items[i] as T
      const key = this.o.key(item)
      const sig = this.o.signature?.(item) ?? ''
      const cached = this.o.signature ? this.cache.get(key) : undefined
      const row = cached && cached.sig === sig ? cached.row : this.o.renderRow(item, i)
      cache.set(key, { sig, row })
      row.dataset.index = String(i)
      row.dataset.key = key
      row.setAttribute('role', 'option')
      row.setAttribute('aria-posinset', String(i + 1))
      row.setAttribute('aria-setsize', String(n))
      row.setAttribute('aria-selected', String(i === this.active))
      row.tabIndex = i === tabbable ? 0 : -1
      row.classList.add('vrow')
      row.style.transform = `translateY(${i * rh}px)`
      row.style.height = `${rh}px`
      if (key === focusedKey) refocus = row
      rows.push(row)
    }
    this.cache = cache
    // Keep rows that stay in place attached, so focus and pointer targets survive live updates.
    const keep = new Set(rows)
    for (const child of [...this.el.children])
      if (child !== this.spacer && !keep.has(child as HTMLElement)) child.remove()
    for (const row of rows) if (row.parentNode !== this.el) this.el.append(row)
    if (n === 0) this.el.append(this.emptyEl)
    refocus?.focus({ preventScroll: true })
  }

  private focusedKey(): string | undefined {
    const a = document.activeElement
    return a instanceof HTMLElement && this.el.contains(a) ? a.dataset.key : undefined
  }

  private onKey(ev: KeyboardEvent): void {
    const n = this.items.length
    if (n === 0) return
    const page = Math.max(1, Math.floor(this.el.clientHeight / this.o.rowHeight) - 1)
    let next = this.active
    switch (ev.key) {
      case 'ArrowDown':
        next++
        break
      case 'ArrowUp':
        next--
        break
      case 'PageDown':
        next += page
        break
      case 'PageUp':
        next -= page
        break
      case 'Home':
        next = 0
        break
      case 'End':
        next = n - 1
        break
      case 'Enter':
      case ' ': {
        const item = this.items[this.active]
        if (item !== undefined && this.o.onActivate) {
          ev.preventDefault()
          this.o.onActivate(item)
        }
        return
      }
      default:
        return
    }
    ev.preventDefault()
    this.active = Math.max(0, Math.min(n - 1, next))
    const rh = this.o.rowHeight
    const y = this.active * rh
    if (y < this.el.scrollTop) this.el.scrollTop = y
    else if (y + rh > this.el.scrollTop + this.el.clientHeight)
      this.el.scrollTop = y + rh - this.el.clientHeight
    this.lastRange = ''
    this.render()
    this.el.querySelector<HTMLElement>(`[data-index="${this.active}"]`)?.focus({ preventScroll: true })
  }
}
