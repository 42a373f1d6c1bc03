import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { RelayStoreError, SqliteRelayStore } from './relayStore.js'
import { relayStoreContract } from './relayStoreContract.js'

const dirs = new Map<SqliteRelayStore, string>()

relayStoreContract('SqliteRelayStore', {
  open(now) {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-relaystore-'))
    const store = SqliteRelayStore.open({ path: join(dir, 'relay.db'), now })
    dirs.set(store, dir)
    return store
  },
  async reopen(store, now) {
    const dir = dirs.get(store as SqliteRelayStore)!
    await store.close()
    const reopened = SqliteRelayStore.open({ path: join(dir, 'relay.db'), now, durability: 'power' })
    dirs.set(reopened, dir)
    return reopened
  },
  cleanup(store) {
    const dir = dirs.get(store as SqliteRelayStore)
    dirs.delete(store as SqliteRelayStore)
    if (dir) rmSync(dir, { recursive: true, force: true })
  },
})

describe('SqliteRelayStore specifics', () => {
  const h = (byte: number): Hex => `0x${byte.toString(16).padStart(2, '0').repeat(32)}`
  let dir: string
  let store: SqliteRelayStore

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-relaystore-'))
    store = SqliteRelayStore.open({ path: join(dir, 'relay.db') })
  })

  afterEach(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('an unopenable file is a store error; use after close names the operation', async () => {
    expect(() => SqliteRelayStore.open({ path: join(dir, 'relay.db', 'x.db') })).toThrow(RelayStoreError)
    await store.close()
    await expect(store.head(h(1))).rejects.toThrowErrorMatchingInlineSnapshot(`
      [RelayStoreUsageError: Relay store was used incorrectly.

      Reason: head after close()]
    `)
  })

  test('a database made with the WITHOUT ROWID envelopes table keeps it and works as before', async () => {
    await store.close()
    const path = join(dir, 'old.db')
    const old = new Database(path)
    old.exec(`create table envelopes (
      topic blob not null, seq integer not null, id blob not null, publisher blob not null,
      at integer not null, bytes blob, primary key (topic, seq)) without rowid;`)
    old.close()
    store = SqliteRelayStore.open({ path })
    const entry = { topic: h(1), id: h(2), bytes: new Uint8Array([1, 2, 3]), publisher: h(3) }
    expect(await store.append([entry, { ...entry, id: h(4) }, entry])).toEqual([
      { seq: 1n, duplicate: false },
      { seq: 2n, duplicate: false },
      { seq: 1n, duplicate: true },
    ])
    expect((await store.readAfter(h(1), 1n, 10)).map((e) => e.seq)).toEqual([2n])
    await store.close()
    const db = new Database(path, { readonly: true })
    const indexes = db.prepare(
      `select name from sqlite_master where tbl_name = 'envelopes' and type = 'index'`,
    )
    const names = (indexes.all() as { name: string }[])
      .map((r) => r.name)
      .filter((n) => !n.startsWith('sqlite_'))
    const withoutRowid = db.prepare(`select sql from sqlite_master where name = 'envelopes'`).get() as {
      sql: string
    }
    db.close()
    expect(names.sort()).toEqual(['envelopes_at', 'envelopes_id'])
    expect(withoutRowid.sql.toLowerCase()).toContain('without rowid')
  })

  test('a new database keeps envelopes in a rowid table, unique on (topic, seq)', async () => {
    await store.close()
    const db = new Database(join(dir, 'relay.db'), { readonly: true })
    const sql = db.prepare(`select sql from sqlite_master where name = 'envelopes_seq'`).get() as {
      sql: string
    }
    const table = db.prepare(`select sql from sqlite_master where name = 'envelopes'`).get() as {
      sql: string
    }
    db.close()
    expect(sql.sql.toLowerCase()).toContain('unique index envelopes_seq on envelopes (topic, seq)')
    expect(table.sql.toLowerCase()).not.toContain('without rowid')
    store = SqliteRelayStore.open({ path: join(dir, 'relay.db') })
  })
})
