/** Options of the anchorer: the type, the defaults, and their validation. */
import type Database from 'better-sqlite3'
import type { Address, Client, Hex } from 'viem'
import type { WriteClient } from '../chain/sendAndWait.js'
import type { Receipt } from '../protocol/receipt.js'
import {
  type AnchorBatch,
  type AnchorBatchLeaf,
  type AnchorStore,
  SqliteAnchorStore,
} from '../store/anchorStore.js'
import { AnchorerOptionsError } from './errors.js'

/**
 * Options of the `Anchorer`. Storage is either `db` (a SQLite file path or open handle) or any `store`.
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
  db?: { path: string } | Database.Database | undefined
  /** Any other {@link AnchorStore} (instead of `db`); `stop()` leaves it open. */
  store?: AnchorStore | undefined
  /** A batch closes when it has this many leaves (default 256, at most 2^24 - 2). */
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
  /**
   * Called before each attempt to anchor a batch, with its leaves in tree order; when it throws, the attempt does
   * not happen (a relay cluster records the batch under its anchor lease here, and a relay that lost the lease is
   * refused: `relay/clusterAnchor.ts`).
   */
  beforeAnchor?: ((batch: AnchorBatch, leaves: AnchorBatchLeaf[]) => Promise<void>) | undefined
}

/**
 * The anchorer's timing and sizing, every default filled in.
 *
 * @example const { batchSize, confirmations } = resolveAnchorerOptions(options)
 */
export type AnchorerSettings = {
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

/**
 * Largest tree the contract accepts (its `leafCount` is below 2^24); a batch keeps one slot free for the extra
 * leaf of a re-batch.
 *
 * @example MAX_LEAF_COUNT // 16777215
 */
export const MAX_LEAF_COUNT = 2 ** 24 - 1

/**
 * Defaults of the anchorer's settings (`pollingIntervalMs` falls back to the public client's interval first).
 *
 * @example anchorerDefaults.batchSize // 256
 */
export const anchorerDefaults: Readonly<AnchorerSettings> = {
  batchSize: 256,
  batchIntervalMs: 2000,
  confirmations: 1,
  finalityDepth: 12,
  recheckIntervalMs: 3000,
  pollingIntervalMs: 1000,
  retryInitialMs: 500,
  retryMaxMs: 30_000,
  retryFactor: 2,
}

/**
 * Fills in the defaults and checks every number and the wallet's account; throws {@link AnchorerOptionsError}
 * naming the first bad option.
 *
 * @example const settings = resolveAnchorerOptions({ walletClient, publicClient, contract, db, batchSize: 64 })
 */
export function resolveAnchorerOptions(options: AnchorerOptions): AnchorerSettings {
  const batchSize = options.batchSize ?? anchorerDefaults.batchSize
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_LEAF_COUNT - 1)
    throw new AnchorerOptionsError({
      option: 'batchSize',
      reason: `must be an integer in 1..${MAX_LEAF_COUNT - 1}`,
    })
  const atLeast = (name: string, value: number | undefined, fallback: number, min = 0) => {
    const v = value ?? fallback
    if (!Number.isFinite(v) || v < min)
      throw new AnchorerOptionsError({ option: name, reason: `must be >= ${min}` })
    return v
  }
  const clientPolling = (options.publicClient as { pollingInterval?: number }).pollingInterval
  const settings: AnchorerSettings = {
    batchSize,
    batchIntervalMs: atLeast('batchIntervalMs', options.batchIntervalMs, anchorerDefaults.batchIntervalMs),
    confirmations: atLeast('confirmations', options.confirmations, anchorerDefaults.confirmations, 1),
    finalityDepth: atLeast('finalityDepth', options.finalityDepth, anchorerDefaults.finalityDepth, 1),
    recheckIntervalMs: atLeast(
      'recheckIntervalMs',
      options.recheckIntervalMs,
      anchorerDefaults.recheckIntervalMs,
      1,
    ),
    pollingIntervalMs: atLeast(
      'pollingIntervalMs',
      options.pollingIntervalMs,
      clientPolling ?? anchorerDefaults.pollingIntervalMs,
      1,
    ),
    retryInitialMs: atLeast('retry.initialMs', options.retry?.initialMs, anchorerDefaults.retryInitialMs, 1),
    retryMaxMs: atLeast('retry.maxMs', options.retry?.maxMs, anchorerDefaults.retryMaxMs, 1),
    retryFactor: atLeast('retry.factor', options.retry?.factor, anchorerDefaults.retryFactor, 1),
  }
  if (!options.walletClient.account)
    throw new AnchorerOptionsError({ option: 'walletClient', reason: 'must carry an account' })
  if ((options.db === undefined) === (options.store === undefined))
    throw new AnchorerOptionsError({ option: 'db', reason: 'give exactly one of db and store' })
  return settings
}

/**
 * The store the options name: `store` as given, or a {@link SqliteAnchorStore} on `db`. `owned` is true when the
 * anchorer opened it and must close it.
 *
 * @example const { store, owned } = anchorStoreOf(options)
 */
export function anchorStoreOf(options: AnchorerOptions): { store: AnchorStore; owned: boolean } {
  if (options.store) return { store: options.store, owned: false }
  const db = options.db
  if (db && 'path' in db && typeof db.path === 'string')
    return { store: SqliteAnchorStore.open({ path: db.path }), owned: true }
  return { store: SqliteAnchorStore.wrap(db as Database.Database), owned: true }
}
