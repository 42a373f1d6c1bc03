/** The docs stay true: every error code in the code is documented, every documented code still exists. */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'

const root = join(import.meta.dirname, '..')

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
}

const codesIn = (text: string) =>
  new Set((text.match(/SEALPOST_[A-Z0-9_]+/g) ?? []).filter((c) => !c.endsWith('_')))

test('docs/errors.md lists exactly the error codes the code uses', () => {
  const envVars = new Set([
    'SEALPOST_PASSPHRASE',
    'SEALPOST_HOME',
    'SEALPOST_RPC',
    'SEALPOST_RELAY',
    'SEALPOST_DEPLOYMENT',
    'SEALPOST_MAX_KEY_AGE',
  ]) // not error codes
  const used = new Set(
    sources('src')
      .flatMap((s) => [...codesIn(s)])
      .filter((c) => !envVars.has(c)),
  )
  const documented = new Set(
    [...codesIn(readFileSync(join(root, 'docs', 'errors.md'), 'utf8'))].filter((c) => !envVars.has(c)),
  )
  expect([...used].filter((c) => !documented.has(c)).sort()).toEqual([])
  expect([...documented].filter((c) => !used.has(c)).sort()).toEqual([])
})

test('docs/protocol.md lists every domain-separation label the code uses', () => {
  const labels = new Set(sources('src').flatMap((s) => s.match(/sealpost\/v1\/[a-z-]+/g) ?? []))
  const spec = readFileSync(join(root, 'docs', 'protocol.md'), 'utf8')
  expect([...labels].filter((l) => !spec.includes(`\`${l}\``)).sort()).toEqual([])
})

test('the README opens with the two commands a newcomer types', () => {
  const head = readFileSync(join(root, 'README.md'), 'utf8').split('\n').slice(0, 8).join('\n')
  expect(head).toContain('npm ci && npm start')
  expect(head).toContain('npm test')
})

test('the README and docs link only to files inside the repository, and every such file exists', () => {
  const pages = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ]
  const broken: string[] = []
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8')
    for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
      if (!target || /^[a-z]+:/i.test(target)) continue // https:, mailto: …
      const resolved = join(root, page, '..', target)
      if (!resolved.startsWith(`${root}/`) || !existsSync(resolved)) broken.push(`${page} -> ${target}`)
    }
  }
  expect(broken).toEqual([])
})

test('every Markdown table row has as many cells as its header (no unescaped | or || inside a cell)', () => {
  const pipes = (row: string) => row.replace(/\\./g, '').split('|').length - 1 // `\|` is an escaped pipe
  const broken: string[] = []
  for (const page of [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ]) {
    let fenced = false
    let header: number | undefined
    readFileSync(join(root, page), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/^\s*(```|~~~)/.test(line)) fenced = !fenced
        const row = line.trim()
        if (fenced || !row.startsWith('|')) {
          header = undefined
          return
        }
        if (header === undefined) header = pipes(row)
        else if (pipes(row) !== header || /(^|[^\\])\|\|/.test(row))
          broken.push(`${page}:${i + 1}: ${row.slice(0, 80)}`)
      })
  }
  expect(broken).toEqual([])
})

test('errors are classes: no ad-hoc error name outside the error modules', () => {
  const offenders = readdirSync(join(root, 'src'), { withFileTypes: true, recursive: true })
    .filter(
      (e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && e.name !== 'errors.ts',
    )
    .flatMap((e) => {
      const text = readFileSync(join(e.parentPath, e.name), 'utf8')
      return [...text.matchAll(/name:\s*'([A-Za-z]*Error)'/g)].map(
        (m) => `${join(e.parentPath, e.name).slice(root.length + 1)}: ${m[1]}`,
      )
    })
  expect(offenders).toEqual([])
})
