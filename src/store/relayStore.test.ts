import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
})
