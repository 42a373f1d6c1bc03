/**
 * Runs the Sealpost benchmarks: `npm run bench` (all), `npm run bench -- relay anchor` (some), `--quick` (all
 * under a minute), `--out DIR` (results elsewhere than bench/results; charts then go to DIR/img instead of docs/img).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runAnchor } from './anchor.js'
import { runAutoJoin } from './autoJoin.js'
import { runCluster } from './cluster.js'
import { runConnections } from './connections.js'
import { runCrosschainGas } from './crosschainGas.js'
import { runCrosschainLag } from './crosschainLag.js'
import { runCrypto } from './crypto.js'
import { runGroups } from './groups.js'
import { runIds } from './ids/eval.js'
import { writeCharts } from './lib/charts.js'
import {
  type BenchContext,
  type BenchOutput,
  type BenchResult,
  benchResultSchema,
  gitCommit,
  machineInfo,
  toMarkdown,
  writeResult,
} from './lib/report.js'
import { runRegistryGas } from './registryGas.js'
import { runRelay } from './relay.js'
import { runScale } from './scale.js'
import { runSoak } from './soak.js'
import { runVerifierGas } from './verifierGas.js'

/** Every benchmark, in the order they run. */
export const benchmarks: Record<string, (ctx: BenchContext) => Promise<BenchOutput>> = {
  crypto: runCrypto,
  relay: runRelay,
  cluster: runCluster,
  connections: runConnections,
  anchor: runAnchor,
  groups: runGroups,
  scale: runScale,
  autojoin: runAutoJoin,
  registryGas: runRegistryGas,
  verifierGas: runVerifierGas,
  crosschainGas: runCrosschainGas,
  crosschainLag: runCrosschainLag,
  ids: runIds,
  soak: runSoak,
}

const root = fileURLToPath(new URL('..', import.meta.url))
/** Run only when named (`npm run bench -- connections`): minutes long, so not in the default run nor `npm test`. */
const OPT_IN = new Set(['connections', 'soak'])

function parseArgs(argv: string[]) {
  const names: string[] = []
  let quick = false
  let out: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--quick') quick = true
    else if (a === '--out') out = argv[++i]
    else if (a.startsWith('--out=')) out = a.slice(6)
    else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench -- [${Object.keys(benchmarks).join('|')} ...] [--quick] [--out DIR]`)
      process.exit(0)
    } else if (a in benchmarks) names.push(a)
    else throw new Error(`unknown benchmark or option "${a}" (known: ${Object.keys(benchmarks).join(', ')})`)
  }
  return {
    names: names.length > 0 ? names : Object.keys(benchmarks).filter((n) => !OPT_IN.has(n)),
    quick,
    out,
  }
}

async function main(): Promise<void> {
  const { names, quick, out } = parseArgs(process.argv.slice(2))
  const dir = resolve(out ?? join(root, 'bench/results'))
  const imgDir = out ? join(dir, 'img') : join(root, 'docs/img')
  mkdirSync(dir, { recursive: true })
  const machine = machineInfo()
  const commit = gitCommit(root)
  const started = performance.now()
  console.log(
    `bench: ${names.join(', ')}${quick ? ' (quick)' : ''} on ${machine.cores} × ${machine.cpuModel}, Node ${machine.node}`,
  )
  let failed = false
  for (const name of names) {
    const t = performance.now()
    console.log(`bench: ${name} …`)
    try {
      const output = await benchmarks[name]!({ quick, log: (line) => console.log(`  ${line}`) })
      const result: BenchResult = {
        name,
        date: new Date().toISOString(),
        commit,
        quick,
        durationMs: performance.now() - t,
        machine,
        ...output,
      }
      writeResult(dir, result)
      console.log(
        `bench: ${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s, ratio ${result.ratio.toFixed(3)}x`,
      )
    } catch (err) {
      failed = true
      console.error(`bench: ${name} failed:`, err)
    }
  }
  // The summary and the charts cover every result present, including earlier runs of benchmarks not run now.
  const results: BenchResult[] = []
  for (const name of Object.keys(benchmarks)) {
    try {
      results.push(benchResultSchema.parse(JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'))))
    } catch {}
  }
  const summary = [
    '# Sealpost benchmarks',
    '',
    'Every benchmark compares against a baseline measured in the same run. Regenerate with `npm run bench` (or `npm run bench -- --quick`).',
    '',
    '| benchmark | headline | baseline | ratio | targets met |',
    '|---|---|---|---|---|',
    ...results.map((r) => {
      const met = r.targets.filter((t) => t.met === true).length
      return `| ${r.name} | ${r.headline.name}: ${r.headline.value.toPrecision(4)} ${r.headline.unit} | ${r.baseline.name}: ${r.baseline.value.toPrecision(4)} ${r.baseline.unit} | ${r.ratio.toPrecision(3)}x | ${met}/${r.targets.length} |`
    }),
    '',
    ...results.map((r) => toMarkdown(r)),
  ].join('\n')
  writeFileSync(join(dir, 'summary.md'), summary)
  const charts = await writeCharts(imgDir, results)
  console.log(
    `bench: wrote ${results.length} results, summary.md and ${charts.length} charts in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  )
  if (failed) process.exitCode = 1
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
