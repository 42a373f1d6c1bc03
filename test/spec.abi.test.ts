/** docs/protocol.md Appendix A stays true: every documented ABI item, selector and topic0 is the compiled contracts'. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Abi, type AbiParameter, parseAbiItem, toEventSelector, toFunctionSelector } from 'viem'
import { describe, expect, test } from 'vitest'
import * as artifacts from '../contracts/index.js'

/** The production contracts: every ABI `contracts/index.ts` exports (`<name>Abi`). */
const abis = Object.fromEntries(
  Object.entries(artifacts).filter(([name]) => name.endsWith('Abi')) as [string, Abi][],
)

type AbiItem = Abi[number]
type Row = { line: number; tag: string; declaration: string }

const spec = readFileSync(join(import.meta.dirname, '..', 'docs', 'protocol.md'), 'utf8')

/** The appendix's subsections, by the artifact export named in their heading, with their table rows. */
function appendix(): Map<string, Row[]> {
  const lines = spec.split('\n')
  const start = lines.findIndex((l) => /^## Appendix A\. /.test(l))
  if (start < 0) throw new Error('docs/protocol.md has no "## Appendix A." section')
  const sections = new Map<string, Row[]>()
  let rows: Row[] | undefined
  for (let i = start + 1; i < lines.length && !/^## /.test(lines[i]!); i++) {
    const line = lines[i]!
    const heading = /^### .*\(`([A-Za-z0-9]+Abi)`\)\s*$/.exec(line)
    if (heading) {
      rows = []
      sections.set(heading[1]!, rows)
      continue
    }
    const row = /^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|/.exec(line)
    if (row && rows) rows.push({ line: i + 1, tag: row[1]!, declaration: row[2]! })
  }
  return sections
}

/** Canonical type of a parameter: `(t1,t2)` for a tuple, with its array suffix. */
function canonicalType(p: AbiParameter): string {
  if (!p.type.startsWith('tuple')) return p.type
  const components = (p as { components: readonly AbiParameter[] }).components
  return `(${components.map(canonicalType).join(',')})${p.type.slice('tuple'.length)}`
}

/** `name(types)`: what selectors and topic0 hash. */
function signature(item: AbiItem): string {
  const name = 'name' in item ? item.name : ''
  return `${name}(${('inputs' in item ? item.inputs : []).map(canonicalType).join(',')})`
}

/** What the appendix must spell out of an item: names, types, indexed flags, mutability, outputs. */
function shape(item: AbiItem): unknown {
  const param = (p: AbiParameter): unknown => ({
    name: p.name ?? '',
    type: p.type,
    ...('indexed' in p && p.indexed ? { indexed: true } : {}),
    ...('components' in p ? { components: p.components.map(param) } : {}),
  })
  return {
    type: item.type,
    ...('name' in item ? { name: item.name } : {}),
    inputs: ('inputs' in item ? item.inputs : []).map(param),
    ...(item.type === 'function' ? { outputs: item.outputs.map(param) } : {}),
    ...('stateMutability' in item ? { stateMutability: item.stateMutability } : {}),
    ...(item.type === 'event' ? { anonymous: item.anonymous ?? false } : {}),
  }
}

function selectorOf(item: AbiItem): string {
  if (item.type === 'event') return toEventSelector(signature(item))
  if (item.type === 'function' || item.type === 'error') return toFunctionSelector(signature(item))
  return '—'
}

const key = (item: AbiItem) => `${item.type} ${signature(item)}`

const sections = appendix()

test('the appendix has a subsection for every production ABI and for no other', () => {
  expect([...sections.keys()].sort()).toEqual(Object.keys(abis).sort())
})

describe.each(Object.entries(abis))('%s', (name, abi) => {
  const rows = sections.get(name) ?? []
  const documented = new Map<string, { row: Row; item: AbiItem }>()
  for (const row of rows) {
    const item = parseAbiItem(row.declaration) as AbiItem
    documented.set(key(item), { row, item })
  }

  test('every compiled item is documented, and every documented item is compiled', () => {
    expect([...documented.keys()].sort()).toEqual(abi.map(key).sort())
    expect(rows.length).toBe(documented.size) // no item documented twice
  })

  test('each documented declaration matches the compiled item (names, types, indexed, mutability, outputs)', () => {
    for (const compiled of abi) {
      const entry = documented.get(key(compiled))
      if (!entry) continue // reported by the test above
      expect(shape(entry.item), `docs/protocol.md:${entry.row.line}`).toEqual(shape(compiled))
    }
  })

  test('each selector and topic0 is the one the compiled item hashes to', () => {
    for (const compiled of abi) {
      const entry = documented.get(key(compiled))
      if (!entry) continue
      const expected = selectorOf(compiled)
      expect(entry.row.tag, `docs/protocol.md:${entry.row.line} ${signature(compiled)}`).toBe(expected)
      // Cross-check the hand-built canonical signature against viem's own selector of the item.
      if (compiled.type === 'function') expect(toFunctionSelector(compiled)).toBe(expected)
      if (compiled.type === 'event') expect(toEventSelector(compiled)).toBe(expected)
    }
  })
})
