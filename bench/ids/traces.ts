/** `npm run ids:traces -- --seed N --days D --devices K [--attacks A] [--out DIR]`: writes a labelled trace. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateTrace } from './simulate.js'

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    days: { type: 'string', default: '7' },
    devices: { type: 'string', default: '500' },
    attacks: { type: 'string', default: '4' },
    out: { type: 'string', default: 'bench/results/ids-traces' },
  },
})
const opts = {
  seed: Number(values.seed),
  days: Number(values.days),
  devices: Number(values.devices),
  attacksPerKind: Number(values.attacks),
}
for (const [k, v] of Object.entries(opts))
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${k} must be a non-negative integer`)
const started = performance.now()
const { events, labels } = generateTrace(opts)
mkdirSync(values.out, { recursive: true })
const base = join(values.out, `trace-${opts.seed}`)
writeFileSync(`${base}.events.jsonl`, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`)
writeFileSync(`${base}.labels.json`, `${JSON.stringify(labels, null, 2)}\n`)
console.log(
  `ids:traces: ${events.length} events, ${labels.attacks.length} attacks, ${Math.round(labels.deviceHours)} device-hours -> ${base}.events.jsonl, ${base}.labels.json (${((performance.now() - started) / 1000).toFixed(1)} s)`,
)
