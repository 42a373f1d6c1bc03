/** Benchmark results: the shared JSON shape (zod), machine facts, and the JSON and Markdown writers. */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'

/** A cell of a result table. */
export const cellSchema = z.union([z.string(), z.number(), z.boolean(), z.null()])

/** One target from the task, judged honestly: met, not met, or not measured (with the reason). */
export const targetSchema = z.object({
  name: z.string(),
  target: z.string(),
  value: z.number().nullable(),
  unit: z.string(),
  met: z.boolean().nullable(),
  note: z.string().optional(),
})

/** The machine the numbers come from. */
export const machineSchema = z.object({
  cores: z.number().int().positive(),
  cpuModel: z.string(),
  totalMemoryBytes: z.number().positive(),
  node: z.string(),
  platform: z.string(),
})

/** Everything `bench/results/<name>.json` holds. */
export const benchResultSchema = z.object({
  name: z.string(),
  title: z.string(),
  date: z.string(),
  commit: z.string(),
  quick: z.boolean(),
  durationMs: z.number(),
  machine: machineSchema,
  /** The same-run baseline and the headline number compared with it. */
  baseline: z.object({ name: z.string(), value: z.number(), unit: z.string() }),
  headline: z.object({ name: z.string(), value: z.number(), unit: z.string() }),
  /** headline / baseline, oriented so that above 1 means Sealpost is better (see `ratioMeaning`). */
  ratio: z.number(),
  ratioMeaning: z.string(),
  columns: z.array(z.string()),
  rows: z.array(z.record(z.string(), cellSchema)),
  targets: z.array(targetSchema),
  notes: z.array(z.string()),
  /** Extra series for charts. */
  series: z.record(z.string(), z.array(z.record(z.string(), cellSchema))).optional(),
})

/** A benchmark's result, as written to JSON. */
export type BenchResult = z.infer<typeof benchResultSchema>
/** A target line. */
export type Target = z.infer<typeof targetSchema>
/** What a benchmark returns; `run.ts` adds the date, machine, commit and duration. */
export type BenchOutput = Omit<BenchResult, 'date' | 'commit' | 'machine' | 'durationMs' | 'quick' | 'name'>

/** Options every benchmark gets. */
export type BenchContext = {
  quick: boolean
  /** Prints a progress line. */
  log: (line: string) => void
}

/** Machine facts for the result header. */
export function machineInfo(): z.infer<typeof machineSchema> {
  const list = cpus()
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  }
}

/** The current git commit (with `-dirty` when the tree has changes), or `unknown`. */
export function gitCommit(cwd = process.cwd()): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${head}-dirty` : head
  } catch {
    return 'unknown'
  }
}

/** A target at most / at least some number. */
export function target(
  name: string,
  value: number | null,
  op: '<=' | '>=',
  limit: number,
  unit: string,
  note?: string,
): Target {
  const met = value === null || !Number.isFinite(value) ? null : op === '<=' ? value <= limit : value >= limit
  const t: Target = {
    name,
    target: `${op === '<=' ? 'at most' : 'at least'} ${limit} ${unit}`,
    value,
    unit,
    met,
  }
  if (note !== undefined) t.note = note
  return t
}

/** Rounds for display: 3 significant digits below 100, integers above. */
export function fmt(value: number | string | boolean | null | undefined): string {
  if (value === null || value === undefined) return '–'
  if (typeof value !== 'number') return String(value)
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 100) return Math.round(value).toLocaleString('en-US')
  if (abs === 0) return '0'
  return Number(value.toPrecision(3)).toString()
}

/** The Markdown section of one result. */
export function toMarkdown(r: BenchResult): string {
  const lines = [`## ${r.title}`, '']
  lines.push(
    `${r.headline.name}: **${fmt(r.headline.value)} ${r.headline.unit}**; baseline (${r.baseline.name}): ${fmt(r.baseline.value)} ${r.baseline.unit}; ratio **${fmt(r.ratio)}x** (${r.ratioMeaning}).`,
    '',
  )
  lines.push(`| ${r.columns.join(' | ')} |`, `|${r.columns.map(() => '---').join('|')}|`)
  for (const row of r.rows) lines.push(`| ${r.columns.map((c) => fmt(row[c])).join(' | ')} |`)
  if (r.targets.length > 0) {
    lines.push('', '| target | wanted | measured | met |', '|---|---|---|---|')
    for (const t of r.targets)
      lines.push(
        `| ${t.name} | ${t.target} | ${fmt(t.value)} ${t.unit} | ${t.met === null ? 'not measured' : t.met ? 'met' : '**not met**'}${t.note ? ` (${t.note})` : ''} |`,
      )
  }
  if (r.notes.length > 0) lines.push('', ...r.notes.map((n) => `- ${n}`))
  const gib = (r.machine.totalMemoryBytes / 2 ** 30).toFixed(1)
  lines.push(
    '',
    `<sub>${r.date}, ${r.quick ? 'quick run' : 'full run'} in ${(r.durationMs / 1000).toFixed(1)} s; ${r.machine.cores} × ${r.machine.cpuModel}, ${gib} GiB, Node ${r.machine.node}, commit ${r.commit.slice(0, 12)}${r.commit.endsWith('-dirty') ? ' (uncommitted changes)' : ''}</sub>`,
    '',
  )
  return lines.join('\n')
}

/** Writes `<dir>/<name>.json` and `<dir>/<name>.md`. */
export function writeResult(dir: string, r: BenchResult): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, `${r.name}.json`), `${JSON.stringify(benchResultSchema.parse(r), null, 2)}\n`)
  writeFileSync(join(dir, `${r.name}.md`), toMarkdown(r))
}

/** Percentile (nearest rank) of a sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

/** Runs `fn` repeatedly for about `ms` milliseconds (at least `min` times); returns operations per second. */
export async function opsPerSecond(
  fn: () => unknown,
  ms: number,
  min = 3,
): Promise<{ ops: number; perSec: number }> {
  const start = performance.now()
  let ops = 0
  while (ops < min || performance.now() - start < ms) {
    await fn()
    ops++
  }
  return { ops, perSec: ops / ((performance.now() - start) / 1000) }
}
