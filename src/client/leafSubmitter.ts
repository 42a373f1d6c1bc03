/** The one place that submits Merkle leaves for anchoring: statement leaves, log heads, and the resubmission sweep. */
import type { Hex } from 'viem'
import type { DeviceStore } from '../store/deviceStore.js'
import type { Transport } from './transport.js'

/** After this long without a receipt, an accepted message's leaf is submitted again. */
export const LEAF_RESUBMIT_MS = 15_000

/**
 * Submits leaves through the transport (`LEAF`), never throwing: a lost submission is repaired by the sweep, which
 * submits again every leaf whose receipt is overdue (the anchorer keeps one copy of each leaf). So a LEAF lost to a
 * relay crash, an outage or a refused request cannot leave a message or a log head unanchored for good.
 *
 * @example
 * const leaves = new LeafSubmitter({ transport, store, inbox, logAnchors: () => log.pendingAnchors() })
 * leaves.submit(conversation, leaf)
 */
export class LeafSubmitter {
  readonly #transport: Transport
  readonly #store: DeviceStore
  readonly #inbox: Hex
  readonly #logAnchors: () => { hash: Hex }[]
  readonly #resubmitMs: number
  #lastSweep = Date.now()

  constructor(p: {
    transport: Transport
    store: DeviceStore
    /** This device's inbox topic: log-head receipts come back there. */
    inbox: Hex
    /** Log heads submitted whose receipts have not arrived. */
    logAnchors: () => { hash: Hex }[]
    resubmitMs?: number | undefined
  }) {
    this.#transport = p.transport
    this.#store = p.store
    this.#inbox = p.inbox
    this.#logAnchors = p.logAnchors
    this.#resubmitMs = p.resubmitMs ?? LEAF_RESUBMIT_MS
  }

  /** Whether the transport anchors leaves at all (an in-process hub without an anchorer does not). */
  get enabled(): boolean {
    return this.#transport.submitLeaf !== undefined
  }

  /**
   * Submits a statement leaf of `topic`, in the background.
   *
   * @example leaves.submit(sent.conversation, sent.leaf)
   */
  submit(topic: Hex, leaf: Hex): void {
    this.#transport.submitLeaf?.({ topic, leaf }).catch(() => undefined)
  }

  /**
   * Submits the leaf of a signed head of the device's log (its receipt arrives on the inbox); resolves once the relay took it.
   *
   * @example await leaves.submitLogHead(head.hash)
   */
  async submitLogHead(hash: Hex): Promise<void> {
    await this.#transport.submitLeaf?.({ topic: this.#inbox, leaf: hash })
  }

  /**
   * Submits every leaf still waiting for a receipt: accepted or delivered messages, and pending log heads. Runs when
   * live mode starts (a submission is idempotent).
   *
   * @example leaves.resubmitAll()
   */
  resubmitAll(): void {
    if (!this.enabled) return
    for (const m of this.#store.messagesInState(['accepted', 'delivered'], 'out'))
      if (m.leaf) this.submit(m.conversation as Hex, m.leaf as Hex)
    for (const head of this.#logAnchors()) this.submit(this.#inbox, head.hash)
  }

  /**
   * At most once per resubmission interval, submits again the leaves whose receipt is overdue.
   *
   * @example leaves.sweep() // from the finality timer
   */
  sweep(now = Date.now()): void {
    if (!this.enabled || now - this.#lastSweep < this.#resubmitMs) return
    this.#lastSweep = now
    for (const m of this.#store.messagesInState(['accepted', 'delivered'], 'out'))
      if (m.leaf && now - m.receivedAt > this.#resubmitMs) this.submit(m.conversation as Hex, m.leaf as Hex)
    for (const head of this.#logAnchors()) this.submit(this.#inbox, head.hash)
  }
}
