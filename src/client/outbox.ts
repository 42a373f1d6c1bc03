/** The outbox: every state change of a message after it is sealed (queued → accepted → delivered → anchored → final), and received messages' verdicts. */
import type { EventEmitter } from 'node:events'
import type { Hex } from 'viem'
import type { BaseError } from '../errors.js'
import { decodeEnvelope } from '../protocol/envelope.js'
import { isAtLeast, type MessageState } from '../protocol/messageState.js'
import type { DeviceStore, StoredMessage } from '../store/deviceStore.js'
import { RelayRequestError } from './errors.js'
import { LEAF_RESUBMIT_MS, type LeafSubmitter } from './leafSubmitter.js'
import type { Transport } from './transport.js'
import type { ClientEvents } from './types.js'

/**
 * Relay refusals that hold a message back rather than refuse it for good: a quarantined device's publishes get
 * `RELAY_QUARANTINED` until an operator lifts the quarantine (docs/ids.md §4a). Such a message stays queued.
 *
 * @example HELD_WIRE_CODES.has('RELAY_QUARANTINED') // true
 */
export const HELD_WIRE_CODES: ReadonlySet<string> = new Set(['RELAY_QUARANTINED'])

/**
 * Owns the state of this device's messages once written: each method is one transition, writes it (the store only
 * moves states forward) and emits the `state` event when the message actually moved. Anchoring and finality apply
 * to received messages too (a receipt is for a leaf, whoever holds it).
 *
 * @example
 * outbox.enqueue(message, () => store.putGroup(next))
 * outbox.accepted(id, topic, cursor, leaf)
 */
export class Outbox {
  readonly #store: DeviceStore
  readonly #events: EventEmitter<ClientEvents>
  readonly #leaves: LeafSubmitter
  readonly #transport: Transport
  /** Leaves of pending received messages this process submitted, with when. */
  readonly #submitted = new Map<string, number>()

  constructor(p: {
    store: DeviceStore
    events: EventEmitter<ClientEvents>
    leaves: LeafSubmitter
    transport: Transport
  }) {
    this.#store = p.store
    this.#events = p.events
    this.#leaves = p.leaves
    this.#transport = p.transport
    // The recipient anchors what it accepts (protocol §11.1): an honest message is anchored even if its sender
    // vanished, and a thief's statement is anchored now, after the revocation.
    this.#events.on('message', (m) => this.#submitReceived(m.conversation, m.leaf))
  }

  /** Whether leaves get anchored at all (a transport without an anchorer leaves received messages pending). */
  get anchoring(): boolean {
    return this.#leaves.enabled
  }

  /**
   * Received messages whose verdict is still `pending`, oldest first.
   *
   * @example for (const m of outbox.pendingVerdicts()) …
   */
  pendingVerdicts(): StoredMessage[] {
    return this.#store.pendingVerdicts()
  }

  /**
   * Settles a pending received message: stores `verdict`, emits `verdict`, and for a refusal also `rejected` with
   * the typed error. Does nothing if the message is no longer pending.
   *
   * @example outbox.settle(m, 'refused', j.detail, j.error)
   */
  settle(m: StoredMessage, verdict: 'verified' | 'refused', reason: string, error?: BaseError): void {
    if (!this.#store.db.open || !this.#store.settleVerdict(m.id, verdict, error?.code)) return
    const id = m.id as Hex
    const conversation = m.conversation as Hex
    this.#submitted.delete(m.leaf ?? '')
    this.#events.emit('verdict', { id, conversation, verdict, reason, error })
    if (error) this.#events.emit('rejected', { envelopeId: id, topic: conversation, error })
  }

  /**
   * Submits again the leaves of pending received messages whose receipt is overdue (or that this process has not
   * submitted yet, e.g. after a restart).
   *
   * @example outbox.resubmitPending() // from the finality timer
   */
  resubmitPending(now = Date.now()): void {
    if (!this.#leaves.enabled) return
    for (const m of this.#store.pendingVerdicts()) {
      const at = this.#submitted.get(m.leaf ?? '')
      if (m.leaf && (at === undefined || now - at > LEAF_RESUBMIT_MS))
        this.#submitReceived(m.conversation as Hex, m.leaf as Hex, now)
    }
  }

  #submitReceived(conversation: Hex, leaf: Hex, now = Date.now()): void {
    if (!this.#leaves.enabled) return
    this.#submitted.set(leaf.toLowerCase(), now)
    this.#leaves.submit(conversation, leaf)
  }

  /**
   * Writes a sealed outgoing message as `queued`, with its envelope, in one transaction with `alongside` (the new
   * group state, the verdict, the log entry), then emits `queued`.
   *
   * @example outbox.enqueue({ ...message, state: 'queued' }, () => store.putGroup(group))
   */
  enqueue(message: Omit<StoredMessage, 'state' | 'direction'>, alongside: () => void): void {
    this.#store.transaction(() => {
      alongside()
      this.#store.putMessage({ ...message, direction: 'out', state: 'queued' })
    })
    this.#emit(message.id as Hex, message.conversation as Hex, 'queued')
  }

  /**
   * The relay persisted the message at `cursor`: it is `accepted`, its envelope copy is dropped, and its leaf is
   * submitted for anchoring.
   *
   * @example outbox.accepted(envelope.id, envelope.topic, cursor, leaf)
   */
  accepted(id: Hex, topic: Hex, cursor: bigint, leaf: Hex | undefined): void {
    if (!this.#store.db.open) return
    const updated = this.#store.updateMessage(id, { state: 'accepted', cursor })
    if (updated?.state === 'accepted') this.#emit(id, topic, 'accepted')
    if (leaf) this.#leaves.submit(topic, leaf)
  }

  /**
   * Every other member acked `topic` up to relay cursor `upTo`: the outgoing messages up to there are `delivered`.
   *
   * @example outbox.delivered(topic, 12n)
   */
  delivered(topic: Hex, upTo: bigint): void {
    if (!this.#store.db.open) return
    for (const m of this.#store.undeliveredUpTo(topic, upTo)) {
      const updated = this.#store.updateMessage(m.id, { state: 'delivered', delivered: true })
      if (updated?.state === 'delivered') this.#emit(m.id as Hex, topic, 'delivered')
    }
  }

  /**
   * A verified receipt for `leaf`: its messages become `anchored` (with the receipt), in one transaction with
   * `alongside`; returns them.
   *
   * @example const messages = outbox.anchored(receipt.leaf, json, () => store.markProcessed(envelope.id, 'receipt'))
   */
  anchored(leaf: Hex, receiptJson: string, alongside: (messages: StoredMessage[]) => void): StoredMessage[] {
    const messages = this.#store.messagesByLeaf(leaf)
    this.#store.transaction(() => {
      for (const m of messages) this.#store.updateMessage(m.id, { state: 'anchored', receipt: receiptJson })
      alongside(messages)
    })
    for (const m of messages) this.#emit(m.id as Hex, m.conversation as Hex, 'anchored')
    return messages
  }

  /**
   * The message's anchor is deep enough: it is `final`.
   *
   * @example outbox.final(m.id as Hex, m.conversation as Hex)
   */
  final(id: Hex, conversation: Hex): void {
    const updated = this.#store.updateMessage(id, { state: 'final' })
    if (updated && isAtLeast(updated.state, 'final')) this.#emit(id, conversation, 'final')
  }

  /**
   * Messages anchored but not final yet (both directions), oldest first.
   *
   * @example for (const m of outbox.awaitingFinality()) …
   */
  awaitingFinality(): StoredMessage[] {
    return this.#store.messagesInState(['anchored'])
  }

  /**
   * Re-sends, oldest first, the messages the relay never accepted (after a crash or while it was down). A message the
   * relay holds back until an operator acts (`HELD_WIRE_CODES`: this device is quarantined) stays `queued` for the
   * next re-send, and the others go on.
   *
   * @example await outbox.resendQueued()
   */
  async resendQueued(): Promise<void> {
    const publishes = this.#store.messagesInState(['queued'], 'out').flatMap((m) => {
      if (!m.envelope) return []
      const envelope = decodeEnvelope(m.envelope)
      return [
        this.#transport.publish(envelope).then(
          ({ cursor }) => this.accepted(envelope.id, envelope.topic, cursor, m.leaf as Hex | undefined),
          (err: unknown) => {
            if (!(err instanceof RelayRequestError && HELD_WIRE_CODES.has(err.wireCode))) throw err
          },
        ),
      ]
    })
    await Promise.all(publishes)
  }

  #emit(id: Hex, conversation: Hex, state: MessageState): void {
    this.#events.emit('state', { id, conversation, state })
  }
}
