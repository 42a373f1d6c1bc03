/** The fuzzer itself, small: every decoder for 2,000 inputs (in `npm test`); `npm run fuzz` runs 1,000,000 each. */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, test } from 'vitest'
import { CodecError } from '../../src/errors.js'
import { runFuzzTarget } from './engine.js'
import { createRng, mutateBytes } from './mutate.js'
import { parseFuzzArgs, runFuzz } from './run.js'
import { fuzzTargets } from './targets.js'

const out = mkdtempSync(join(tmpdir(), 'sealpost-fuzz-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

describe('fuzzing every decoder', () => {
  test('2,000 inputs per decoder: each returns a value or throws a BaseError subclass', {
    timeout: 120_000,
  }, async () => {
    const lines: string[] = []
    const report = await runFuzz({ runs: 2000, seed: 1, only: [], out: join(out, 'fuzz.json') }, (l) =>
      lines.push(l),
    )
    const crashes = report.results.flatMap((r) => r.crashes.map((c) => `${r.name}: ${c.error}: ${c.message}`))
    expect(crashes).toEqual([])
    expect(report.untyped).toBe(0)
    expect(report.results.map((r) => r.name)).toEqual([
      'envelope',
      'statement',
      'signed-statement',
      'statement-v2',
      'signed-statement-v2',
      'log-head-statement',
      'conversation-context',
      'delivery-receipt-body',
      'welcome-tree-chunk',
      'content',
      'receipt-v1',
      'receipt-v2',
      'receipt-json',
      'topic-preimage',
      'client-frame',
      'relay-frame',
      'credential',
      'mls-message',
      'transcript-text',
      'transcript-json',
      'caip10',
    ])
    for (const r of report.results) {
      expect(r.ok + r.typed + r.untyped).toBe(2000)
      expect(r.typed).toBeGreaterThan(0) // the mutator does break inputs
    }
    // Mutations that keep an input valid exist for the formats without a self-check (not the envelope: its id).
    expect(report.results.filter((r) => r.ok > 0).length).toBeGreaterThanOrEqual(10)
    const written = JSON.parse(readFileSync(join(out, 'fuzz.json'), 'utf8'))
    expect(written).toMatchObject({ name: 'fuzz', runsPerDecoder: 2000, untyped: 0 })
    expect(lines.join('\n')).toContain(
      '| decoder | function | inputs | accepted | typed refusals | untyped |',
    )
  })

  test('an untyped throw is counted and kept with its input; the same seed gives the same inputs', async () => {
    const [statement] = (await fuzzTargets()).filter((t) => t.name === 'statement')
    if (!statement) throw new Error('no statement target')
    const flaky = {
      ...statement,
      decode: (input: unknown) => {
        const bytes = input as Uint8Array
        if (bytes.length % 7 === 0) throw new TypeError('boom')
        if (bytes.length % 2 === 0) throw new CodecError('refused')
        return bytes.length
      },
    }
    const a = runFuzzTarget(flaky, { runs: 500, seed: 3 })
    expect(a.untyped).toBeGreaterThan(0)
    expect(a.crashes[0]).toMatchObject({ error: 'TypeError', message: 'boom' })
    expect(a.crashes[0]?.input).toMatch(/^0x[0-9a-f]*$/)
    expect(a.typedByName).toEqual({ CodecError: a.typed })
    const b = runFuzzTarget(flaky, { runs: 500, seed: 3 })
    expect([b.ok, b.typed, b.untyped]).toEqual([a.ok, a.typed, a.untyped])
  })

  test('the inputs are diverse: the PRNG does not cycle and mutated inputs rarely repeat', () => {
    const rng = createRng(2)
    const values = new Set<number>()
    for (let i = 0; i < 200_000; i++) values.add(rng.int(2 ** 31))
    expect(values.size).toBeGreaterThan(199_000)
    const seed = createRng(9).bytes(213)
    const inputs = new Set<string>()
    for (let i = 0; i < 20_000; i++) inputs.add(Buffer.from(mutateBytes(rng, [seed])).toString('hex'))
    expect(inputs.size).toBeGreaterThan(15_000) // a short-cycle PRNG gave 8,151 distinct values in 2,000,000
  })

  test('npm run fuzz takes --runs, --only and --out, and defaults to 1,000,000 inputs', {
    timeout: 60_000,
  }, async () => {
    expect(parseFuzzArgs([]).runs).toBe(1_000_000)
    expect(() => parseFuzzArgs(['--runs', '0'])).toThrow(/positive integer/)
    const file = join(out, 'cli.json')
    const { stdout } = await promisify(execFile)(
      'npm',
      ['run', 'fuzz', '--', '--runs', '300', '--only', 'credential,relay-frame', '--out', file],
      { cwd: join(import.meta.dirname, '..', '..') },
    )
    expect(stdout).toMatch(/✓ credential \(decodeDeviceIdentity\)/)
    expect(stdout).toMatch(/fuzz: no untyped throw/)
    const report = JSON.parse(readFileSync(file, 'utf8'))
    expect(report.results.map((r: { name: string }) => r.name)).toEqual(['relay-frame', 'credential'])
  })
})
