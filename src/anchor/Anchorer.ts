/** The anchorer: batches statement leaves into RFC 6962 trees, anchors each root on chain, issues receipts. */
import { EventEmitter } from 'node:events'
import type { Hex } from 'viem'
import { getChainId } from 'viem/actions'
import { mapChainError, withChainErrors } from '../chain/errors.js'
import type { BaseError } from '../errors.js'
import type { Receipt } from '../protocol/receipt.js'
import type { AnchorBatch, AnchorStore } from '../store/anchorStore.js'
import { type AnchorChain, anchorBatch } from './anchorBatch.js'
import { closeBatch } from './batchTree.js'
import { deliverReceipts } from './delivery.js'
import { AnchorerStoppedError } from './errors.js'
import type { AnchorerEvents } from './events.js'
import {
  type AnchorerOptions,
  type AnchorerSettings,
  anchorStoreOf,
  resolveAnchorerOptions,
} from './options.js'
import { recheckBatches } from './recheck.js'
import { createScheduler, nextStep, retryDelay, type Scheduler } from './scheduler.js'
import { type AnchorerStats, anchorerStats } from './stats.js'
import { type AnchorerSubmission, normalizeSubmission } from './submission.js'

export * from './errors.js'
export type { AnchorerEvents } from './events.js'
export type { AnchorerOptions } from './options.js'
export type { AnchorerStats } from './stats.js'
export type { AnchorerSubmission } from './submission.js'

/**
 * Collects statement leaves, closes a batch after `batchSize` leaves or `batchIntervalMs`, anchors the batch's
 * RFC 6962 root with one `MessageAnchor.anchor` transaction, waits for `confirmations`, and issues one receipt
 * per leaf (`onReceipt`, persisted first). Everything lives in its {@link AnchorStore} (SQLite `anchor_*`
 * tables by default), so a restart loses nothing: pending leaves, a batch caught mid-flight and undelivered
 * receipts all resume.
 *
 * Faults: an unreachable chain or a failed transaction (revert, status 0, no funds) leaves the batch in
 * place and retries it with exponential backoff; messaging is unaffected. Each attempt (`anchorBatch.ts`)
 * adopts only this anchorer's own earlier anchor of the root: MessageAnchor v2 namespaces anchors by
 * submitter, so someone else anchoring the same root (front-running, through any contract) changes nothing
 * here. A re-check (`recheck.ts`) every `recheckIntervalMs` follows confirmed batches
 * until `finalityDepth` blocks deep; a vanished anchor is anchored again, a moved one adopted, and the receipts
 * are reissued ('reanchored'). One transaction per batch, never one per message; one batch in flight at a time
 * (`scheduler.ts`).
 *
 * @example
 * const anchorer = new Anchorer({ walletClient, publicClient, contract, db: { path }, onReceipt: publish })
 * anchorer.start()
 * anchorer.submit({ leaf, topic, submitter: deviceId })
 * await anchorer.flush() // close the batch now and wait for its receipts
 * await anchorer.stop()
 */
export class Anchorer extends EventEmitter<AnchorerEvents> {
  readonly #settings: AnchorerSettings
  readonly #chain: AnchorChain
  readonly #store: AnchorStore
  readonly #ownsStore: boolean
  readonly #onReceipt: AnchorerOptions['onReceipt']
  readonly #beforeAnchor: AnchorerOptions['beforeAnchor']
  readonly #worker: Scheduler
  #chainId: number | undefined

  #started = false
  #stopped = false
  #recheckTimer: NodeJS.Timeout | undefined
  #recheckDue = false
  #retryAt = 0
  #flushUpTo = 0
  #waiters: { upTo: number; resolve: () => void; reject: (e: unknown) => void }[] = []
  #lastError: string | undefined

  constructor(options: AnchorerOptions) {
    super()
    this.#settings = resolveAnchorerOptions(options)
    this.#chain = {
      walletClient: options.walletClient,
      // resolveAnchorerOptions checked that the wallet carries an account.
      submitter: options.walletClient.account!.address,
      publicClient: options.publicClient,
      contract: options.contract,
    }
    this.#onReceipt = options.onReceipt
    this.#beforeAnchor = options.beforeAnchor
    this.#chainId = options.chainId ?? options.walletClient.chain?.id
    const { store, owned } = anchorStoreOf(options)
    this.#store = store
    this.#ownsStore = owned
    this.#worker = createScheduler({
      work: () => this.#work(),
      onError: (err) => this.#report(mapChainError(err)),
    })
  }

  /**
   * Persists `leaf` for the next batch, durably when it returns. Deduplicated by leaf: a repeat is ignored
   * (no 'leaf' event; the first topic keeps the receipt), except that an existing receipt is handed to
   * `onReceipt` again. Works before `start()`; the leaf waits for it. Throws `AnchorerInputError` for a leaf
   * or topic that is not 32 bytes of hex.
   *
   * @example anchorer.submit({ leaf, topic, submitter: deviceId })
   */
  submit(submission: AnchorerSubmission): void {
    const { leaf, topic, submitter } = normalizeSubmission(submission)
    if (!this.#store.addLeaf({ leaf, topic, submitter, at: Date.now() })) {
      // Asked again for a leaf that already has a receipt: the asker evidently lost it, so hand it over again.
      const receipt = this.#store.receipt(leaf)
      if (receipt && this.#onReceipt) Promise.resolve(this.#onReceipt(receipt, topic)).catch(() => undefined)
      return
    }
    const pending = this.#store.pendingHead().count
    this.emit('leaf', { leaf, topic, submitter, pending })
    if (pending >= this.#settings.batchSize) this.#worker.kick()
    else if (pending === 1) this.#worker.schedule(this.#settings.batchIntervalMs)
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
      this.#worker.kick()
    }, this.#settings.recheckIntervalMs)
    this.#recheckTimer.unref?.()
    this.#worker.start()
  }

  /**
   * Stops timers, waits for the current step to finish (an in-flight transaction is not abandoned midway),
   * rejects pending `flush()` promises, and closes the store if the anchorer opened it.
   *
   * @example await anchorer.stop()
   */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    if (this.#recheckTimer) clearInterval(this.#recheckTimer)
    await this.#worker.stop()
    for (const w of this.#waiters.splice(0)) w.reject(new AnchorerStoppedError())
    if (this.#ownsStore) this.#store.close()
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
    const upTo = this.#store.maxSeq()
    if (this.#store.unreceipted(upTo) === 0) return Promise.resolve()
    this.#flushUpTo = Math.max(this.#flushUpTo, upTo)
    const promise = new Promise<void>((resolve, reject) => this.#waiters.push({ upTo, resolve, reject }))
    this.#worker.kick()
    return promise
  }

  /**
   * The latest receipt issued for `leaf`, if any.
   *
   * @example const receipt = anchorer.getReceipt(leaf)
   */
  getReceipt(leaf: Hex): Receipt | undefined {
    return this.#store.receipt(leaf)
  }

  /**
   * Counters for dashboards and benchmarks.
   *
   * @example console.log(anchorer.stats().lastGasPerLeaf)
   */
  stats(): AnchorerStats {
    return anchorerStats(this.#store, this.#lastError)
  }

  // -------------------------------------------------------------------------------------------------------
  // The worker: one pass at a time (scheduler.ts); each pass re-checks if due, then batches and anchors.

  async #work(): Promise<void> {
    if (this.#recheckDue) {
      this.#recheckDue = false
      await this.#recheck()
      await this.#deliver()
    }
    while (!this.#stopped) {
      const step = nextStep({
        openBatch: this.#store.openBatch(),
        pending: this.#store.pendingHead(),
        retryAt: this.#retryAt,
        flushUpTo: this.#flushUpTo,
        now: Date.now(),
        batchSize: this.#settings.batchSize,
        batchIntervalMs: this.#settings.batchIntervalMs,
      })
      if (step.kind === 'idle') return
      if (step.kind === 'wait') return this.#worker.schedule(step.ms)
      if (step.kind === 'close')
        closeBatch(this.#store, { batchSize: this.#settings.batchSize, now: Date.now() })
      else if (!(await this.#attempt(step.batch))) return
    }
  }

  /** One attempt at a batch; true if it is done (or changed shape), false if a retry was scheduled. */
  async #attempt(batch: AnchorBatch): Promise<boolean> {
    try {
      this.#chainId ??= await withChainErrors(() => getChainId(this.#chain.publicClient))
      await this.#beforeAnchor?.(batch, this.#store.batchLeaves(batch.id))
      const result = await anchorBatch({
        chain: this.#chain,
        store: this.#store,
        batch,
        chainId: this.#chainId,
        confirmations: this.#settings.confirmations,
        pollingIntervalMs: this.#settings.pollingIntervalMs,
        isStopped: () => this.#stopped,
        onSubmitted: (event) => this.emit('batch-submitted', event),
      })
      this.#retryAt = 0
      this.#lastError = undefined
      this.emit('batch-confirmed', result.confirmed)
      if (result.reanchored) this.emit('reanchored', result.reanchored)
      await this.#deliver(batch.id)
      this.#settleWaiters()
      return true
    } catch (err) {
      if (this.#stopped) return false
      const error = mapChainError(err)
      this.#store.failBatch(batch.id, error.code)
      const retryInMs = retryDelay(batch.attempts + 1, this.#settings)
      this.#retryAt = Date.now() + retryInMs
      this.#report(error, batch.id, retryInMs)
      this.#worker.schedule(retryInMs)
      return false
    }
  }

  async #recheck(): Promise<void> {
    try {
      const { reopened } = await recheckBatches({
        publicClient: this.#chain.publicClient,
        contract: this.#chain.contract,
        submitter: this.#chain.submitter,
        store: this.#store,
        finalityDepth: this.#settings.finalityDepth,
      })
      if (reopened > 0) this.#retryAt = 0
    } catch (err) {
      this.#report(mapChainError(err))
    }
  }

  /** Delivers the undelivered receipts of one batch, or of all. */
  async #deliver(batchId?: number): Promise<void> {
    await deliverReceipts({
      store: this.#store,
      receipts: this.#store.undeliveredReceipts(batchId),
      onReceipt: this.#onReceipt,
      onDelivered: (delivered) => this.emit('receipt', delivered),
      onFailed: (error) => this.#report(error),
    })
  }

  #settleWaiters(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#store.unreceipted(w.upTo) > 0) return true
      w.resolve()
      return false
    })
  }

  #report(error: BaseError, batchId?: number, retryInMs?: number): void {
    this.#lastError = error.code
    if (this.listenerCount('error') > 0) this.emit('error', { error, batchId, retryInMs })
  }
}
