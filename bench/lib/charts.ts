/** SVG charts of benchmark results, rendered headless with vega-lite and vega. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as vega from 'vega'
import * as vl from 'vega-lite'
import type { BenchResult } from './report.js'

type Spec = vl.TopLevelSpec
type Series = NonNullable<BenchResult['series']>[string]

function bar(title: string, values: unknown[], x: string, y: string, yTitle: string, log = false): Spec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 220,
    data: { values: values as Record<string, unknown>[] },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: x, type: 'nominal', sort: null, title: null, axis: { labelLimit: 300 } },
      x: { field: y, type: 'quantitative', title: yTitle, ...(log ? { scale: { type: 'log' } } : {}) },
    },
  }
}

function lines(
  title: string,
  values: unknown[],
  x: string,
  y: string,
  color: string,
  yTitle: string,
  xTitle: string,
): Spec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 240,
    data: { values: values as Record<string, unknown>[] },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: { field: x, type: 'quantitative', scale: { type: 'log' }, title: xTitle },
      y: { field: y, type: 'quantitative', scale: { type: 'log' }, title: yTitle },
      color: { field: color, type: 'nominal', title: null },
    },
  }
}

/** The chart specs of one result (none if it has no series to draw). */
export function chartSpecs(r: BenchResult): { file: string; spec: Spec }[] {
  const s = r.series ?? {}
  const out: { file: string; spec: Spec }[] = []
  if (r.name === 'crypto' && s.throughput)
    out.push({
      file: 'bench-crypto.svg',
      spec: bar('1:1 seal+open of 1 KiB messages', s.throughput, 'label', 'value', 'messages per second'),
    })
  if (r.name === 'relay' && s.throughput) {
    out.push({
      file: 'bench-relay-throughput.svg',
      spec: bar('1 KiB envelopes between processes', s.throughput, 'label', 'value', 'messages per second'),
    })
    if (s.latency)
      out.push({
        file: 'bench-relay-latency.svg',
        spec: {
          $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
          title: "Latency at 10% of each system's maximum load",
          width: 360,
          height: 220,
          data: { values: s.latency as Record<string, unknown>[] },
          mark: { type: 'bar', tooltip: true },
          encoding: {
            x: { field: 'stat', type: 'nominal', sort: ['p50', 'p99', 'p999'], title: null },
            xOffset: { field: 'system' },
            y: { field: 'ms', type: 'quantitative', title: 'milliseconds' },
            color: { field: 'system', type: 'nominal', title: null },
          },
        },
      })
  }
  if (r.name === 'cluster' && s.throughput && s.cpu) {
    out.push({
      file: 'bench-cluster-throughput.svg',
      spec: bar(
        '1 KiB envelopes on a 3-node R3 JetStream cluster',
        s.throughput,
        'label',
        'value',
        'messages per second',
      ),
    })
    out.push({
      file: 'bench-cluster-cpu.svg',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'CPU per envelope at full load (all processes of each kind)',
        width: 360,
        height: 220,
        data: { values: s.cpu as Record<string, unknown>[] },
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'system', type: 'nominal', sort: null, title: null },
          y: { field: 'us', type: 'quantitative', stack: 'zero', title: 'µs of CPU per envelope' },
          color: { field: 'part', type: 'nominal', title: null },
        },
      },
    })
  }
  if (r.name === 'soak' && s.memory && s.latency) {
    const overTime = (title: string, values: Series, y: string, color: string, yTitle: string): Spec => ({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      width: 360,
      height: 220,
      data: { values: values as Record<string, unknown>[] },
      mark: { type: 'line', point: true, tooltip: true },
      encoding: {
        x: { field: 'minutes', type: 'quantitative', title: 'minutes' },
        y: { field: y, type: 'quantitative', title: yTitle },
        color: { field: color, type: 'nominal', title: null, legend: { labelLimit: 300 } },
      },
    })
    out.push({
      file: 'bench-soak-memory.svg',
      spec: overTime('Memory under a steady load', s.memory, 'mib', 'what', 'MiB'),
    })
    out.push({
      file: 'bench-soak-latency.svg',
      spec: overTime('Latency under a steady load', s.latency, 'ms', 'stat', 'milliseconds'),
    })
  }
  if (r.name === 'anchor' && s.gas)
    out.push({
      file: 'bench-anchor.svg',
      spec: lines(
        'Gas per message by batch size',
        s.gas,
        'batch',
        'gasPerMsg',
        'kind',
        'gas per message',
        'batch size (leaves)',
      ),
    })
  if (r.name === 'groups' && s.create)
    out.push({
      file: 'bench-groups.svg',
      spec: lines(
        'MLS group creation (X-Wing suite)',
        s.create,
        'members',
        'ms',
        'provider',
        'milliseconds',
        'members',
      ),
    })
  if (r.name === 'scale' && s.memory)
    out.push({
      file: 'bench-scale.svg',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'Server memory per connection',
        width: 360,
        height: 220,
        data: { values: s.memory as Record<string, unknown>[] },
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'connections', type: 'ordinal', title: 'connections' },
          xOffset: { field: 'system' },
          y: { field: 'kib', type: 'quantitative', title: 'KiB per connection (heap + external)' },
          color: { field: 'system', type: 'nominal', title: null },
        },
      },
    })
  return out
}

/** Renders a vega-lite spec to an SVG string, without a browser. */
export async function renderSvg(spec: Spec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

/** Writes the charts of `results` into `dir`; returns the files written. */
export async function writeCharts(dir: string, results: BenchResult[]): Promise<string[]> {
  mkdirSync(dir, { recursive: true })
  const files: string[] = []
  for (const r of results)
    for (const { file, spec } of chartSpecs(r)) {
      writeFileSync(join(dir, file), await renderSvg(spec))
      files.push(join(dir, file))
    }
  return files
}
