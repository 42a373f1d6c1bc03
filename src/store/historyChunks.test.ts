import Database from 'better-sqlite3'
import { expect, test } from 'vitest'
import { HISTORY_CHUNK_TTL_MS, HistoryChunks } from './historyChunks.js'

const archiveId = `0x${'ab'.repeat(32)}` as const

test('chunks reassemble in index order once all are in, duplicates ignored, until forgotten', () => {
  const chunks = new HistoryChunks(new Database(':memory:'))
  expect(chunks.add({ archiveId, index: 1, count: 2, data: Uint8Array.of(3, 4) })).toBeUndefined()
  expect(chunks.add({ archiveId, index: 1, count: 2, data: Uint8Array.of(9) })).toBeUndefined()
  expect(chunks.add({ archiveId, index: 0, count: 2, data: Uint8Array.of(1, 2) })).toEqual(
    Uint8Array.of(1, 2, 3, 4),
  )
  chunks.forget(archiveId)
  expect(chunks.add({ archiveId, index: 1, count: 2, data: Uint8Array.of(3, 4) })).toBeUndefined()
})

test('a chunk whose count disagrees with its siblings is refused', () => {
  const chunks = new HistoryChunks(new Database(':memory:'))
  chunks.add({ archiveId, index: 0, count: 3, data: Uint8Array.of(1) })
  expect(() => chunks.add({ archiveId, index: 1, count: 2, data: Uint8Array.of(2) })).toThrow(RangeError)
})

test('an archive left incomplete for a day is dropped', () => {
  const chunks = new HistoryChunks(new Database(':memory:'))
  chunks.add({ archiveId, index: 0, count: 2, data: Uint8Array.of(1) }, 0)
  const later = HISTORY_CHUNK_TTL_MS + 1
  expect(chunks.add({ archiveId, index: 1, count: 2, data: Uint8Array.of(2) }, later)).toBeUndefined()
  expect(chunks.add({ archiveId, index: 0, count: 2, data: Uint8Array.of(1) }, later)).toEqual(
    Uint8Array.of(1, 2),
  )
})
