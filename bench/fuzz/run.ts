/**
 * `npm run fuzz`: every decoder of untrusted input, 1,000,000 generated inputs each (mutated valid encodings and
 * random bytes or JSON), each must return a value or throw a `BaseError` subclass. Prints progress per decoder and a
 * table, writes bench/results/fuzz.json, exits 1 on any other throw. Options: `--runs N`, `--seed N`,
 * `--only a,b`, `--out FILE`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { type FuzzTargetResult, runFuzzTarget } from './engine.js'
import { fuzzTargets } from './targets.js'

/** Options of one fuzz run. */
export type FuzzOptions = { runs: number; seed: number; only: string[]; out: string }

/**
 * Parses the command line.
 *
 * @example parseFuzzArgs(['--runs', '2000']) // { runs: 2000, seed: 1, only: [], out: 'bench/results/fuzz.json' }
 */
export function parseFuzzArgs(argv: string[]): FuzzOptions {
  const options: FuzzOptions = {
    runs: 1_000_000,
    seed: 1,
    only: [],
    out: join(import.meta.dirname, '..', 'results', 'fuzz.json'),
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = argv[i + 1] ?? ''
    if (flag === '--runs' || flag === '--seed') {
      const n = Number(value.replaceAll('_', ''))
      if (!Number.isSafeInteger(n) || n < 1)
        throw new Error(`${flag} needs a positive integer, got "${value}"`)
      options[flag === '--runs' ? 'runs' : 'seed'] = n
    } else if (flag === '--only') options.only = value.split(',').filter(Boolean)
    else if (flag === '--out') options.out = resolve(value)
    else throw new Error(`unknown option ${flag}; use --runs N, --seed N, --only a,b, --out FILE`)
    i++
  }
  return options
}

/**
 * Runs every (or every `--only`) target and writes the JSON result; returns the results.
 *
 * @example const results = await runFuzz({ runs: 2000, seed: 1, only: [], out: '/tmp/fuzz.json' })
 */
export async function runFuzz(options: FuzzOptions, log: (line: string) => void = console.log) {
  const all = await fuzzTargets()
  const unknown = options.only.filter((n) => !all.some((t) => t.name === n))
  if (unknown.length)
    throw new Error(`unknown target(s) ${unknown.join(', ')}; known: ${all.map((t) => t.name).join(', ')}`)
  const targets = options.only.length ? all.filter((t) => options.only.includes(t.name)) : all
  log(`fuzz: ${targets.length} decoders × ${options.runs.toLocaleString('en')} inputs, seed ${options.seed}`)
  const results: FuzzTargetResult[] = []
  const started = Date.now()
  for (const [i, target] of targets.entries()) {
    const progressEvery = Math.max(1, Math.min(250_000, Math.floor(options.runs / 4)))
    const result = runFuzzTarget(target, {
      runs: options.runs,
      seed: options.seed + i,
      progressEvery,
      onProgress: (done) =>
        done < options.runs &&
        log(`  ${target.name}: ${done.toLocaleString('en')} / ${options.runs.toLocaleString('en')}`),
    })
    results.push(result)
    log(
      `${result.untyped ? '✗' : '✓'} ${target.name} (${target.decoder}): ${result.ok} accepted, ${result.typed} typed refusals, ${result.untyped} untyped, ${(result.durationMs / 1000).toFixed(1)} s`,
    )
  }
  const totalMs = Date.now() - started
  log('')
  log('| decoder | function | inputs | accepted | typed refusals | untyped | inputs/s | slowest input (ms) |')
  log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const r of results)
    log(
      `| ${r.name} | ${r.decoder} | ${r.runs} | ${r.ok} | ${r.typed} | ${r.untyped} | ${Math.round(r.runs / (r.durationMs / 1000))} | ${r.slowestInputMs.toFixed(2)} |`,
    )
  const untyped = results.reduce((n, r) => n + r.untyped, 0)
  for (const r of results)
    for (const c of r.crashes)
      log(`crash in ${r.name}: ${c.error}: ${c.message}\n  input: ${c.input.slice(0, 400)}`)
  log(
    `\nfuzz: ${untyped === 0 ? 'no untyped throw' : `${untyped} untyped throws`} in ${(totalMs / 1000).toFixed(1)} s`,
  )
  const report = {
    name: 'fuzz',
    at: new Date().toISOString(),
    runsPerDecoder: options.runs,
    seed: options.seed,
    durationMs: totalMs,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    untyped,
    results,
  }
  mkdirSync(dirname(options.out), { recursive: true })
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`)
  log(`fuzz: wrote ${options.out}`)
  return report
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const report = await runFuzz(parseFuzzArgs(process.argv.slice(2)))
  process.exitCode = report.untyped === 0 ? 0 : 1
}
