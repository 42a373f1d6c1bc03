import type { Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { hashLogEntry, LOG_GENESIS_HASH, type LogEntry } from '../store/auditLog.js'
import { checkHashChain, reportAnchoredPrefix } from './checkLogChain.js'
import { transcriptReport } from './transcriptReport.js'

function chainOf(count: number): LogEntry[] {
  const entries: LogEntry[] = []
  let prevHash: Hex = LOG_GENESIS_HASH
  for (let index = 0; index < count; index++) {
    const entry = {
      index,
      at: 1_700_000_000_000 + index,
      kind: 'rejected' as const,
      data: { n: index },
      prevHash,
    }
    const hash = hashLogEntry(entry)
    entries.push({ ...entry, hash })
    prevHash = hash
  }
  return entries
}

describe('checkHashChain', () => {
  test('an intact chain adds one passing transcript-wide check naming its head', () => {
    const { add, done } = transcriptReport()
    const entries = chainOf(3)
    expect(checkHashChain(entries, add)).toBe(false)
    expect(done().checks).toEqual([
      { entry: null, check: 'hash-chain', ok: true, detail: `3 entries chain to head ${entries[2]!.hash}` },
    ])
  })

  test('an edited entry fails at that entry; re-hashing it moves the failure to the next one', () => {
    const entries = chainOf(4)
    const edited = { ...entries[1]!, data: { n: 99 } }
    const failures = (list: LogEntry[]) => {
      const { add, done } = transcriptReport()
      expect(checkHashChain(list, add)).toBe(true)
      return done().checks.map((c) => [c.entry, c.check, c.ok])
    }
    expect(failures(entries.with(1, edited))).toEqual([[1, 'hash-chain', false]])
    expect(failures(entries.with(1, { ...edited, hash: hashLogEntry(edited) }))).toEqual([
      [2, 'hash-chain', false],
    ])
  })

  test('an empty log is an intact chain', () => {
    const { add, done } = transcriptReport()
    expect(checkHashChain([], add)).toBe(false)
    expect(done().checks[0]?.detail).toBe('empty log')
  })
})

describe('reportAnchoredPrefix', () => {
  test('says how much of the log is pinned, and nothing for an empty log', () => {
    const details = (count: number, prefix: { upTo: number; block: bigint } | undefined) => {
      const { add, done } = transcriptReport()
      reportAnchoredPrefix(count, prefix, add)
      return done().checks.map((c) => c.detail)
    }
    expect(details(0, undefined)).toEqual([])
    expect(details(3, undefined)).toEqual([
      'no log head is anchored: the log is only as trustworthy as its holder',
    ])
    expect(details(3, { upTo: 2, block: 7n })).toEqual([
      'entries 0..2 are pinned by a head anchored in block 7',
    ])
    expect(details(5, { upTo: 2, block: 7n })).toEqual([
      'entries 0..2 are pinned by a head anchored in block 7; entries 3..4 are not anchored yet',
    ])
  })
})
