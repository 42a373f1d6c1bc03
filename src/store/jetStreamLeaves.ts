/** Relay cluster: the statement leaves every relay takes (one replicated stream) and the receipts issued for them (KV). */
import type { JsMsg } from '@nats-io/jetstream'
import type { KV } from '@nats-io/kv'
import { Kvm } from '@nats-io/kv'
import type { Hex } from 'viem'
import { checkStreamConfig } from './jetStreamConfig.js'
import { followOrdered, type StreamFollower } from './jetStreamFollow.js'
import { isUnavailable, type JetStreamParts } from './jetStreamLayout.js'
import { RelayStoreUnavailableError } from './relayStore.js'

/**
 * A leaf waiting for its receipt, with the stream seq that holds it.
 *
 * @example const { leaf, topic, submitter, streamSeq }: PendingLeaf = pending
 */
export type PendingLeaf = { leaf: Hex; topic: Hex; submitter: Hex; streamSeq: number }

/**
 * The cluster's leaves: a stream (`<PREFIX>_LEAVES`, subject `<prefix>.leaf`, deduplicated by leaf) holding every
 * leaf without a receipt (the anchorer deletes a leaf's message once its receipt is recorded), and a KV bucket
 * (`<prefix>_receipts`) of the receipts issued, so a relay answers a repeated leaf with its receipt.
 *
 * @example
 * const leaves = await JetStreamLeaves.open(store.parts, { prefix, replicas: 3 })
 * await leaves.add({ leaf, topic, submitter })
 */
export class JetStreamLeaves {
  readonly #p: JetStreamParts
  readonly #stream: string
  readonly #subject: string
  readonly #receipts: KV

  private constructor(p: JetStreamParts, stream: string, subject: string, receipts: KV) {
    this.#p = p
    this.#stream = stream
    this.#subject = subject
    this.#receipts = receipts
  }

  /**
   * Creates the stream and bucket if missing (existing ones must match: `RelayStoreMismatchError` otherwise).
   *
   * @example const leaves = await JetStreamLeaves.open(parts, { prefix: 'sealpost', replicas: 3 })
   */
  static async open(
    p: JetStreamParts,
    { prefix, replicas }: { prefix: string; replicas: number },
  ): Promise<JetStreamLeaves> {
    const stream = `${prefix.toUpperCase()}_LEAVES`
    const subjects = [`${prefix}.leaf`]
    const existing = await p.jsm.streams.info(stream).catch(() => undefined)
    const wanted = { name: stream, subjects, replicas }
    if (existing) checkStreamConfig(existing.config, wanted)
    else
      await p.jsm.streams
        .add({ name: stream, subjects, num_replicas: replicas, duplicate_window: 120_000 * 1_000_000 })
        .catch(async (err: unknown) => {
          // Another relay starting at the same time created it first.
          const created = await p.jsm.streams.info(stream).catch(() => undefined)
          if (!created) throw err
          checkStreamConfig(created.config, wanted)
        })
    const receipts = await new Kvm(p.nc).create(`${prefix}_receipts`, { replicas, history: 1 })
    checkStreamConfig((await p.jsm.streams.info(`KV_${prefix}_receipts`)).config, {
      name: `KV_${prefix}_receipts`,
      replicas,
    })
    return new JetStreamLeaves(p, stream, subjects[0]!, receipts)
  }

  /**
   * Stores a leaf for anchoring (durable on the stream's replicas when it resolves; a repeat within the duplicate
   * window is stored once). Throws `RelayStoreUnavailableError` when JetStream cannot be reached.
   *
   * @example await leaves.add({ leaf, topic, submitter: deviceId })
   */
  async add({ leaf, topic, submitter }: { leaf: Hex; topic: Hex; submitter: Hex }): Promise<void> {
    await unavailableAs('addLeaf', () =>
      this.#p.js.publish(this.#subject, JSON.stringify({ leaf, topic, submitter }), { msgID: leaf }),
    )
  }

  /**
   * Every stored leaf (the unreceipted ones first, then each new one), in order, through `onLeaf`.
   *
   * @example const follower = leaves.follow(async (p) => anchorer.submit(p))
   */
  follow(
    onLeaf: (leaf: PendingLeaf) => void | Promise<void>,
    { onError }: { onError?: ((err: unknown) => void) | undefined } = {},
  ): StreamFollower {
    return followOrdered(this.#p, {
      stream: this.#stream,
      subject: this.#subject,
      after: 0,
      onMessage: (m: JsMsg) => onLeaf({ ...(m.json() as Omit<PendingLeaf, 'streamSeq'>), streamSeq: m.seq }),
      onError,
    })
  }

  /**
   * Deletes a leaf's message (its receipt is recorded).
   *
   * @example await leaves.remove(pending.streamSeq)
   */
  async remove(streamSeq: number): Promise<void> {
    await this.#p.jsm.streams.deleteMessage(this.#stream, streamSeq, false).catch(() => false)
  }

  /**
   * Records the receipt issued for `leaf` (its encoding is the caller's).
   *
   * @example await leaves.recordReceipt(leaf, bytes)
   */
  async recordReceipt(leaf: Hex, bytes: Uint8Array): Promise<void> {
    await this.#receipts.put(leaf.toLowerCase().slice(2), bytes)
  }

  /**
   * The receipt recorded for `leaf`, if any. Throws `RelayStoreUnavailableError` when JetStream cannot be reached.
   *
   * @example const bytes = await leaves.receiptOf(leaf)
   */
  async receiptOf(leaf: Hex): Promise<Uint8Array | undefined> {
    const e = await unavailableAs('receiptOf', () => this.#receipts.get(leaf.toLowerCase().slice(2)))
    return e?.operation === 'PUT' ? e.value : undefined
  }
}

/** Runs `fn`; a failure that says JetStream could not be reached becomes a `RelayStoreUnavailableError`. */
async function unavailableAs<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (isUnavailable(err)) throw new RelayStoreUnavailableError({ operation, cause: err })
    throw err
  }
}
