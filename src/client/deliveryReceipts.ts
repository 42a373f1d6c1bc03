/** Signed delivery receipts, sent: the leaves of received messages, batched per conversation, sealed to the group. */
import type { Hex } from 'viem'
import { encodeDeliveryReceiptBody, MAX_RECEIPT_LEAVES } from '../protocol/deliveryReceipt.js'

/**
 * How receipts leave: `send` seals one receipt body (its text) to a conversation as a `deliveryReceipt` message.
 *
 * @example const sender: ReceiptSender = (groupId, text) => sendMessage(ctx, groupId, text, {}, { contentType: 'deliveryReceipt' })
 */
export type ReceiptSender = (conversation: Hex, text: string) => Promise<unknown>

/**
 * Collects the statement leaves of messages this device received and, per conversation, sends one signed delivery
 * receipt for up to 256 of them after `delayMs` (a burst of messages costs one receipt, not one each). Receipts are
 * best effort: a failed send (this device left the group, the relay is gone) is reported to `onError` and dropped.
 *
 * @example const receipts = new DeliveryReceipts(send, { onError }); receipts.add(groupId, message.leaf)
 */
export class DeliveryReceipts {
  readonly #send: ReceiptSender
  readonly #delayMs: number
  readonly #onError: (err: unknown) => void
  readonly #pending = new Map<Hex, Set<Hex>>()
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()

  constructor(
    send: ReceiptSender,
    { delayMs = 200, onError }: { delayMs?: number | undefined; onError: (err: unknown) => void },
  ) {
    this.#send = send
    this.#delayMs = delayMs
    this.#onError = onError
  }

  /** Queues the receipt of the message with statement leaf `leaf` in `conversation`. */
  add(conversation: Hex, leaf: Hex): void {
    const leaves = this.#pending.get(conversation) ?? new Set<Hex>()
    leaves.add(leaf.toLowerCase() as Hex)
    this.#pending.set(conversation, leaves)
    if (leaves.size >= MAX_RECEIPT_LEAVES) void this.flush()
    else if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), this.#delayMs)
      this.#timer.unref()
    }
  }

  /** Sends every queued receipt now; resolves when they are sent (or failed). */
  flush(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const batches = [...this.#pending].flatMap(([conversation, leaves]) => chunks(conversation, [...leaves]))
    this.#pending.clear()
    this.#flushing = this.#flushing.then(async () => {
      for (const { conversation, leaves } of batches)
        await this.#send(conversation, new TextDecoder().decode(encodeDeliveryReceiptBody(leaves))).catch(
          this.#onError,
        )
    })
    return this.#flushing
  }

  /** Drops what is queued and stops the timer. */
  stop(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#pending.clear()
  }
}

function chunks(conversation: Hex, leaves: Hex[]): { conversation: Hex; leaves: Hex[] }[] {
  const out: { conversation: Hex; leaves: Hex[] }[] = []
  for (let i = 0; i < leaves.length; i += MAX_RECEIPT_LEAVES)
    out.push({ conversation, leaves: leaves.slice(i, i + MAX_RECEIPT_LEAVES) })
  return out
}
