import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { CanonicalJsonError } from '../protocol/canonicalJson.js'
import { LABEL_LOG_ENTRY, labelledHash } from '../protocol/labels.js'
import {
  AuditLog,
  AuditLogCorruptError,
  hashLogEntry,
  InvalidLogEntryError,
  LOG_GENESIS_HASH,
  type MessageLogData,
  verifyLogEntries,
} from './auditLog.js'
import { DeviceStore } from './deviceStore.js'

const h = (byte: string) => `0x${byte.repeat(32)}` as Hex

function message(n: number): MessageLogData {
  return {
    envelopeId: h((n + 10).toString(16).padStart(2, '0')),
    conversation: h('cc'),
    statement: `0x${'01'.repeat(213)}`,
    signature: `0x${'02'.repeat(64)}`,
    leaf: h('0f'),
    body: `message ${n}`,
  }
}

let db: Database.Database
let log: AuditLog
let clock: number

beforeEach(() => {
  db = new Database(':memory:')
  clock = 1_700_000_000_000
  log = new AuditLog({ db, now: () => clock++ })
})
afterEach(() => db.close())

function fill(n: number) {
  for (let i = 0; i < n; i++)
    if (i % 3 === 2)
      log.append({ kind: 'rejected', data: { envelopeId: h('ee'), code: 'SEALPOST_REPLAY', step: 'seq' } })
    else log.append({ kind: i % 2 ? 'received' : 'sent', data: message(i) })
}

describe('AuditLog', () => {
  test('builds a hash chain', () => {
    const a = log.append({ kind: 'sent', data: message(0) })
    const b = log.append({ kind: 'received', data: message(1), at: 42 })
    expect(a.index).toBe(0)
    expect(a.prevHash).toBe(LOG_GENESIS_HASH)
    expect(a.at).toBe(1_700_000_000_000)
    expect(b).toMatchObject({ index: 1, at: 42, kind: 'received', prevHash: a.hash })
    expect(log.head()).toEqual({ index: 1, hash: b.hash })
    expect(log.entries()).toEqual([a, b])
    expect(log.verifyChain()).toEqual({ ok: true })
  })

  test('the hash is SHA-256(label || 0x00 || prevHash || canonical JSON)', () => {
    const entry = log.append({
      kind: 'rejected',
      data: { step: 'seq', envelopeId: h('ab'), code: 'X' },
      at: 7,
    })
    const json =
      '{"at":7,"data":{"code":"X","envelopeId":"0xabababababababababababababababababababababababababababababababab","step":"seq"},"index":0,"kind":"rejected"}'
    const expected = labelledHash(LABEL_LOG_ENTRY, new Uint8Array(32), new TextEncoder().encode(json))
    expect(entry.hash).toBe(`0x${Buffer.from(expected).toString('hex')}`)
    // Independently computed: python3 hashlib.sha256(b"sealpost/v1/log-entry\x00" + bytes(32) + json)
    expect(entry.hash).toMatchInlineSnapshot(
      `"0xbc13325d8c95f7eb73d3ea699de476ac206475d20b496d7d805202150096c014"`,
    )
  })

  test('entries() filters and pages', () => {
    fill(9)
    expect(log.entries({ kind: 'rejected' }).map((e) => e.index)).toEqual([2, 5, 8])
    expect(log.entries({ from: 3, limit: 2 }).map((e) => e.index)).toEqual([3, 4])
    expect(log.entries({ from: 3, limit: 2, kind: 'sent' }).map((e) => e.index)).toEqual([4, 6])
    expect(log.head()?.index).toBe(8)
  })

  test('empty log', () => {
    expect(log.head()).toBeUndefined()
    expect(log.entries()).toEqual([])
    expect(log.verifyChain()).toEqual({ ok: true })
  })

  test('stores what it hashed: bigints become decimal strings', () => {
    const entry = log.append({
      kind: 'rejected',
      data: { envelopeId: h('01'), code: 'C', step: 's', n: 5n } as never,
    })
    expect(entry.data.n).toBe('5')
    expect(log.entries()[0]).toEqual(entry)
    expect(log.verifyChain().ok).toBe(true)
  })

  test('rejects bad input without writing', () => {
    expect(() => log.append({ kind: 'bogus', data: message(0) } as never)).toThrow(InvalidLogEntryError)
    expect(() => log.append({ kind: 'sent', data: message(0), at: -1 })).toThrow(InvalidLogEntryError)
    expect(() => log.append({ kind: 'sent', data: message(0), at: 1.5 })).toThrow(InvalidLogEntryError)
    expect(() => log.append({ kind: 'sent', data: [] as never })).toThrow(InvalidLogEntryError)
    expect(() => log.append({ kind: 'sent', data: { ...message(0), body: undefined } as never })).toThrow(
      CanonicalJsonError,
    )
    expect(log.head()).toBeUndefined()
  })

  test('has no update or delete API', () => {
    const methods = Object.getOwnPropertyNames(AuditLog.prototype).filter((m) => m !== 'constructor')
    expect(methods.sort()).toEqual(['append', 'entries', 'head', 'verifyChain'])
  })

  test('lives in the device store and survives reopening', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-log-'))
    try {
      const path = join(dir, 'device.sqlite')
      const storageKey = new Uint8Array(32).fill(1)
      const store = DeviceStore.open({ path, storageKey })
      const first = new AuditLog({ db: store.db })
      first.append({ kind: 'sent', data: message(0) })
      const head = first.append({ kind: 'sent', data: message(1) })
      store.close()
      const reopened = DeviceStore.open({ path, storageKey })
      const second = new AuditLog({ db: reopened.db })
      expect(second.head()).toEqual({ index: 1, hash: head.hash })
      expect(second.append({ kind: 'received', data: message(2) }).prevHash).toBe(head.hash)
      expect(second.verifyChain()).toEqual({ ok: true })
      reopened.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('AuditLog.verifyChain finds direct edits to the SQLite rows', () => {
  beforeEach(() => fill(6))
  const run = (sql: string, ...args: unknown[]) => db.prepare(sql).run(...args)

  test('edited data', () => {
    const data = JSON.stringify({ ...message(3), body: 'forged' })
    run('update audit_log set data = ? where idx = 3', data)
    expect(log.verifyChain()).toEqual({
      ok: false,
      brokenAt: 3,
      reason: 'hash does not match the entry contents',
    })
  })

  test('edited at', () => {
    run('update audit_log set at = at + 1 where idx = 4')
    expect(log.verifyChain()).toMatchObject({ ok: false, brokenAt: 4 })
  })

  test('edited kind', () => {
    run("update audit_log set kind = 'received' where idx = 0")
    expect(log.verifyChain()).toMatchObject({ ok: false, brokenAt: 0 })
    run("update audit_log set kind = 'nonsense' where idx = 0")
    expect(log.verifyChain()).toEqual({ ok: false, brokenAt: 0, reason: 'kind is not a known entry kind' })
  })

  test('edited hash', () => {
    run('update audit_log set hash = ? where idx = 5', h('00'))
    expect(log.verifyChain()).toEqual({
      ok: false,
      brokenAt: 5,
      reason: 'hash does not match the entry contents',
    })
  })

  test('edited hash in the middle breaks the next link', () => {
    // Re-hash entry 2 after editing it: entry 2 is self-consistent, entry 3 no longer links to it.
    const row = db.prepare('select * from audit_log where idx = 2').get() as { data: string; prev_hash: Hex }
    const data = { ...JSON.parse(row.data), code: 'SEALPOST_FORGED' }
    const hash = hashLogEntry({ index: 2, at: 1, kind: 'rejected', data, prevHash: row.prev_hash })
    run('update audit_log set data = ?, at = 1, hash = ? where idx = 2', JSON.stringify(data), hash)
    expect(log.verifyChain()).toEqual({
      ok: false,
      brokenAt: 3,
      reason: "prevHash is not the previous entry's hash",
    })
  })

  test('edited prevHash', () => {
    run('update audit_log set prev_hash = ? where idx = 1', h('11'))
    expect(log.verifyChain()).toEqual({
      ok: false,
      brokenAt: 1,
      reason: "prevHash is not the previous entry's hash",
    })
    run('update audit_log set prev_hash = ? where idx = 0', h('11'))
    expect(log.verifyChain()).toEqual({ ok: false, brokenAt: 0, reason: 'prevHash of entry 0 is not zero' })
  })

  test('deleted middle row', () => {
    run('delete from audit_log where idx = 2')
    expect(log.verifyChain()).toEqual({
      ok: false,
      brokenAt: 2,
      reason: 'entry 2 is missing (found index 3 here)',
    })
  })

  test('reordered rows', () => {
    run('update audit_log set idx = -1 where idx = 1')
    run('update audit_log set idx = 1 where idx = 2')
    run('update audit_log set idx = 2 where idx = -1')
    expect(log.verifyChain()).toEqual({
      ok: false,
      brokenAt: 1,
      reason: "prevHash is not the previous entry's hash",
    })
  })

  test('unreadable data', () => {
    run("update audit_log set data = '{oops' where idx = 4")
    expect(log.verifyChain()).toEqual({ ok: false, brokenAt: 4, reason: 'data is not JSON' })
    expect(() => log.entries()).toThrow(AuditLogCorruptError)
  })

  test('truncation is only visible against a known head', () => {
    const head = log.head()!
    run('delete from audit_log where idx = 5')
    expect(log.verifyChain()).toEqual({ ok: true })
    expect(log.verifyChain({ head })).toEqual({
      ok: false,
      brokenAt: 5,
      reason: 'log ends before the expected head 5',
    })
  })

  test('log-anchor entries must name the head they anchor', () => {
    const head = log.head()!
    const receipt = { leaf: head.hash } as never
    log.append({ kind: 'log-anchor', data: { index: head.index, head: head.hash, receipt } })
    expect(log.verifyChain()).toEqual({ ok: true })
    log.append({ kind: 'log-anchor', data: { index: 2, head: head.hash, receipt } })
    expect(log.verifyChain()).toEqual({
      ok: false,
      brokenAt: 7,
      reason: 'log-anchor head does not match the entry it names',
    })
  })
})

describe('verifyLogEntries', () => {
  test('accepts the exported entries and names the first broken one', () => {
    fill(4)
    const entries = log.entries()
    expect(verifyLogEntries(entries)).toEqual({ ok: true })
    const swapped = [entries[0], entries[2], entries[1], entries[3]]
    expect(verifyLogEntries(swapped)).toEqual({
      ok: false,
      brokenAt: 1,
      reason: 'entry 1 is missing (found index 2 here)',
    })
    expect(verifyLogEntries([entries[0], 'x'])).toEqual({
      ok: false,
      brokenAt: 1,
      reason: 'entry is not an object',
    })
  })
})
