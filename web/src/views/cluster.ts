/** The cluster panel of the metrics view: each relay and NATS node of `up --cluster` with its health and load. */
import type { ClusterEvent } from '../../../src/dashboard/events.ts'
import { fmtNumber, h } from '../dom.ts'

const mib = (bytes: number) => `${fmtNumber(bytes / 2 ** 20, 1)} MiB`

/**
 * A table of relays and a table of NATS nodes, re-rendered from the newest `cluster` event; hidden without one.
 *
 * @example const panel = clusterPanel(); panel.render(model.cluster)
 */
export function clusterPanel(): { el: HTMLElement; render(event: ClusterEvent | undefined): void } {
  const el = h('section', { class: 'cluster', 'aria-label': 'Cluster', 'data-testid': 'cluster' })
  el.hidden = true
  const health = (up: boolean) =>
    h('td', { class: up ? 'ok' : 'bad', 'data-testid': 'health' }, up ? '● up' : '● down')
  const table = (caption: string, head: string[], rows: HTMLElement[]) =>
    h(
      'table',
      { class: 'cluster-table' },
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ...head.map((t) => h('th', {}, t)))),
      h('tbody', {}, ...rows),
    )
  return {
    el,
    render(event) {
      el.hidden = event === undefined
      if (!event) return
      const relays = event.relays.map((r) =>
        h(
          'tr',
          { 'data-testid': 'cluster-relay' },
          h('td', {}, r.anchoring ? `${r.name} ⚓` : r.name),
          h('td', {}, r.url),
          health(r.up),
          h('td', {}, fmtNumber(r.connections)),
          h('td', {}, `${fmtNumber(r.throughput)} msg/s`),
          h('td', {}, fmtNumber(r.pendingLeaves)),
        ),
      )
      const nodes = event.nats.map((n) =>
        h(
          'tr',
          { 'data-testid': 'cluster-nats' },
          h('td', {}, n.leader ? `${n.name} ★` : n.name),
          h('td', {}, n.url),
          health(n.up),
          h('td', {}, fmtNumber(n.connections)),
          h('td', {}, fmtNumber(n.routes)),
          h('td', {}, `${fmtNumber(n.inMsgs)} / ${fmtNumber(n.outMsgs)}`),
          h('td', {}, `${fmtNumber(n.cpu, 1)} %`),
          h('td', {}, mib(n.memBytes)),
          h('td', {}, `${fmtNumber(n.jsMessages)} (${mib(n.jsBytes)})`),
        ),
      )
      el.replaceChildren(
        table('Relays', ['relay', 'URL', 'health', 'connections', 'accepted', 'pending leaves'], relays),
        table(
          'NATS nodes (★ JetStream meta leader)',
          [
            'node',
            'URL',
            'health',
            'clients',
            'routes',
            'msgs in / out per s',
            'CPU',
            'memory',
            'JetStream msgs',
          ],
          nodes,
        ),
      )
    },
  }
}
