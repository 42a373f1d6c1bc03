/** The read-only view of a device's messages: what the app, the CLI and the dashboard may read of the store. */
import { type Address, getAddress, type Hex } from 'viem'
import type { MessageState } from '../protocol/messageState.js'
import { type Receipt, receiptFromJson } from '../protocol/receipt.js'
import { deliveriesOf } from '../store/deliveryReceipts.js'
import type { DeviceStore, StoredMessage } from '../store/deviceStore.js'

/**
 * One stored message as the view returns it: direction, sender, body, state, relay cursor, leaf, receipt JSON, and
 * for a received message its time-bound `verdict` (`pending` until a receipt shows it anchored in time, then
 * `verified` or `refused` with `verdictReason`, the error code; protocol §11.1).
 *
 * @example const record: MessageRecord | undefined = client.messages.get(id)
 */
export type MessageRecord = StoredMessage

/**
 * Reads a device's messages without exposing its store. Every method reads the current row, so a record is a
 * snapshot: read again to see later states.
 *
 * @example
 * const mine = client.messages.get(sent.id)
 * console.log(mine?.state, client.messages.receipt(sent.id)?.blockNumber)
 */
export class MessageView {
  readonly #store: DeviceStore

  constructor(store: DeviceStore) {
    this.#store = store
  }

  /**
   * The message with envelope id `id`, sent or received by this device.
   *
   * @example client.messages.get(sent.id)?.state // 'accepted'
   */
  get(id: Hex): MessageRecord | undefined {
    return this.#store.getMessage(id)
  }

  /**
   * Messages, oldest first; of one conversation if given (default limit 1000).
   *
   * @example client.messages.list({ conversation: chat.id, limit: 50 })
   */
  list({
    conversation,
    limit,
  }: {
    conversation?: Hex | undefined
    limit?: number | undefined
  } = {}): MessageRecord[] {
    return this.#store.listMessages({
      ...(conversation ? { conversation } : {}),
      ...(limit !== undefined ? { limit } : {}),
    })
  }

  /**
   * Messages whose statement leaf is `leaf` (the sender's copy and, on a device that also received it, that copy).
   *
   * @example client.messages.byLeaf(sent.leaf)
   */
  byLeaf(leaf: Hex): MessageRecord[] {
    return this.#store.messagesByLeaf(leaf)
  }

  /**
   * Messages in any of `states`, oldest first, optionally of one direction.
   *
   * @example client.messages.inState(['queued'], 'out') // not yet accepted by the relay
   */
  inState(states: readonly MessageState[], direction?: 'in' | 'out'): MessageRecord[] {
    return this.#store.messagesInState([...states], direction)
  }

  /**
   * What processing decided about an envelope (not the time-bound `verdict` of a message record): `accepted`, `sent`, `commit`, `joined`, `receipt`, or
   * `rejected:<CODE>`; undefined if this device never processed it.
   *
   * @example client.messages.verdict(stale.id) // 'rejected:SEALPOST_STALE_SEQ'
   */
  verdict(envelopeId: Hex): string | undefined {
    return this.#store.processed(envelopeId)
  }

  /**
   * The verified anchoring receipt of a message, decoded; undefined until it is anchored.
   *
   * @example client.messages.receipt(sent.id)?.txHash
   */
  receipt(id: Hex): Receipt | undefined {
    const json = this.#store.getMessage(id)?.receipt
    return json === undefined ? undefined : receiptFromJson(JSON.parse(json))
  }

  /**
   * The member devices that confirmed, each with a signed delivery receipt (protocol §4.5), that they received
   * message `id`; oldest first. Empty until the first receipt arrives.
   *
   * @example client.messages.deliveries(sent.id).map((d) => d.account)
   */
  deliveries(id: Hex): { account: Address; device: Hex; receipt: Hex; receivedAt: number }[] {
    const leaf = this.#store.getMessage(id)?.leaf
    if (!leaf) return []
    return deliveriesOf(this.#store.db, leaf).map((d) => ({
      account: getAddress(d.account),
      device: d.device as Hex,
      receipt: d.receiptId as Hex,
      receivedAt: d.receivedAt,
    }))
  }
}
