/** Anchorer → relay: each issued receipt is published back on its topic as a `receipt` envelope. */
import type { Hex } from 'viem'
import { createEnvelope, type Envelope } from '../protocol/envelope.js'
import { encodeReceipt, type Receipt } from '../protocol/receipt.js'

/**
 * The part of the relay that publishes system envelopes.
 *
 * @example const relay: ReceiptPublisher = server
 */
export type ReceiptPublisher = { publishSystem(envelope: Envelope): Promise<unknown> }

/**
 * The `receipt` envelope of `receipt` on `topic` (its payload is Receipt v1).
 *
 * @example const envelope = receiptEnvelope(receipt, topic)
 */
export function receiptEnvelope(receipt: Receipt, topic: Hex): Envelope {
  return createEnvelope({ kind: 'receipt', topic, payload: encodeReceipt(receipt) })
}

/**
 * The anchorer's `onReceipt` for a relay: publishes each receipt on the topic it was requested for, so senders
 * and recipients get it in order with the messages. `relay()` is asked at delivery time (the relay is built
 * after the anchorer); when it throws, or the relay refuses, the anchorer keeps the receipt and offers it again.
 *
 * @example new Anchorer({ ...options, onReceipt: publishReceipts(() => server) })
 */
export function publishReceipts(
  relay: () => ReceiptPublisher | undefined,
): (receipt: Receipt, topic: Hex) => Promise<void> {
  return async (receipt, topic) => {
    await relay()?.publishSystem(receiptEnvelope(receipt, topic))
  }
}
