/** Runs `npm run bench -- --quick` into a temp dir and checks every result: valid, with a same-run baseline and a ratio. */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, expect, test } from 'vitest'
import { benchResultSchema } from './lib/report.js'

const out = mkdtempSync(join(tmpdir(), 'sealpost-bench-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

test('npm run bench -- --quick writes a valid result for every benchmark', { timeout: 300_000 }, async () => {
  const { stdout } = await promisify(execFile)('npm', ['run', 'bench', '--', '--quick', '--out', out], {
    cwd: join(import.meta.dirname, '..'),
    maxBuffer: 16 * 1024 * 1024,
  })
  // How long --quick takes is reported (each file's durationMs), not asserted: CI machines are shared.
  expect(stdout).toMatch(/bench: wrote 12 results/)
  const names = [
    'crypto',
    'relay',
    'cluster',
    'anchor',
    'groups',
    'scale',
    'autojoin',
    'registryGas',
    'verifierGas',
    'crosschainGas',
    'crosschainLag',
    'ids',
  ]
  expect(
    readdirSync(out)
      .filter((f) => f.endsWith('.json'))
      .sort(),
  ).toEqual(names.map((n) => `${n}.json`).sort())
  for (const name of names) {
    const result = benchResultSchema.parse(JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')))
    expect(result.name).toBe(name)
    expect(result.quick).toBe(true)
    expect(result.baseline.value).toBeGreaterThan(0)
    expect(Number.isFinite(result.ratio) && result.ratio > 0).toBe(true)
    expect(result.machine.cores).toBeGreaterThan(0)
    expect(result.commit).not.toBe('')
    expect(readFileSync(join(out, `${name}.md`), 'utf8')).toContain('| target |')
  }
  expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain(
    '| benchmark | headline | baseline | ratio |',
  )
  for (const svg of readdirSync(join(out, 'img')))
    expect(readFileSync(join(out, 'img', svg), 'utf8')).toMatch(/^<svg/)
  expect(existsSync(join(out, 'img', 'bench-anchor.svg'))).toBe(true)
})
