/** Metrics: uPlot charts for throughput, latency, queue depth and anchoring. Charts are created when first shown. */
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { App, View } from '../app.ts'
import { fmtMs, fmtNumber, h } from '../dom.ts'
import { percentile, RATE_WINDOW } from '../model.ts'
import { chainsPanel } from './chains.ts'
import { clusterPanel } from './cluster.ts'

interface ChartSpec {
  id: string
  title: string
  note: string
  /** Builds the uPlot options (without size). */
  options: () => Omit<uPlot.Options, 'width' | 'height'>
  data: () => uPlot.AlignedData
}

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim()

function axes(xTime: boolean, yLabel: string, xLabel?: string): uPlot.Axis[] {
  const stroke = css('--muted')
  const grid = { stroke: css('--grid'), width: 1 }
  const ticks = { stroke: css('--grid'), width: 1 }
  const font = '11px system-ui, sans-serif'
  return [
    {
      stroke,
      grid,
      ticks,
      font,
      ...(xLabel ? { label: xLabel, labelFont: font } : {}),
      ...(xTime ? {} : {}),
    },
    { stroke, grid, ticks, font, label: yLabel, labelFont: font, size: 56 },
  ]
}

function line(label: string, color: string, extra: Partial<uPlot.Series> = {}): uPlot.Series {
  return { label, stroke: color, width: 2, points: { show: false }, ...extra }
}

export function metricsView(app: App): View {
  const { model } = app
  const tiles = h('dl', { class: 'tiles', 'aria-label': 'Current figures' })
  const grid = h('div', { class: 'charts' })
  const cluster = clusterPanel()
  const chains = chainsPanel()
  const el = h('section', { class: 'view metrics' }, tiles, chains.el, cluster.el, grid)
  const charts = new Map<string, { spec: ChartSpec; plot: uPlot | undefined; box: HTMLElement }>()
  let seen = ''
  let lastRun = 0
  let hist: { x: number[]; y: number[]; p50: number | undefined; p99: number | undefined } = {
    x: [],
    y: [],
    p50: undefined,
    p99: undefined,
  }

  const bars = (uPlot.paths.bars as NonNullable<typeof uPlot.paths.bars>)({ size: [0.85, 60], align: 1 })

  const batchSeries = (
    pick: (b: {
      lagMs?: number | undefined
      gasPerLeaf?: number | undefined
      leafCount: number
    }) => number | undefined,
  ) => {
    const xs: number[] = []
    const ys: number[] = []
    for (const b of model.batches) {
      const v = pick(b)
      if (v === undefined) continue
      xs.push(b.at / 1000)
      ys.push(v)
    }
    return [xs, ys] as uPlot.AlignedData
  }

  const specs: ChartSpec[] = [
    {
      id: 'throughput',
      title: 'Throughput',
      note: `envelopes accepted by the relay per second (mean of the last ${RATE_WINDOW} s)`,
      options: () => ({
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: axes(true, 'msgs/s'),
        series: [{}, line('msgs/s', css('--c1'), { fill: css('--c1-fill') })],
      }),
      data: () => {
        const xs: number[] = []
        const ys: number[] = []
        for (const m of model.metrics) {
          xs.push(m.at / 1000)
          ys.push(m.rate)
        }
        return [xs, ys]
      },
    },
    {
      id: 'queue',
      title: 'Queue depth',
      note: 'relay queue, leaves waiting for a batch, open connections',
      options: () => ({
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: axes(true, 'count'),
        series: [
          {},
          line('queue depth', css('--c1')),
          line('pending leaves', css('--c4'), { dash: [6, 4] }),
          line('connections', css('--c5'), { dash: [2, 3] }),
        ],
      }),
      data: () => {
        const xs: number[] = []
        const q: number[] = []
        const p: number[] = []
        const c: number[] = []
        for (const m of model.metrics) {
          xs.push(m.at / 1000)
          q.push(m.queueDepth)
          p.push(m.pendingLeaves)
          c.push(m.connections)
        }
        return [xs, q, p, c]
      },
    },
    {
      id: 'latency',
      title: 'Delivery latency',
      note: 'accepted → processed by the recipient; histogram of the recent window',
      options: () => ({
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: axes(false, 'messages', 'latency (ms)'),
        series: [
          { label: 'latency ≥ (ms)' },
          {
            label: 'messages',
            stroke: css('--c2'),
            fill: css('--c2-fill'),
            width: 1,
            paths: bars,
            points: { show: false },
          },
        ],
      }),
      data: () => [hist.x, hist.y],
    },
    {
      id: 'latency-pct',
      title: 'Latency percentiles',
      note: 'p50 and p99 per second, from metrics.latencies',
      options: () => ({
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: axes(true, 'ms'),
        series: [{}, line('p50', css('--c1')), line('p99', css('--c3'), { dash: [6, 4] })],
      }),
      data: () => {
        const xs: number[] = []
        const a: (number | null)[] = []
        const b: (number | null)[] = []
        for (const m of model.metrics) {
          xs.push(m.at / 1000)
          a.push(m.p50 ?? null)
          b.push(m.p99 ?? null)
        }
        return [xs, a, b]
      },
    },
    {
      id: 'lag',
      title: 'Anchoring lag',
      note: 'oldest leaf submitted → batch event (batch.lagMs)',
      options: () => ({
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: axes(true, 'ms'),
        series: [{}, line('lag (ms)', css('--c3'), { points: { show: true, size: 5 } })],
      }),
      data: () => batchSeries((b) => b.lagMs),
    },
    {
      id: 'gas',
      title: 'Gas per anchored message',
      note: 'batch.gasPerLeaf: the anchor transaction’s gas split over its leaves',
      options: () => ({
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: axes(true, 'gas / msg'),
        series: [{}, line('gas per leaf', css('--c4'), { points: { show: true, size: 5 } })],
      }),
      data: () => batchSeries((b) => b.gasPerLeaf),
    },
    {
      id: 'batches',
      title: 'Batch sizes',
      note: 'leaves per anchoring batch (batch.leafCount)',
      options: () => ({
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: axes(true, 'leaves'),
        series: [
          {},
          {
            label: 'leaves',
            stroke: css('--c5'),
            fill: css('--c5-fill'),
            width: 1,
            paths: bars,
            points: { show: false },
          },
        ],
      }),
      data: () => batchSeries((b) => b.leafCount),
    },
  ]

  // chart-latency holds the histogram and the percentile chart together.
  const latencyBox = h('div', { class: 'chart-pair', 'data-testid': 'chart-latency' })
  for (const spec of specs) {
    const box = h('div', { class: 'chart', role: 'img', 'aria-label': `${spec.title}: ${spec.note}` })
    const card = h(
      'figure',
      { class: 'card chart-card' },
      h('figcaption', {}, h('h3', {}, spec.title), h('span', { class: 'muted' }, spec.note)),
      box,
    )
    charts.set(spec.id, { spec, plot: undefined, box })
    if (spec.id === 'latency' || spec.id === 'latency-pct') {
      latencyBox.append(card)
      if (spec.id === 'latency') grid.append(latencyBox)
    } else {
      card.dataset.testid = `chart-${spec.id}`
      if (spec.id === 'batches') card.classList.add('wide')
      grid.append(card)
    }
  }
  latencyBox.classList.add('wide')

  const size = (box: HTMLElement) => ({ width: Math.max(120, Math.floor(box.clientWidth)), height: 200 })

  function ensure(): void {
    for (const c of charts.values()) {
      if (c.plot || c.box.clientWidth === 0) continue
      c.plot = new uPlot(
        { ...c.spec.options(), ...size(c.box), legend: { live: false } },
        c.spec.data(),
        c.box,
      )
    }
  }

  const resize = new ResizeObserver(() => {
    for (const c of charts.values()) if (c.plot && c.box.clientWidth > 0) c.plot.setSize(size(c.box))
  })
  for (const c of charts.values()) resize.observe(c.box)

  function computeHistogram(): void {
    const n = model.latencies.length
    if (n === 0) {
      hist = { x: [], y: [], p50: undefined, p99: undefined }
      return
    }
    const sorted = Float64Array.from(model.latencies).sort()
    const p99 = percentile(sorted, 99) ?? 0
    const top = Math.max(1, p99 * 1.25)
    const bins = 30
    const step = niceStep(top / bins)
    const count = Math.ceil(top / step) + 1
    const y = new Array<number>(count).fill(0)
    for (const v of sorted) y[Math.min(count - 1, Math.floor(v / step))]! += 1
    hist = { x: y.map((_, i) => i * step), y, p50: percentile(sorted, 50), p99 }
  }

  function renderTiles(): void {
    const last = model.metrics.fromNewest(0)
    let confirmed = 0
    let lagSum = 0
    let lagN = 0
    let gasSum = 0
    let gasN = 0
    for (const b of model.batches) {
      if (b.status === 'confirmed') confirmed++
      if (b.lagMs !== undefined) {
        lagSum += b.lagMs
        lagN++
      }
      if (b.gasPerLeaf !== undefined) {
        gasSum += b.gasPerLeaf
        gasN++
      }
    }
    const tile = (label: string, value: string, id: string) =>
      h('div', { class: 'tile', 'data-testid': `metric-${id}` }, h('dt', {}, label), h('dd', {}, value))
    tiles.replaceChildren(
      tile('Throughput', last ? `${fmtNumber(last.rate, 1)} msg/s` : '—', 'throughput'),
      tile('Latency p50', fmtMs(hist.p50), 'p50'),
      tile('Latency p99', fmtMs(hist.p99), 'p99'),
      tile('Queue depth', last ? fmtNumber(last.queueDepth) : '—', 'queue'),
      tile('Connections', last ? fmtNumber(last.connections) : '—', 'connections'),
      tile('Pending leaves', last ? fmtNumber(last.pendingLeaves) : '—', 'pending'),
      tile('Batches confirmed', fmtNumber(confirmed), 'batches'),
      tile('Mean anchoring lag', lagN ? fmtMs(lagSum / lagN) : '—', 'lag'),
      tile('Mean gas / message', gasN ? fmtNumber(gasSum / gasN) : '—', 'gas'),
    )
  }

  return {
    el,
    update() {
      const key = `${model.revs.metrics}|${model.revs.batches}|${model.revs.cluster}|${model.revs.chains}|${model.generation}`
      if (key === seen) {
        ensure()
        return false
      }
      const now = performance.now()
      if (seen !== '' && now - lastRun < 250) return true
      lastRun = now
      seen = key
      computeHistogram()
      renderTiles()
      cluster.render(model.cluster)
      chains.render(model.chains)
      ensure()
      for (const c of charts.values()) c.plot?.setData(c.spec.data())
      return false
    },
    onShow() {
      seen = ''
    },
    onTheme() {
      for (const c of charts.values()) {
        c.plot?.destroy()
        c.plot = undefined
      }
      seen = ''
    },
  }
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw))
  const m = raw / p
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p
}
