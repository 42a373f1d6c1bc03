/** Relay cluster, anchoring: the relay holding the anchor lease anchors every relay's leaves; fenced, so never twice. */
import { EventEmitter } from 'node:events'
import type { Hex } from 'viem'
import type { Anchorer, AnchorerOptions } from '../anchor/Anchorer.js'
import { AnchorLeaseLostError } from '../anchor/errors.js'
import type { Envelope } from '../protocol/envelope.js'
import { decodeReceipt, encodeReceipt, type Receipt } from '../protocol/receipt.js'
import { type AnchorBatch, type AnchorBatchLeaf, SqliteAnchorStore } from '../store/anchorStore.js'
import type { StreamFollower } from '../store/jetStreamFollow.js'
import type { JetStreamLease } from '../store/jetStreamLease.js'
import type { JetStreamLeaves } from '../store/jetStreamLeaves.js'
import type { AnchorSink } from './context.js'
import { receiptEnvelope } from './publishReceipts.js'

const NO_SUBMITTER: Hex = `0x${'00'.repeat(32)}`

/**
 * Options of {@link ClusterAnchor}.
 *
 * @example const options: ClusterAnchorOptions = { lease, leaves, holder, createAnchorer, publish, ttlMs: 10_000, checkMs: 1_000 }
 */
export type ClusterAnchorOptions = {
  lease: JetStreamLease
  leaves: JetStreamLeaves
  /** This relay's name in the lease. */
  holder: string
  /** A new anchorer over `store` (every relay of the cluster must anchor from the same account, see below). */
  createAnchorer: (
    options: Pick<AnchorerOptions, 'store' | 'beforeAnchor' | 'onReceipt'> & { store: SqliteAnchorStore },
  ) => Anchorer
  /** Publishes a system envelope (a receipt) through this relay. */
  publish: (envelope: Envelope) => Promise<unknown>
  /** A lease unchanged this long is taken over. Default 10,000 ms. */
  ttlMs?: number | undefined
  /** How often the holder renews and the others check. Default 1,000 ms. */
  checkMs?: number | undefined
}

/**
 * Events of a {@link ClusterAnchor}: the lease taken or lost (with its fencing token), failures while leading.
 *
 * @example cluster.on('lease', ({ held, token }) => log(held, token))
 */
export type ClusterAnchorEvents = {
  lease: [{ held: boolean; token: number | undefined }]
  error: [unknown]
}

type Term = {
  anchorer: Anchorer
  store: SqliteAnchorStore
  follower: StreamFollower
  streamSeqs: Map<Hex, number>
}

/**
 * Anchoring in a relay cluster (docs/architecture.md §5a). Every relay's LEAF frames go into the shared leaves
 * stream (`sink`); the relay holding the lease (`JetStreamLease`) runs an `Anchorer` on an in-memory store fed from
 * that stream. Before each attempt at a batch it records the batch (root and leaves) under the lease (a fenced
 * write, refused once another relay took the lease over, so a stale holder anchors nothing); after each receipt it
 * publishes the receipt envelope, records the receipt and deletes the leaf from the stream, and once a batch's
 * leaves all have one, deletes the batch's record. A new holder first re-forms the recorded batches (same leaves,
 * same order, so same root): the anchorer adopts an anchor of that root by its account instead of anchoring again,
 * which is why every relay must anchor from the same account. Takeover: at most `ttlMs + checkMs` after the holder
 * stopped renewing. Leaves with a recorded receipt are answered with it, not anchored again.
 *
 * @example
 * const anchor = new ClusterAnchor({ lease, leaves, holder: 'relay-a', createAnchorer, publish: (e) => server.publishSystem(e) })
 * new RelayServer({ ...options, anchorer: anchor.sink })
 * anchor.start()
 */
export class ClusterAnchor extends EventEmitter<ClusterAnchorEvents> {
  readonly #o: ClusterAnchorOptions
  readonly #ttlMs: number
  readonly #checkMs: number
  #term: Term | undefined
  #timer: NodeJS.Timeout | undefined
  #ticking: Promise<void> | undefined
  #stopped = false
  /** root → leaves of the batch still without a recorded receipt. */
  readonly #open = new Map<Hex, Set<Hex>>()

  constructor(options: ClusterAnchorOptions) {
    super()
    this.#o = options
    this.#ttlMs = options.ttlMs ?? 10_000
    this.#checkMs = options.checkMs ?? 1_000
  }

  /** Whether this relay holds the lease now. @example anchor.leading // true */
  get leading(): boolean {
    return this.#term !== undefined
  }

  /** The anchorer of the current term, while this relay leads. @example anchor.anchorer?.stats() */
  get anchorer(): Anchorer | undefined {
    return this.#term?.anchorer
  }

  /** The relay's anchor sink: a leaf with a recorded receipt gets it again; any other goes into the stream. */
  readonly sink: AnchorSink = {
    submit: async ({ leaf, topic, submitter }) => {
      const recorded = await this.#o.leaves.receiptOf(leaf)
      if (recorded) {
        const { topic: t, receipt } = decodeRecord(recorded)
        await this.#o.publish(receiptEnvelope(receipt, t))
        return
      }
      await this.#o.leaves.add({ leaf, topic, submitter })
    },
  }

  /**
   * Starts contending for the lease (and renewing it while held), every `checkMs`.
   *
   * @example anchor.start()
   */
  start(): void {
    if (this.#timer || this.#stopped) return
    const tick = () => {
      this.#ticking ??= this.#tick().finally(() => {
        this.#ticking = undefined
      })
    }
    this.#timer = setInterval(tick, this.#checkMs)
    tick()
  }

  /**
   * Stops contending; a holder stops its anchorer (an attempt in flight finishes) and releases the lease, so
   * another relay takes over at once.
   *
   * @example await anchor.stop()
   */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    clearInterval(this.#timer)
    await this.#ticking
    if (this.#term) {
      await this.#stepDown()
      await this.#o.lease.release().catch(() => false)
    }
  }

  async #tick(): Promise<void> {
    try {
      if (this.#stopped) return
      if (!this.#term) {
        if (await this.#o.lease.tryAcquire(this.#o.holder, this.#ttlMs)) await this.#lead()
      } else if (!(await this.#o.lease.renew(this.#o.holder))) await this.#stepDown()
    } catch (err) {
      this.#report(err)
    }
  }

  /** Takes over: re-forms the recorded batches, then feeds every stored leaf to a fresh anchorer. */
  async #lead(): Promise<void> {
    const store = SqliteAnchorStore.open({ path: ':memory:' })
    this.#open.clear()
    for (const [, value] of await this.#o.lease.entries('batch.*')) {
      const { root, leaves } = JSON.parse(value) as { root: Hex; leaves: AnchorBatchLeaf[] }
      const seqs: number[] = []
      for (const { leaf, topic } of leaves) {
        store.addLeaf({ leaf, topic, submitter: NO_SUBMITTER, at: Date.now() })
        seqs.push(store.maxSeq())
      }
      store.createBatch({ root, seqs, createdAt: Date.now() })
      this.#open.set(root, new Set(leaves.map((l) => l.leaf)))
    }
    const streamSeqs = new Map<Hex, number>()
    const anchorer = this.#o.createAnchorer({
      store,
      beforeAnchor: (batch, leaves) => this.#record(batch, leaves),
      onReceipt: (receipt, topic) => this.#receipted(receipt, topic),
    })
    const follower = this.#o.leaves.follow(
      async (pending) => {
        if (await this.#o.leaves.receiptOf(pending.leaf)) return this.#o.leaves.remove(pending.streamSeq)
        streamSeqs.set(pending.leaf, pending.streamSeq)
        anchorer.submit(pending)
      },
      { onError: (err) => this.#report(err) },
    )
    anchorer.on('error', ({ error }) => this.#report(error))
    this.#term = { anchorer, store, follower, streamSeqs }
    anchorer.start()
    this.emit('lease', { held: true, token: this.#o.lease.token })
  }

  async #stepDown(): Promise<void> {
    const term = this.#term
    if (!term) return
    this.#term = undefined
    this.emit('lease', { held: false, token: undefined })
    await term.follower.stop()
    await term.anchorer.stop()
    term.store.close()
  }

  /** The fenced record of a batch about to be anchored; throws when this relay lost the lease. */
  async #record(batch: AnchorBatch, leaves: AnchorBatchLeaf[]): Promise<void> {
    const ok = await this.#o.lease.put(
      `batch.${batch.root.slice(2)}`,
      JSON.stringify({ root: batch.root, leaves }),
    )
    if (!ok) {
      void this.#stepDown().catch((err: unknown) => this.#report(err))
      throw new AnchorLeaseLostError()
    }
    this.#open.set(batch.root, new Set(leaves.map((l) => l.leaf)))
  }

  /** A receipt: publish it, record it, drop its leaf from the stream, and the batch's record once all have one. */
  async #receipted(receipt: Receipt, topic: Hex): Promise<void> {
    await this.#o.publish(receiptEnvelope(receipt, topic))
    await this.#o.leaves.recordReceipt(receipt.leaf, encodeRecord(topic, receipt))
    const streamSeq = this.#term?.streamSeqs.get(receipt.leaf)
    if (streamSeq !== undefined) {
      await this.#o.leaves.remove(streamSeq)
      this.#term?.streamSeqs.delete(receipt.leaf)
    }
    const open = this.#open.get(receipt.root)
    open?.delete(receipt.leaf)
    if (open?.size === 0) {
      this.#open.delete(receipt.root)
      await this.#o.lease.delete(`batch.${receipt.root.slice(2)}`)
    }
  }

  #report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }
}

function encodeRecord(topic: Hex, receipt: Receipt): Uint8Array {
  const r = encodeReceipt(receipt)
  const out = new Uint8Array(32 + r.length)
  out.set(Buffer.from(topic.slice(2), 'hex'))
  out.set(r, 32)
  return out
}

function decodeRecord(bytes: Uint8Array): { topic: Hex; receipt: Receipt } {
  return {
    topic: `0x${Buffer.from(bytes.subarray(0, 32)).toString('hex')}`,
    receipt: decodeReceipt(bytes.subarray(32)),
  }
}
