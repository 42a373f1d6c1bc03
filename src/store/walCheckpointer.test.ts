import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { afterEach, beforeEach, expect, test, vi } from 'vitest'
import { SqliteRelayStore } from './relayStore.js'
import { startWalCheckpointer } from './walCheckpointer.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sealpost-walcheckpointer-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

test('the worker copies committed WAL frames into the database file while the writer never checkpoints', async () => {
  const path = join(dir, 'w.db')
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('wal_autocheckpoint = 0')
  db.exec('create table t (x blob)')
  const before = statSync(path).size
  const checkpointer = startWalCheckpointer({ path, intervalMs: 10 })
  const insert = db.prepare('insert into t values (?)')
  for (let i = 0; i < 200; i++) insert.run(Buffer.alloc(1000, i))
  await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before + 200 * 1000), {
    timeout: 30_000,
    interval: 20,
  })
  await checkpointer.stop()
  db.close()
  const reread = new Database(path, { readonly: true })
  expect(reread.prepare('select count(*) as n from t').get()).toEqual({ n: 200 })
  reread.close()
})

test('a relay store past its first thousand envelopes checkpoints in the background, closes and reopens whole', async () => {
  const h = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}`
  const path = join(dir, 'relay.db')
  const store = SqliteRelayStore.open({ path })
  const bytes = new Uint8Array(1096)
  for (let b = 0; b < 12; b++)
    await store.append(
      Array.from({ length: 100 }, (_, i) => ({
        topic: h(1),
        id: h(2 + b * 100 + i),
        bytes,
        publisher: h(3),
      })),
    )
  await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(1000 * 1096), {
    timeout: 30_000,
    interval: 20,
  })
  await store.close()
  const reopened = SqliteRelayStore.open({ path })
  expect(await reopened.head(h(1))).toBe(1200n)
  expect((await reopened.readAfter(h(1), 1190n, 100)).length).toBe(10)
  await reopened.close()
})
