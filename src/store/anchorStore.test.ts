import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { Receipt } from '../protocol/receipt.js'
import { type AnchorStore, SqliteAnchorStore, type StoredReceipt } from './anchorStore.js'

const dir = mkdtempSync(join(tmpdir(), 'sealpost-anchor-store-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const fresh = () => join(dir, `anchor-${++n}.sqlite`)
const opened: AnchorStore[] = []
afterEach(() => {
  for (const s of opened.splice(0)) s.close()
})

const h32 = (i: number): Hex => `0x${i.toString(16).padStart(64, '0')}`
const topic = h32(0xaaaa)
const tx1 = h32(0x11)
const submitter = h32(0xbbbb)
const contract = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512'

const receiptOf = (leaf: Hex, index: number, txHash: Hex, blockNumber = 7n): StoredReceipt => {
  const receipt: Receipt = {
    chainId: 31337,
    contract,
    root: h32(0x77),
    leaf,
    index,
    treeSize: 2,
    path: [h32(0x88)],
    txHash,
    blockNumber,
    blockTimestamp: 1_700_000_000n,
  }
  return { leaf, topic, receipt }
}
const placement = (txHash: Hex, blockNumber = 7n) => ({
  txHash,
  blockNumber,
  blockHash: h32(0xb0 + Number(blockNumber)),
  blockTimestamp: 1_700_000_000n,
  gasUsed: 50_000n,
  confirmedAt: Date.now(),
})

// The contract every AnchorStore implementation passes; run here on SQLite, by file and by shared handle.
describe.each([
  ['SqliteAnchorStore.open', () => SqliteAnchorStore.open({ path: fresh() })],
  ['SqliteAnchorStore.wrap', () => SqliteAnchorStore.wrap(new Database(fresh()))],
])('%s', (_name, make: () => AnchorStore) => {
  const open = () => {
    const store = make()
    opened.push(store)
    return store
  }

  it('stores each leaf once, in submission order, as pending', () => {
    const store = open()
    expect(store.pendingHead()).toEqual({ count: 0, firstSeq: undefined, oldestAt: undefined })
    expect(store.maxSeq()).toBe(0)
    expect(store.addLeaf({ leaf: h32(1), topic, submitter, at: 1000 })).toBe(true)
    expect(store.addLeaf({ leaf: h32(2), topic, submitter, at: 900 })).toBe(true)
    expect(store.addLeaf({ leaf: h32(1), topic: h32(9), submitter, at: 2000 })).toBe(false)
    expect(store.pendingHead()).toEqual({ count: 2, firstSeq: 1, oldestAt: 900 })
    expect(store.pendingLeaves(10)).toEqual([
      { seq: 1, leaf: h32(1) },
      { seq: 2, leaf: h32(2) },
    ])
    expect(store.pendingLeaves(1)).toHaveLength(1)
    expect(store.maxSeq()).toBe(2)
    expect(store.unreceipted(2)).toBe(2)
  })

  it('batches leaves and counts attempts', () => {
    const store = open()
    for (const i of [1, 2, 3]) store.addLeaf({ leaf: h32(i), topic, submitter, at: i })
    const id = store.createBatch({ root: h32(0x70), seqs: [2, 1], createdAt: 5 })
    expect(store.batchLeaves(id)).toEqual([
      { leaf: h32(2), topic },
      { leaf: h32(1), topic },
    ])
    expect(store.pendingHead()).toMatchObject({ count: 1, firstSeq: 3 })
    expect(store.openBatch()).toEqual({
      id,
      root: h32(0x70),
      leafCount: 2,
      salt: undefined,
      status: 'anchoring',
      attempts: 0,
      anchor: undefined,
      previous: undefined,
    })
    store.failBatch(id, 'SEALPOST_RPC_UNREACHABLE')
    store.failBatch(id, 'SEALPOST_RPC_UNREACHABLE')
    expect(store.openBatch()).toMatchObject({ root: h32(0x70), leafCount: 2, salt: undefined, attempts: 2 })
    expect(store.counts()).toEqual({
      pending: 1,
      inFlight: 2,
      batches: { total: 1, anchoring: 1, confirmed: 0, final: 0 },
      receipts: 0,
    })
  })

  it('confirms a batch with its receipts, delivers them once, reissues after a reorg, finalizes', () => {
    const store = open()
    for (const i of [1, 2]) store.addLeaf({ leaf: h32(i), topic, submitter, at: i })
    const id = store.createBatch({ root: h32(0x77), seqs: [1, 2], createdAt: 3 })
    const first = [receiptOf(h32(1), 0, tx1), receiptOf(h32(2), 1, tx1)]
    store.confirmBatch(id, placement(tx1), first)
    expect(store.openBatch()).toBeUndefined()
    expect(store.unreceipted(2)).toBe(0)
    expect(store.receipt(h32(2))).toEqual(first[1]!.receipt)
    expect(store.undeliveredReceipts(id)).toEqual(first)
    expect(store.undeliveredReceipts(id + 1)).toEqual([])
    store.markDelivered(first[0]!.receipt)
    expect(store.undeliveredReceipts()).toEqual([first[1]])
    const [confirmed] = store.confirmedBatches()
    expect(confirmed).toMatchObject({
      id,
      status: 'confirmed',
      anchor: { txHash: tx1, blockNumber: 7n, blockHash: h32(0xb7), gasUsed: 50_000n },
    })
    expect(store.lastConfirmedBatch()?.id).toBe(id)

    // A reorg: back to anchoring, remembering the lost anchor; receipts are reissued and undelivered again.
    store.reopenBatch(id)
    expect(store.openBatch()).toMatchObject({
      status: 'anchoring',
      previous: { txHash: tx1, blockNumber: 7n },
    })
    expect(store.unreceipted(2)).toBe(2)
    const second = [receiptOf(h32(1), 0, h32(0x12), 9n), receiptOf(h32(2), 1, h32(0x12), 9n)]
    store.confirmBatch(id, placement(h32(0x12), 9n), second)
    expect(store.confirmedBatches()[0]).toMatchObject({ previous: undefined, anchor: { blockNumber: 9n } })
    // Delivering a stale receipt does not mark its reissue delivered.
    store.markDelivered(first[1]!.receipt)
    expect(store.undeliveredReceipts()).toEqual(second)
    expect(store.receipt(h32(1))).toEqual(second[0]!.receipt)

    store.finalizeBatch(id)
    expect(store.confirmedBatches()).toEqual([])
    expect(store.lastConfirmedBatch()).toMatchObject({ id, status: 'final' })
    expect(store.counts()).toEqual({
      pending: 0,
      inFlight: 0,
      batches: { total: 1, anchoring: 0, confirmed: 0, final: 1 },
      receipts: 2,
    })
  })
})

describe('SqliteAnchorStore on disk', () => {
  it('keeps everything across close and reopen', () => {
    const path = fresh()
    const a = SqliteAnchorStore.open({ path })
    a.addLeaf({ leaf: h32(1), topic, submitter, at: 1 })
    a.addLeaf({ leaf: h32(2), topic, submitter, at: 2 })
    const id = a.createBatch({ root: h32(0x77), seqs: [1], createdAt: 3 })
    a.close()
    const b = SqliteAnchorStore.open({ path })
    opened.push(b)
    expect(b.openBatch()?.id).toBe(id)
    expect(b.pendingHead()).toMatchObject({ count: 1, firstSeq: 2 })
  })

  it('leaves a wrapped handle open on close', () => {
    const db = new Database(fresh())
    SqliteAnchorStore.wrap(db).close()
    expect(db.open).toBe(true)
    db.close()
  })
})
