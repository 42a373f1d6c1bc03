/** The anchorer: batches statement leaves into RFC 6962 trees, anchors each root on chain, issues receipts. */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { type Address, BlockNotFoundError, type Client, type Hex, stringToHex } from 'viem'
import { getBlock, getBlockNumber, getChainId, getContractEvents, getTransactionReceipt } from 'viem/actions'
import { messageAnchorAbi } from '../../contracts/artifacts/MessageAnchor.js'
import { mapChainError, withChainErrors } from '../chain/errors.js'
import type { WriteClient } from '../chain/sendAndWait.js'
import { anchorRoot, getAnchor } from '../chain/messageAnchor.js'
import { type BaseError, InternalError, UsageError, ValidationError, VerificationError } from '../errors.js'
import { buildMerkleTree, inclusionProof, type MerkleTree } from '../protocol/merkle.js'
import { decodeReceipt, encodeReceipt, type Receipt } from '../protocol/receipt.js'

// ---------------------------------------------------------------------------------------------------------
// Errors

/**
 * Anchorer options are out of range (a programming error).
 *
 * @example new AnchorerOptionsError({ option: 'batchSize', reason: 'must be 1 .. 16777215' })
 */
export class AnchorerOptionsError extends UsageError {
  override name = 'AnchorerOptionsError' as const
  constructor({ option, reason }: { option: string; reason: string }) {
    super('Anchorer option is invalid.', {
      metaMessages: [`Option: ${option}`, `Reason: ${reason}`],
      code: 'SEALPOST_ANCHORER_BAD_OPTIONS',
    })
  }
}

/**
 * `submit` got a leaf or topic that is not 32 bytes of hex.
 *
 * @example new AnchorerInputError({ field: 'leaf' })
 */
export class AnchorerInputError extends ValidationError {
  override name = 'AnchorerInputError' as const
  constructor({ field }: { field: string }) {
    super('Anchorer input is invalid.', {
      metaMessages: [`Field: ${field}`, 'Reason: must be 32 bytes as 0x-prefixed hex'],
      code: 'SEALPOST_ANCHORER_BAD_INPUT',
    })
  }
}

/**
 * The anchorer was stopped while a `flush()` was waiting, or `flush()` was called after `stop()`.
 *
 * @example await anchorer.flush().catch((e) => e instanceof AnchorerStoppedError)
 */
export class AnchorerStoppedError extends UsageError {
  override name = 'AnchorerStoppedError' as const
  constructor() {
    super('The anchorer is stopped.', { code: 'SEALPOST_ANCHORER_STOPPED' })
  }
}

/**
 * Someone anchored the batch's root with another leaf count (front-running or griefing), so no valid
 * receipt can name it; the anchorer re-batches the same leaves with a random extra leaf (a new root).
 *
 * @example anchorer.on('error', ({ error }) => error instanceof AnchorRootConflictError && console.warn(error.shortMessage))
 */
export class AnchorRootConflictError extends VerificationError {
  override name = 'AnchorRootConflictError' as const
  constructor({
    root,
    leafCount,
    anchoredLeafCount,
  }: { root: Hex; leafCount: number; anchoredLeafCount: number }) {
    super('Batch root was anchored by someone else with another leaf count; re-batching with a fresh root.', {
      metaMessages: [`Root: ${root}`, `Leaf count: ${leafCount}, anchored with ${anchoredLeafCount}`],
      code: 'SEALPOST_ANCHOR_ROOT_CONFLICT',
    })
  }
}

/**
 * The batch root is anchored but its `Anchored` event cannot be found (or it vanished while waiting for
 * confirmations): a reorg in progress; the anchorer retries.
 *
 * @example new AnchorNotFoundError({ root, reason: 'anchor vanished while waiting for confirmations' })
 */
export class AnchorNotFoundError extends InternalError {
  override name = 'AnchorNotFoundError' as const
  constructor({ root, reason }: { root: Hex; reason: string }) {
    super('Anchor transaction could not be located.', {
      metaMessages: [`Root: ${root}`, `Reason: ${reason}`],
      code: 'SEALPOST_ANCHOR_NOT_FOUND',
    })
  }
}

/**
 * `onReceipt` threw; the receipt stays stored and undelivered and is handed over again on the next
 * re-check or `start()`.
 *
 * @example anchorer.on('error', ({ error }) => error.code === 'SEALPOST_ANCHORER_DELIVERY_FAILED')
 */
export class ReceiptDeliveryError extends InternalError {
  override name = 'ReceiptDeliveryError' as const
  constructor({ leaf, cause }: { leaf: Hex; cause: unknown }) {
    super('Receipt could not be delivered; it will be retried.', {
      metaMessages: [`Leaf: ${leaf}`],
      cause,
      code: 'SEALPOST_ANCHORER_DELIVERY_FAILED',
    })
  }
}

// ---------------------------------------------------------------------------------------------------------
// Types

/**
 * Options of the {@link Anchorer}.
 *
 * @example
 * new Anchorer({ walletClient, publicClient, contract, db: { path: 'anchor.db' }, onReceipt: publish })
 */
export type AnchorerOptions = {
  /** Sends the anchor transactions; must carry an account. */
  walletClient: WriteClient
  /** Reads anchors, blocks and logs. */
  publicClient: Client
  /** MessageAnchor address. */
  contract: Address
  /** SQLite database: a file path (opened in WAL mode, closed by `stop()`) or an open handle (left open). */
  db: { path: string } | Database.Database
  /** A batch closes when it has this many leaves (default 256, at most 2^24 - 1). */
  batchSize?: number | undefined
  /** ... or when its oldest leaf has waited this long (default 2000 ms). */
  batchIntervalMs?: number | undefined
  /** Blocks (including the anchor's) to wait before receipts are issued (default 1). */
  confirmations?: number | undefined
  /** Confirmed batches are re-checked until this many blocks deep (default 12). */
  finalityDepth?: number | undefined
  /** Interval of the reorg re-check (default 3000 ms). */
  recheckIntervalMs?: number | undefined
  /** Poll interval while waiting for confirmations (default: the public client's, else 1000 ms). */
  pollingIntervalMs?: number | undefined
  /** Exponential backoff for failed anchoring attempts (default 500 ms, doubling, capped at 30 s). */
  retry?:
    | { initialMs?: number | undefined; maxMs?: number | undefined; factor?: number | undefined }
    | undefined
  /** Chain id written into receipts (default: the wallet's chain, else asked from the RPC). */
  chainId?: number | undefined
  /**
   * Called once per issued receipt (again with a new receipt after a re-anchor). May be async; when it
   * throws, the receipt is offered again on the next re-check or `start()` (at-least-once).
   */
  onReceipt?: ((receipt: Receipt, topic: Hex) => void | Promise<void>) | undefined
}

/**
 * A leaf handed to {@link Anchorer.submit}.
 *
 * @example anchorer.submit({ leaf, topic, submitter: deviceId })
 */
export type AnchorerSubmission = {
  /** The 32-byte statement leaf. */
  leaf: Hex
  /** Topic the receipt is published on. */
  topic: Hex
  /** Who submitted it (a device id); stored for accounting only. */
  submitter: Hex
}

/**
 * Events of the {@link Anchorer}, as `[payload]` tuples.
 *
 * @example anchorer.on('batch-confirmed', ({ batchId, gasUsed, leafCount }) => log(batchId, gasUsed / BigInt(leafCount)))
 */
export type AnchorerEvents = {
  /** A new leaf was persisted. */
  leaf: [{ leaf: Hex; topic: Hex; submitter: Hex; pending: number }]
  /** The anchor transaction of a batch was included in a block (or an existing anchor of its root was adopted). */
  'batch-submitted': [{ batchId: number; root: Hex; leafCount: number; txHash: Hex }]
  /** The batch reached `confirmations` and its receipts were persisted. */
  'batch-confirmed': [
    {
      batchId: number
      root: Hex
      txHash: Hex
      blockNumber: bigint
      gasUsed: bigint
      leafCount: number
      gasPerLeaf: number
    },
  ]
  /** A confirmed batch's anchor vanished or moved (reorg); it was anchored again and its receipts reissued. */
  reanchored: [
    {
      batchId: number
      root: Hex
      previousTxHash: Hex
      previousBlockNumber: bigint
      txHash: Hex
      blockNumber: bigint
    },
  ]
  /** A receipt was handed to `onReceipt`. */
  receipt: [{ receipt: Receipt; topic: Hex }]
  /** A recoverable failure: the anchorer logs it here and retries (`retryInMs`). */
  error: [{ error: BaseError; batchId?: number | undefined; retryInMs?: number | undefined }]
}

/**
 * Counters for the dashboard and the benchmarks.
 *
 * @example const { pending, lastGasPerLeaf } = anchorer.stats()
 */
export type AnchorerStats = {
  /** Leaves waiting for a batch. */
  pending: number
  /** Leaves in batches being anchored (sent, retrying, or re-anchoring after a reorg). */
  inFlight: number
  batches: { total: number; anchoring: number; confirmed: number; final: number }
  receipts: number
  lastBatch?:
    | {
        batchId: number
        leafCount: number
        gasUsed: bigint
        gasPerLeaf: number
        blockNumber: bigint
        txHash: Hex
      }
    | undefined
  /** gasUsed / leafCount of the last confirmed batch. */
  lastGasPerLeaf?: number | undefined
  /** Code of the last failure, cleared by the next success. */
  lastError?: string | undefined
}

type BatchRow = {
  id: number
  root: Hex
  leaf_count: number
  salt: Hex | null
  status: 'anchoring' | 'confirmed' | 'final'
  attempts: number
  tx_hash: Hex | null
  block_number: string | null
  block_hash: Hex | null
  prev_tx_hash: Hex | null
  prev_block_number: string | null
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

const MAX_LEAF_COUNT = 2 ** 24 - 1
const BYTES32 = /^0x[0-9a-fA-F]{64}$/

// ---------------------------------------------------------------------------------------------------------
// Anchorer

/**
 * Collects statement leaves, closes a batch after `batchSize` leaves or `batchIntervalMs`, anchors the batch's
 * RFC 6962 root with one `MessageAnchor.anchor` transaction, waits for `confirmations`, and issues one receipt
 * per leaf (`onReceipt`, persisted first). Everything lives in SQLite (`anchor_*` tables), so a restart loses
 * nothing: pending leaves, a batch caught mid-flight and undelivered receipts all resume.
 *
 * Faults: an unreachable chain or a failed transaction (revert, status 0, no funds) leaves the batch in
 * place and retries it with exponential backoff; messaging is unaffected. Each attempt first reads
 * `anchors(root)`, so a batch anchored by an earlier attempt, a crashed run or anyone else with the same
 * leaf count is adopted (its transaction found via the `Anchored` log) instead of reverting with
 * AlreadyAnchored: the root commits to exactly these leaves, so those receipts are as good. A root anchored
 * with another leaf count is re-batched with a random extra leaf ({@link AnchorRootConflictError}).
 * A re-check every `recheckIntervalMs` reads `anchors(root)` of confirmed batches until `finalityDepth`
 * blocks deep; a vanished anchor is anchored again, a moved one adopted, and the receipts are reissued
 * ('reanchored'). One transaction per batch, never one per message; one batch in flight at a time.
 *
 * @example
 * const anchorer = new Anchorer({ walletClient, publicClient, contract, db: { path }, onReceipt: publish })
 * anchorer.start()
 * anchorer.submit({ leaf, topic, submitter: deviceId })
 * await anchorer.flush() // close the batch now and wait for its receipts
 * await anchorer.stop()
 */
export class Anchorer extends EventEmitter<AnchorerEvents> {
  readonly db: Database.Database
  readonly #ownsDb: boolean
  readonly #options: {
    batchSize: number
    batchIntervalMs: number
    confirmations: number
    finalityDepth: number
    recheckIntervalMs: number
    pollingIntervalMs: number
    retryInitialMs: number
    retryMaxMs: number
    retryFactor: number
  }
  readonly #wallet: WriteClient
  readonly #public: Client
  readonly #contract: Address
  readonly #onReceipt: AnchorerOptions['onReceipt']
  #chainId: number | undefined

  #started = false
  #stopped = false
  #busy: Promise<void> | undefined
  #again = false
  #timer: NodeJS.Timeout | undefined
  #timerAt = Number.POSITIVE_INFINITY
  #recheckTimer: NodeJS.Timeout | undefined
  #recheckDue = false
  #retryAt = 0
  #flushUpTo = 0
  #waiters: { upTo: number; resolve: () => void; reject: (e: unknown) => void }[] = []
  #lastError: string | undefined
  #sql: ReturnType<typeof prepare>

  constructor(options: AnchorerOptions) {
    super()
    const batchSize = options.batchSize ?? 256
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_LEAF_COUNT - 1)
      throw new AnchorerOptionsError({
        option: 'batchSize',
        reason: `must be an integer in 1..${MAX_LEAF_COUNT - 1}`,
      })
    const positive = (name: string, value: number | undefined, fallback: number, min = 0) => {
      const v = value ?? fallback
      if (!Number.isFinite(v) || v < min)
        throw new AnchorerOptionsError({ option: name, reason: `must be >= ${min}` })
      return v
    }
    this.#options = {
      batchSize,
      batchIntervalMs: positive('batchIntervalMs', options.batchIntervalMs, 2000),
      confirmations: positive('confirmations', options.confirmations, 1, 1),
      finalityDepth: positive('finalityDepth', options.finalityDepth, 12, 1),
      recheckIntervalMs: positive('recheckIntervalMs', options.recheckIntervalMs, 3000, 1),
      pollingIntervalMs: positive(
        'pollingIntervalMs',
        options.pollingIntervalMs,
        (options.publicClient as { pollingInterval?: number }).pollingInterval ?? 1000,
        1,
      ),
      retryInitialMs: positive('retry.initialMs', options.retry?.initialMs, 500, 1),
      retryMaxMs: positive('retry.maxMs', options.retry?.maxMs, 30_000, 1),
      retryFactor: positive('retry.factor', options.retry?.factor, 2, 1),
    }
    if (!options.walletClient.account)
      throw new AnchorerOptionsError({ option: 'walletClient', reason: 'must carry an account' })
    this.#wallet = options.walletClient
    this.#public = options.publicClient
    this.#contract = options.contract
    this.#onReceipt = options.onReceipt
    this.#chainId = options.chainId ?? options.walletClient.chain?.id
    if ('path' in options.db && typeof options.db.path === 'string') {
      if (options.db.path !== ':memory:') mkdirSync(dirname(options.db.path), { recursive: true })
      this.db = new Database(options.db.path)
      this.db.pragma('journal_mode = WAL')
      this.db.pragma('synchronous = NORMAL')
      this.#ownsDb = true
    } else {
      this.db = options.db as Database.Database
      this.#ownsDb = false
    }
    this.db.exec(SCHEMA)
    this.#sql = prepare(this.db)
  }

  /**
   * Persists `leaf` for the next batch, durably when it returns. Deduplicated by leaf: a repeat is ignored
   * (no 'leaf' event; the first topic keeps the receipt). Works before `start()`; the leaf waits for it.
   * Throws {@link AnchorerInputError} for a leaf or topic that is not 32 bytes of hex.
   *
   * @example anchorer.submit({ leaf, topic, submitter: deviceId })
   */
  submit({ leaf, topic, submitter }: AnchorerSubmission): void {
    if (typeof leaf !== 'string' || !BYTES32.test(leaf)) throw new AnchorerInputError({ field: 'leaf' })
    if (typeof topic !== 'string' || !BYTES32.test(topic)) throw new AnchorerInputError({ field: 'topic' })
    if (typeof submitter !== 'string' || !/^0x[0-9a-fA-F]*$/.test(submitter))
      throw new AnchorerInputError({ field: 'submitter' })
    const normalized = leaf.toLowerCase() as Hex
    const info = this.#sql.insertLeaf.run(
      normalized,
      topic.toLowerCase(),
      submitter.toLowerCase(),
      Date.now(),
    )
    if (info.changes === 0) {
      // Asked again for a leaf that already has a receipt: the asker evidently lost it, so hand it over again.
      const receipt = this.getReceipt(normalized)
      if (receipt && this.#onReceipt)
        Promise.resolve(this.#onReceipt(receipt, topic.toLowerCase() as Hex)).catch(() => undefined)
      return
    }
    const pending = this.#pendingCount()
    this.emit('leaf', { leaf: normalized, topic, submitter, pending })
    if (pending >= this.#options.batchSize) this.#kick()
    else if (pending === 1) this.#schedule(this.#options.batchIntervalMs)
  }

  /**
   * Starts batching: resumes batches caught mid-flight, re-delivers undelivered receipts, starts the reorg
   * re-check. Idempotent.
   *
   * @example anchorer.start()
   */
  start(): void {
    if (this.#stopped) throw new AnchorerStoppedError()
    if (this.#started) return
    this.#started = true
    this.#recheckDue = true
    this.#recheckTimer = setInterval(() => {
      this.#recheckDue = true
      this.#kick()
    }, this.#options.recheckIntervalMs)
    this.#recheckTimer.unref?.()
    this.#kick()
  }

  /**
   * Stops timers, waits for the current step to finish (an in-flight transaction is not abandoned midway),
   * rejects pending `flush()` promises, and closes the database if the anchorer opened it.
   *
   * @example await anchorer.stop()
   */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    if (this.#recheckTimer) clearInterval(this.#recheckTimer)
    try {
      await this.#busy
    } catch {}
    for (const w of this.#waiters.splice(0)) w.reject(new AnchorerStoppedError())
    if (this.#ownsDb) this.db.close()
  }

  /**
   * Closes the current batch now (whatever its size and age) and resolves once every leaf submitted so far
   * has a receipt. Keeps waiting through outages (the anchorer retries); rejects with
   * {@link AnchorerStoppedError} on `stop()`.
   *
   * @example anchorer.submit({ leaf, topic, submitter }); await anchorer.flush(); anchorer.getReceipt(leaf)
   */
  flush(): Promise<void> {
    if (this.#stopped) return Promise.reject(new AnchorerStoppedError())
    const upTo = Number((this.#sql.maxSeq.get() as { s: number | null }).s ?? 0)
    if (this.#unreceipted(upTo) === 0) return Promise.resolve()
    this.#flushUpTo = Math.max(this.#flushUpTo, upTo)
    const promise = new Promise<void>((resolve, reject) => this.#waiters.push({ upTo, resolve, reject }))
    this.#kick()
    return promise
  }

  /**
   * The latest receipt issued for `leaf`, if any.
   *
   * @example const receipt = anchorer.getReceipt(leaf)
   */
  getReceipt(leaf: Hex): Receipt | undefined {
    const row = this.#sql.receiptOf.get(leaf.toLowerCase()) as { receipt: Uint8Array } | undefined
    return row ? decodeReceipt(new Uint8Array(row.receipt)) : undefined
  }

  /**
   * Counters for dashboards and benchmarks.
   *
   * @example console.log(anchorer.stats().lastGasPerLeaf)
   */
  stats(): AnchorerStats {
    const counts = this.#sql.batchCounts.all() as { status: string; n: number }[]
    const by = (s: string) => counts.find((c) => c.status === s)?.n ?? 0
    const last = this.#sql.lastConfirmed.get() as
      | { id: number; leaf_count: number; gas_used: string; block_number: string; tx_hash: Hex }
      | undefined
    const lastBatch = last
      ? {
          batchId: last.id,
          leafCount: last.leaf_count,
          gasUsed: BigInt(last.gas_used),
          gasPerLeaf: Number(last.gas_used) / last.leaf_count,
          blockNumber: BigInt(last.block_number),
          txHash: last.tx_hash,
        }
      : undefined
    return {
      pending: this.#pendingCount(),
      inFlight: (this.#sql.inFlight.get() as { n: number }).n,
      batches: {
        total: counts.reduce((a, c) => a + c.n, 0),
        anchoring: by('anchoring'),
        confirmed: by('confirmed'),
        final: by('final'),
      },
      receipts: (this.#sql.receiptCount.get() as { n: number }).n,
      lastBatch,
      lastGasPerLeaf: lastBatch?.gasPerLeaf,
      lastError: this.#lastError,
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Scheduling: one worker at a time; every state change goes through #kick.

  #kick(): void {
    if (!this.#started || this.#stopped) return
    if (this.#busy) {
      this.#again = true
      return
    }
    this.#busy = this.#work()
      .catch((err) => this.#report(mapChainError(err)))
      .finally(() => {
        this.#busy = undefined
        if (this.#again) {
          this.#again = false
          this.#kick()
        }
      })
  }

  #schedule(delayMs: number): void {
    if (!this.#started || this.#stopped) return
    const at = Date.now() + Math.max(0, delayMs)
    if (this.#timer && at >= this.#timerAt) return
    if (this.#timer) clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        this.#timerAt = Number.POSITIVE_INFINITY
        this.#kick()
      },
      Math.max(0, delayMs),
    )
  }

  async #work(): Promise<void> {
    if (this.#recheckDue) {
      this.#recheckDue = false
      await this.#recheck()
      await this.#deliverUndelivered()
    }
    while (!this.#stopped) {
      const open = this.#sql.openBatch.get() as BatchRow | undefined
      if (open) {
        const wait = this.#retryAt - Date.now()
        if (wait > 0) return this.#schedule(wait)
        if (!(await this.#anchorBatch(open))) return
        continue
      }
      const head = this.#sql.pendingHead.get() as { n: number; seq: number | null; at: number | null }
      if (head.n === 0 || head.seq === null || head.at === null) return
      const age = Date.now() - head.at
      if (
        head.n >= this.#options.batchSize ||
        head.seq <= this.#flushUpTo ||
        age >= this.#options.batchIntervalMs
      ) {
        this.#closeBatch()
        continue
      }
      return this.#schedule(this.#options.batchIntervalMs - age)
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Batches

  #closeBatch(): void {
    this.db.transaction(() => {
      const rows = this.#sql.pendingLeaves.all(this.#options.batchSize) as { seq: number; leaf: Hex }[]
      const tree = buildMerkleTree(rows.map((r) => r.leaf))
      const { lastInsertRowid } = this.#sql.insertBatch.run(tree.root, rows.length, Date.now())
      const batchId = Number(lastInsertRowid)
      rows.forEach((r, i) => {
        this.#sql.assignLeaf.run(batchId, i, r.seq)
      })
    })()
  }

  #treeOf(batch: BatchRow): { tree: MerkleTree; leaves: { leaf: Hex; topic: Hex }[] } {
    const leaves = this.#sql.batchLeaves.all(batch.id) as { leaf: Hex; topic: Hex }[]
    const tree = buildMerkleTree(
      batch.salt ? [...leaves.map((l) => l.leaf), batch.salt] : leaves.map((l) => l.leaf),
    )
    return { tree, leaves }
  }

  /** One attempt; true if the batch is done (or changed shape), false if a retry was scheduled. */
  async #anchorBatch(batch: BatchRow): Promise<boolean> {
    const { tree, leaves } = this.#treeOf(batch)
    try {
      if (tree.root !== batch.root)
        throw new InternalError('Stored batch root does not match its leaves.', {
          metaMessages: [`Batch: ${batch.id}`],
          code: 'SEALPOST_ANCHORER_CORRUPT',
        })
      if (this.#chainId === undefined) this.#chainId = await withChainErrors(() => getChainId(this.#public))
      const chainId = this.#chainId
      let placed: { txHash: Hex; blockNumber: bigint; gasUsed: bigint }
      const existing = await getAnchor(this.#public, { contract: this.#contract, root: tree.root })
      if (existing) {
        // Anchored already: by an earlier attempt of ours (crash, lost response), or by someone else.
        if (existing.leafCount !== tree.size) {
          this.#rebatch(batch, existing.leafCount)
          return true
        }
        const txHash = await this.#locate(tree.root, existing.blockNumber)
        const tx = await withChainErrors(() => getTransactionReceipt(this.#public, { hash: txHash }))
        placed = { txHash, blockNumber: existing.blockNumber, gasUsed: tx.gasUsed }
      } else {
        // A lost race to an identical anchor reverts with AlreadyAnchored: it takes the retry path like any
        // failure (no busy loop while the winner is still pending), and the next attempt adopts the anchor.
        const result = await anchorRoot(this.#wallet, {
          contract: this.#contract,
          root: tree.root,
          leafCount: tree.size,
          meta: stringToHex(`sealpost/v1 batch ${batch.id}`),
        })
        placed = { txHash: result.hash, blockNumber: result.blockNumber, gasUsed: result.gasUsed }
      }
      this.emit('batch-submitted', {
        batchId: batch.id,
        root: tree.root,
        leafCount: tree.size,
        txHash: placed.txHash,
      })

      await this.#waitConfirmations(tree.root, placed.blockNumber)
      const block = await withChainErrors(() => getBlock(this.#public, { blockNumber: placed.blockNumber }))
      const now = Date.now()
      const receipts = leaves.map((l, index) => ({
        topic: l.topic,
        receipt: {
          chainId,
          contract: this.#contract,
          root: tree.root,
          leaf: l.leaf,
          index,
          treeSize: tree.size,
          path: inclusionProof(tree, index),
          txHash: placed.txHash,
          blockNumber: placed.blockNumber,
          blockTimestamp: block.timestamp,
        } satisfies Receipt,
      }))
      this.db.transaction(() => {
        this.#sql.confirmBatch.run(
          placed.txHash,
          placed.blockNumber.toString(),
          block.hash,
          block.timestamp.toString(),
          placed.gasUsed.toString(),
          now,
          batch.prev_tx_hash ? 1 : 0,
          batch.id,
        )
        for (const r of receipts)
          this.#sql.upsertReceipt.run(r.receipt.leaf, batch.id, r.topic, encodeReceipt(r.receipt), now)
      })()
      this.#retryAt = 0
      this.#lastError = undefined
      this.emit('batch-confirmed', {
        batchId: batch.id,
        root: tree.root,
        txHash: placed.txHash,
        blockNumber: placed.blockNumber,
        gasUsed: placed.gasUsed,
        leafCount: tree.size,
        gasPerLeaf: Number(placed.gasUsed) / tree.size,
      })
      if (batch.prev_tx_hash && batch.prev_block_number)
        this.emit('reanchored', {
          batchId: batch.id,
          root: tree.root,
          previousTxHash: batch.prev_tx_hash,
          previousBlockNumber: BigInt(batch.prev_block_number),
          txHash: placed.txHash,
          blockNumber: placed.blockNumber,
        })
      await this.#deliver(batch.id)
      this.#settleWaiters()
      return true
    } catch (err) {
      if (this.#stopped) return false
      const error = mapChainError(err)
      const attempts = batch.attempts + 1
      this.#sql.failBatch.run(error.code, batch.id)
      const retryInMs = Math.min(
        this.#options.retryMaxMs,
        this.#options.retryInitialMs * this.#options.retryFactor ** (attempts - 1),
      )
      this.#retryAt = Date.now() + retryInMs
      this.#report(error, batch.id, retryInMs)
      this.#schedule(retryInMs)
      return false
    }
  }

  /** The root was taken with another leaf count: add a random leaf so the batch gets a fresh root. */
  #rebatch(batch: BatchRow, anchoredLeafCount: number): void {
    const salt = `0x${randomBytes(32).toString('hex')}` as Hex
    const leaves = (this.#sql.batchLeaves.all(batch.id) as { leaf: Hex }[]).map((l) => l.leaf)
    const tree = buildMerkleTree([...leaves, salt])
    this.#sql.rebatch.run(tree.root, tree.size, salt, batch.id)
    this.#report(
      new AnchorRootConflictError({ root: batch.root, leafCount: batch.leaf_count, anchoredLeafCount }),
      batch.id,
    )
  }

  /** Transaction hash of the `Anchored(root)` log in `blockNumber`. */
  async #locate(root: Hex, blockNumber: bigint): Promise<Hex> {
    const logs = await withChainErrors(() =>
      getContractEvents(this.#public, {
        address: this.#contract,
        abi: messageAnchorAbi,
        eventName: 'Anchored',
        args: { root },
        fromBlock: blockNumber,
        toBlock: blockNumber,
      }),
    )
    const log = logs.at(-1)
    if (!log?.transactionHash)
      throw new AnchorNotFoundError({ root, reason: `no Anchored log in block ${blockNumber}` })
    return log.transactionHash
  }

  async #waitConfirmations(root: Hex, blockNumber: bigint): Promise<void> {
    const needed = BigInt(this.#options.confirmations)
    for (;;) {
      if (this.#stopped) throw new AnchorerStoppedError()
      const head = await withChainErrors(() => getBlockNumber(this.#public, { cacheTime: 0 }))
      if (head - blockNumber + 1n >= needed) break
      await new Promise((ok) => setTimeout(ok, this.#options.pollingIntervalMs))
    }
    if (needed > 1n) {
      const anchor = await getAnchor(this.#public, { contract: this.#contract, root })
      if (anchor?.blockNumber !== blockNumber)
        throw new AnchorNotFoundError({
          root,
          reason: 'anchor moved or vanished while waiting for confirmations',
        })
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Reorg re-check

  async #recheck(): Promise<void> {
    const batches = this.#sql.confirmedBatches.all() as BatchRow[]
    if (batches.length === 0) return
    try {
      const head = await withChainErrors(() => getBlockNumber(this.#public, { cacheTime: 0 }))
      for (const b of batches) {
        const stored = BigInt(b.block_number ?? 0)
        const anchor = await getAnchor(this.#public, { contract: this.#contract, root: b.root })
        let moved = anchor === undefined || anchor.blockNumber !== stored
        if (!moved) {
          const block = await withChainErrors(async () => {
            try {
              return await getBlock(this.#public, { blockNumber: stored })
            } catch (err) {
              if (err instanceof BlockNotFoundError) return undefined // the chain is shorter now
              throw err
            }
          })
          moved = block?.hash !== b.block_hash
        }
        if (moved) {
          // Back to 'anchoring': the worker re-anchors a vanished root, or adopts the moved anchor, and reissues.
          this.#sql.reopenBatch.run(b.tx_hash, b.block_number, b.id)
          this.#retryAt = 0
        } else if (head - stored + 1n >= BigInt(this.#options.finalityDepth)) {
          this.#sql.finalizeBatch.run(b.id)
        }
      }
    } catch (err) {
      this.#report(mapChainError(err))
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Receipts

  async #deliver(batchId: number): Promise<void> {
    const rows = this.#sql.undeliveredOf.all(batchId) as { leaf: Hex; topic: Hex; receipt: Uint8Array }[]
    await this.#deliverRows(rows)
  }

  async #deliverUndelivered(): Promise<void> {
    const rows = this.#sql.undelivered.all() as { leaf: Hex; topic: Hex; receipt: Uint8Array }[]
    await this.#deliverRows(rows)
  }

  async #deliverRows(rows: { leaf: Hex; topic: Hex; receipt: Uint8Array }[]): Promise<void> {
    for (const row of rows) {
      const receipt = decodeReceipt(new Uint8Array(row.receipt))
      try {
        await this.#onReceipt?.(receipt, row.topic)
        this.#sql.markDelivered.run(row.leaf, row.receipt)
        this.emit('receipt', { receipt, topic: row.topic })
      } catch (cause) {
        this.#report(new ReceiptDeliveryError({ leaf: row.leaf, cause }))
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Helpers

  #pendingCount(): number {
    return (this.#sql.pendingHead.get() as { n: number }).n
  }

  #unreceipted(upTo: number): number {
    return (this.#sql.unreceipted.get(upTo) as { n: number }).n
  }

  #settleWaiters(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#unreceipted(w.upTo) > 0) return true
      w.resolve()
      return false
    })
  }

  #report(error: BaseError, batchId?: number, retryInMs?: number): void {
    this.#lastError = error.code
    if (this.listenerCount('error') > 0) this.emit('error', { error, batchId, retryInMs })
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
    confirmBatch: db.prepare(
      `UPDATE anchor_batches SET status = 'confirmed', tx_hash = ?, block_number = ?, block_hash = ?,
         block_timestamp = ?, gas_used = ?, confirmed_at = ?, reanchors = reanchors + ?, attempts = 0,
         last_error = NULL, prev_tx_hash = NULL, prev_block_number = NULL WHERE id = ?`,
    ),
    failBatch: db.prepare('UPDATE anchor_batches SET attempts = attempts + 1, last_error = ? WHERE id = ?'),
    rebatch: db.prepare('UPDATE anchor_batches SET root = ?, leaf_count = ?, salt = ? WHERE id = ?'),
    reopenBatch: db.prepare(
      `UPDATE anchor_batches SET status = 'anchoring', attempts = 0, prev_tx_hash = ?, prev_block_number = ?
         WHERE id = ?`,
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
