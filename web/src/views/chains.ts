/** The chains panel of the metrics view: each chain of `up --chains 2` (height, health) and the mirroring lag A → B. */
import type { ChainsEvent } from '../../../src/dashboard/events.ts'
import { fmtNumber, h } from '../dom.ts'

const seconds = (s: number) => `${fmtNumber(s, 1)} s`

/**
 * A table of chains and a line on mirroring, re-rendered from the newest `chains` event; hidden without one.
 *
 * @example const panel = chainsPanel(); panel.render(model.chains)
 */
export function chainsPanel(): { el: HTMLElement; render(event: ChainsEvent | undefined): void } {
  const el = h('section', { class: 'cluster chains', 'aria-label': 'Chains', 'data-testid': 'chains' })
  el.hidden = true
  return {
    el,
    render(event) {
      el.hidden = event === undefined
      if (!event) return
      const rows = event.chains.map((c) =>
        h(
          'tr',
          { 'data-testid': 'chain' },
          h('td', {}, c.name),
          h('td', {}, String(c.chainId)),
          h('td', {}, c.rpc),
          h('td', { class: c.up ? 'ok' : 'bad', 'data-testid': 'health' }, c.up ? '● up' : '● down'),
          h('td', { 'data-testid': 'height' }, c.up ? fmtNumber(c.head) : '—'),
          h('td', {}, c.up ? seconds(c.headAgeSeconds) : '—'),
        ),
      )
      const m = event.mirror
      const lag = m
        ? h(
            'p',
            { class: 'mirror-lag', 'data-testid': 'mirror-lag' },
            m.pending === 0
              ? `Mirroring A → B: caught up (${fmtNumber(m.delivered)} delivered)`
              : `Mirroring A → B: ${fmtNumber(m.pending)} not yet on B, oldest ${fmtNumber(m.lagBlocks)} blocks / ${seconds(m.lagSeconds)} behind`,
            m.lastLagSeconds !== undefined
              ? `; last delivery ${fmtNumber(m.lastLagBlocks ?? 0)} blocks / ${seconds(m.lastLagSeconds)} after its origin block`
              : '',
          )
        : h(
            'p',
            { class: 'mirror-lag', 'data-testid': 'mirror-lag' },
            'Mirroring A → B: no answer this second',
          )
      el.replaceChildren(
        h(
          'table',
          { class: 'cluster-table' },
          h('caption', {}, 'Chains'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['chain', 'chain id', 'RPC', 'health', 'height', 'newest block'].map((t) => h('th', {}, t)),
            ),
          ),
          h('tbody', {}, ...rows),
        ),
        lag,
      )
    },
  }
}
