/** Anchorer persistence: pending leaves, batches and their anchoring state, issued receipts (SQLite, WAL). */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { decodeReceipt, encodeReceipt, type Receipt } from '../protocol/receipt.js'

/**
 * Where a batch stands: `anchoring` (being anchored, retried, or re-anchored after a reorg), `confirmed`
 * (receipts issued, re-checked for reorgs) or `final` (`finalityDepth` deep, no longer re-checked).
 *
 * @example const done = (s: AnchorBatchStatus) => s !== 'anchoring'
 */
export type AnchorBatchStatus = 'anchoring' | 'confirmed' | 'final'

/**
 * A stored batch. `salt` is the random extra leaf of a root re-batched by an older anchorer (before
 * MessageAnchor v2; never set now); `previous` names the anchor a reorg
 * took away (set while the batch is anchored again).
 *
 * @example const batch: AnchorBatch | undefined = store.openBatch()
 */
export type AnchorBatch = {
  id: number
  root: Hex
  leafCount: number
  salt: Hex | undefined
  status: AnchorBatchStatus
  attempts: number
  anchor: { txHash: Hex; blockNumber: bigint; blockHash: Hex; gasUsed: bigint } | undefined
  previous: { txHash: Hex; blockNumber: bigint } | undefined
}

/**
 * A leaf of a batch, in tree order.
 *
 * @example const leaves: AnchorBatchLeaf[] = store.batchLeaves(batch.id)
 */
export type AnchorBatchLeaf = { leaf: Hex; topic: Hex }

/**
 * A receipt with the topic it is published on.
 *
 * @example for (const { receipt, topic } of store.undeliveredReceipts()) publish(receipt, topic)
 */
export type StoredReceipt = { leaf: Hex; topic: Hex; receipt: Receipt }

/**
 * Where a confirmed batch was anchored.
 *
 * @example store.confirmBatch(batch.id, { txHash, blockNumber, blockHash, blockTimestamp, gasUsed, confirmedAt: Date.now() }, receipts)
 */
export type AnchorPlacement = {
  txHash: Hex
  blockNumber: bigint
  blockHash: Hex
  blockTimestamp: bigint
  gasUsed: bigint
  confirmedAt: number
}

/**
 * Counters of an anchor store.
 *
 * @example const { pending, inFlight } = store.counts()
 */
export type AnchorStoreCounts = {
  /** Leaves waiting for a batch. */
  pending: number
  /** Leaves in batches still `anchoring`. */
  inFlight: number
  batches: { total: number; anchoring: number; confirmed: number; final: number }
  receipts: number
}

/**
 * What the anchorer needs from its storage. Leaves get increasing sequence numbers; every method is durable
 * when it returns, and each multi-row change is atomic.
 *
 * @example
 * const store: AnchorStore = SqliteAnchorStore.open({ path: 'anchor.db' })
 * if (store.addLeaf({ leaf, topic, submitter, at: Date.now() })) console.log(store.pendingHead().count)
 */
export interface AnchorStore {
  /** Stores a leaf (lower-case hex) for the next batch; false if the leaf was already stored (nothing changes). */
  addLeaf(leaf: { leaf: Hex; topic: Hex; submitter: Hex; at: number }): boolean
  /** Pending leaves: how many, the first one's seq, and the oldest submission time. */
  pendingHead(): { count: number; firstSeq: number | undefined; oldestAt: number | undefined }
  /** The oldest `limit` pending leaves, in submission order. */
  pendingLeaves(limit: number): { seq: number; leaf: Hex }[]
  /** Highest leaf seq ever assigned (0 when none). */
  maxSeq(): number
  /** Creates an `anchoring` batch of the leaves `seqs` (in tree order) with `root`; returns its id. */
  createBatch(batch: { root: Hex; seqs: number[]; createdAt: number }): number
  /** The oldest batch still `anchoring`. */
  openBatch(): AnchorBatch | undefined
  /** Leaves of a batch, in tree order. */
  batchLeaves(batchId: number): AnchorBatchLeaf[]
  /** Counts a failed attempt and its error code. */
  failBatch(batchId: number, code: string): void
  /** Marks the batch confirmed at `placement` and stores its receipts (replacing older ones, undelivered). */
  confirmBatch(batchId: number, placement: AnchorPlacement, receipts: StoredReceipt[]): void
  /** Confirmed batches, oldest first (those the reorg re-check reads). */
  confirmedBatches(): AnchorBatch[]
  /** Puts a confirmed batch back to `anchoring`, remembering the anchor it lost. */
  reopenBatch(batchId: number): void
  /** Marks a confirmed batch final. */
  finalizeBatch(batchId: number): void
  /** The most recently confirmed (or final) batch. */
  lastConfirmedBatch(): AnchorBatch | undefined
  /** The latest receipt of `leaf`. */
  receipt(leaf: Hex): Receipt | undefined
  /** Receipts not yet delivered, of one batch or of all, in issue order. */
  undeliveredReceipts(batchId?: number): StoredReceipt[]
  /** Marks `receipt` delivered, unless a reissue replaced it meanwhile. */
  markDelivered(receipt: Receipt): void
  /** Leaves with seq <= `upToSeq` that have no receipt yet (pending, or in a batch still anchoring). */
  unreceipted(upToSeq: number): number
  counts(): AnchorStoreCounts
  close(): void
}

/**
 * Options of {@link SqliteAnchorStore.open}.
 *
 * @example SqliteAnchorStore.open({ path: '/var/lib/sealpost/anchor.sqlite' })
 */
export type SqliteAnchorStoreOptions = {
  /** Database file (created with its directory if missing), or ':memory:'. */
  path: string
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS anchor_leaves (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  leaf TEXT NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  submitter TEXT NOT NULL,
  submitted_at INTEGER NOT NULL,
  batch_id INTEGER,
  leaf_index INTEGER
);
CREATE INDEX IF NOT EXISTS anchor_leaves_batch ON anchor_leaves (batch_id, seq);
CREATE TABLE IF NOT EXISTS anchor_batches (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  root TEXT NOT NULL,
  leaf_count INTEGER NOT NULL,
  salt TEXT,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  tx_hash TEXT,
  block_number TEXT,
  block_hash TEXT,
  block_timestamp TEXT,
  gas_used TEXT,
  confirmed_at INTEGER,
  reanchors INTEGER NOT NULL DEFAULT 0,
  prev_tx_hash TEXT,
  prev_block_number TEXT
);
CREATE INDEX IF NOT EXISTS anchor_batches_status ON anchor_batches (status, id);
CREATE TABLE IF NOT EXISTS anchor_receipts (
  leaf TEXT PRIMARY KEY,
  batch_id INTEGER NOT NULL,
  topic TEXT NOT NULL,
  receipt BLOB NOT NULL,
  issued_at INTEGER NOT NULL,
  delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS anchor_receipts_undelivered ON anchor_receipts (delivered, batch_id);
`

type BatchRow = {
  id: number
  root: Hex
  leaf_count: number
  salt: Hex | null
  status: AnchorBatchStatus
  attempts: number
  tx_hash: Hex | null
  block_number: string | null
  block_hash: Hex | null
  gas_used: string | null
  prev_tx_hash: Hex | null
  prev_block_number: string | null
}

type ReceiptRow = { leaf: Hex; topic: Hex; receipt: Uint8Array }

/**
 * {@link AnchorStore} on SQLite (`anchor_*` tables). `open` owns its file (WAL, closed by `close()`); `wrap`
 * shares an open handle, which `close()` leaves open.
 *
 * @example
 * const store = SqliteAnchorStore.open({ path: join(dir, 'anchor.sqlite') })
 * const anchorer = new Anchorer({ walletClient, publicClient, contract, store })
 */
export class SqliteAnchorStore implements AnchorStore {
  readonly #db: Database.Database
  readonly #owned: boolean
  readonly #sql: ReturnType<typeof prepare>

  private constructor(db: Database.Database, owned: boolean) {
    this.#db = db
    this.#owned = owned
    db.exec(SCHEMA)
    this.#sql = prepare(db)
  }

  /**
   * Opens (creating if needed) the database file at `path`, in WAL mode.
   *
   * @example const store = SqliteAnchorStore.open({ path: 'anchor.sqlite' })
   */
  static open({ path }: SqliteAnchorStoreOptions): SqliteAnchorStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    const db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    return new SqliteAnchorStore(db, true)
  }

  /**
   * Uses an open database handle (the tables are created if missing); `close()` leaves it open.
   *
   * @example const store = SqliteAnchorStore.wrap(new Database('shared.sqlite'))
   */
  static wrap(db: Database.Database): SqliteAnchorStore {
    return new SqliteAnchorStore(db, false)
  }

  addLeaf({ leaf, topic, submitter, at }: { leaf: Hex; topic: Hex; submitter: Hex; at: number }): boolean {
    return this.#sql.insertLeaf.run(leaf, topic, submitter, at).changes > 0
  }

  pendingHead(): { count: number; firstSeq: number | undefined; oldestAt: number | undefined } {
    const row = this.#sql.pendingHead.get() as { n: number; seq: number | null; at: number | null }
    return { count: row.n, firstSeq: row.seq ?? undefined, oldestAt: row.at ?? undefined }
  }

  pendingLeaves(limit: number): { seq: number; leaf: Hex }[] {
    return this.#sql.pendingLeaves.all(limit) as { seq: number; leaf: Hex }[]
  }

  maxSeq(): number {
    return Number((this.#sql.maxSeq.get() as { s: number | null }).s ?? 0)
  }

  createBatch({ root, seqs, createdAt }: { root: Hex; seqs: number[]; createdAt: number }): number {
    return this.#db.transaction(() => {
      const { lastInsertRowid } = this.#sql.insertBatch.run(root, seqs.length, createdAt)
      const batchId = Number(lastInsertRowid)
      seqs.forEach((seq, index) => {
        this.#sql.assignLeaf.run(batchId, index, seq)
      })
      return batchId
    })()
  }

  openBatch(): AnchorBatch | undefined {
    const row = this.#sql.openBatch.get() as BatchRow | undefined
    return row && toBatch(row)
  }

  batchLeaves(batchId: number): AnchorBatchLeaf[] {
    return this.#sql.batchLeaves.all(batchId) as AnchorBatchLeaf[]
  }

  failBatch(batchId: number, code: string): void {
    this.#sql.failBatch.run(code, batchId)
  }

  confirmBatch(batchId: number, placement: AnchorPlacement, receipts: StoredReceipt[]): void {
    this.#db.transaction(() => {
      this.#sql.confirmBatch.run(
        placement.txHash,
        placement.blockNumber.toString(),
        placement.blockHash,
        placement.blockTimestamp.toString(),
        placement.gasUsed.toString(),
        placement.confirmedAt,
        batchId,
      )
      for (const r of receipts)
        this.#sql.upsertReceipt.run(r.leaf, batchId, r.topic, encodeReceipt(r.receipt), placement.confirmedAt)
    })()
  }

  confirmedBatches(): AnchorBatch[] {
    return (this.#sql.confirmedBatches.all() as BatchRow[]).map(toBatch)
  }

  reopenBatch(batchId: number): void {
    this.#sql.reopenBatch.run(batchId)
  }

  finalizeBatch(batchId: number): void {
    this.#sql.finalizeBatch.run(batchId)
  }

  lastConfirmedBatch(): AnchorBatch | undefined {
    const row = this.#sql.lastConfirmed.get() as BatchRow | undefined
    return row && toBatch(row)
  }

  receipt(leaf: Hex): Receipt | undefined {
    const row = this.#sql.receiptOf.get(leaf.toLowerCase()) as { receipt: Uint8Array } | undefined
    return row ? decodeReceipt(new Uint8Array(row.receipt)) : undefined
  }

  undeliveredReceipts(batchId?: number): StoredReceipt[] {
    const rows = (
      batchId === undefined ? this.#sql.undelivered.all() : this.#sql.undeliveredOf.all(batchId)
    ) as ReceiptRow[]
    return rows.map((r) => ({
      leaf: r.leaf,
      topic: r.topic,
      receipt: decodeReceipt(new Uint8Array(r.receipt)),
    }))
  }

  markDelivered(receipt: Receipt): void {
    this.#sql.markDelivered.run(receipt.leaf.toLowerCase(), encodeReceipt(receipt))
  }

  unreceipted(upToSeq: number): number {
    return (this.#sql.unreceipted.get(upToSeq) as { n: number }).n
  }

  counts(): AnchorStoreCounts {
    const rows = this.#sql.batchCounts.all() as { status: AnchorBatchStatus; n: number }[]
    const by = (s: AnchorBatchStatus) => rows.find((c) => c.status === s)?.n ?? 0
    return {
      pending: this.pendingHead().count,
      inFlight: (this.#sql.inFlight.get() as { n: number }).n,
      batches: {
        total: rows.reduce((a, c) => a + c.n, 0),
        anchoring: by('anchoring'),
        confirmed: by('confirmed'),
        final: by('final'),
      },
      receipts: (this.#sql.receiptCount.get() as { n: number }).n,
    }
  }

  close(): void {
    if (this.#owned && this.#db.open) this.#db.close()
  }
}

function toBatch(row: BatchRow): AnchorBatch {
  return {
    id: row.id,
    root: row.root,
    leafCount: row.leaf_count,
    salt: row.salt ?? undefined,
    status: row.status,
    attempts: row.attempts,
    anchor:
      row.tx_hash && row.block_number && row.block_hash
        ? {
            txHash: row.tx_hash,
            blockNumber: BigInt(row.block_number),
            blockHash: row.block_hash,
            gasUsed: BigInt(row.gas_used ?? 0),
          }
        : undefined,
    previous:
      row.prev_tx_hash && row.prev_block_number
        ? { txHash: row.prev_tx_hash, blockNumber: BigInt(row.prev_block_number) }
        : undefined,
  }
}

function prepare(db: Database.Database) {
  return {
    insertLeaf: db.prepare(
      'INSERT OR IGNORE INTO anchor_leaves (leaf, topic, submitter, submitted_at) VALUES (?, ?, ?, ?)',
    ),
    pendingHead: db.prepare(
      'SELECT COUNT(*) AS n, MIN(seq) AS seq, MIN(submitted_at) AS at FROM anchor_leaves WHERE batch_id IS NULL',
    ),
    pendingLeaves: db.prepare(
      'SELECT seq, leaf FROM anchor_leaves WHERE batch_id IS NULL ORDER BY seq LIMIT ?',
    ),
    maxSeq: db.prepare('SELECT MAX(seq) AS s FROM anchor_leaves'),
    assignLeaf: db.prepare('UPDATE anchor_leaves SET batch_id = ?, leaf_index = ? WHERE seq = ?'),
    insertBatch: db.prepare(
      "INSERT INTO anchor_batches (root, leaf_count, status, created_at) VALUES (?, ?, 'anchoring', ?)",
    ),
    openBatch: db.prepare("SELECT * FROM anchor_batches WHERE status = 'anchoring' ORDER BY id LIMIT 1"),
    batchLeaves: db.prepare('SELECT leaf, topic FROM anchor_leaves WHERE batch_id = ? ORDER BY leaf_index'),
    // A batch confirmed while it held a previous anchor (a reorg took it) counts one re-anchor.
    confirmBatch: db.prepare(
      `UPDATE anchor_batches SET status = 'confirmed', tx_hash = ?, block_number = ?, block_hash = ?,
         block_timestamp = ?, gas_used = ?, confirmed_at = ?,
         reanchors = reanchors + (prev_tx_hash IS NOT NULL), attempts = 0,
         last_error = NULL, prev_tx_hash = NULL, prev_block_number = NULL WHERE id = ?`,
    ),
    failBatch: db.prepare('UPDATE anchor_batches SET attempts = attempts + 1, last_error = ? WHERE id = ?'),
    reopenBatch: db.prepare(
      `UPDATE anchor_batches SET status = 'anchoring', attempts = 0, prev_tx_hash = tx_hash,
         prev_block_number = block_number WHERE id = ?`,
    ),
    finalizeBatch: db.prepare("UPDATE anchor_batches SET status = 'final' WHERE id = ?"),
    confirmedBatches: db.prepare("SELECT * FROM anchor_batches WHERE status = 'confirmed' ORDER BY id"),
    batchCounts: db.prepare('SELECT status, COUNT(*) AS n FROM anchor_batches GROUP BY status'),
    lastConfirmed: db.prepare(
      "SELECT * FROM anchor_batches WHERE status IN ('confirmed', 'final') ORDER BY confirmed_at DESC, id DESC LIMIT 1",
    ),
    inFlight: db.prepare(
      `SELECT COUNT(*) AS n FROM anchor_leaves l JOIN anchor_batches b ON b.id = l.batch_id
         WHERE b.status = 'anchoring'`,
    ),
    upsertReceipt: db.prepare(
      `INSERT INTO anchor_receipts (leaf, batch_id, topic, receipt, issued_at, delivered) VALUES (?, ?, ?, ?, ?, 0)
         ON CONFLICT (leaf) DO UPDATE SET batch_id = excluded.batch_id, receipt = excluded.receipt,
         issued_at = excluded.issued_at, delivered = 0`,
    ),
    receiptOf: db.prepare('SELECT receipt FROM anchor_receipts WHERE leaf = ?'),
    receiptCount: db.prepare('SELECT COUNT(*) AS n FROM anchor_receipts'),
    undeliveredOf: db.prepare(
      'SELECT leaf, topic, receipt FROM anchor_receipts WHERE delivered = 0 AND batch_id = ? ORDER BY rowid',
    ),
    undelivered: db.prepare(
      'SELECT leaf, topic, receipt FROM anchor_receipts WHERE delivered = 0 ORDER BY rowid',
    ),
    // Only mark the receipt that was delivered (a reissue may have replaced it meanwhile).
    markDelivered: db.prepare('UPDATE anchor_receipts SET delivered = 1 WHERE leaf = ? AND receipt = ?'),
    unreceipted: db.prepare(
      `SELECT COUNT(*) AS n FROM anchor_leaves l
         WHERE l.seq <= ? AND (l.batch_id IS NULL OR NOT EXISTS (
           SELECT 1 FROM anchor_batches b WHERE b.id = l.batch_id AND b.status IN ('confirmed', 'final')))`,
    ),
  }
}
