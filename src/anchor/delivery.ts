/** Receipt delivery: hands stored receipts to `onReceipt` and marks each delivered only once that succeeded. */
import type { Hex } from 'viem'
import type { Receipt } from '../protocol/receipt.js'
import type { AnchorStore, StoredReceipt } from '../store/anchorStore.js'
import { ReceiptDeliveryError } from './errors.js'

/**
 * Parameters of {@link deliverReceipts}.
 *
 * @example deliverReceipts({ store, receipts: store.undeliveredReceipts(), onReceipt, onDelivered, onFailed })
 */
export type DeliverReceiptsParameters = {
  store: AnchorStore
  receipts: readonly StoredReceipt[]
  onReceipt: ((receipt: Receipt, topic: Hex) => void | Promise<void>) | undefined
  onDelivered: (delivered: { receipt: Receipt; topic: Hex }) => void
  onFailed: (error: ReceiptDeliveryError) => void
}

/**
 * Delivers `receipts` in order, at least once: a receipt is marked delivered after `onReceipt` returned (a
 * reissue stored meanwhile stays undelivered); when `onReceipt` throws, `onFailed` gets a
 * {@link ReceiptDeliveryError} and the receipt stays undelivered for the next pass.
 *
 * @example await deliverReceipts({ store, receipts: store.undeliveredReceipts(batchId), onReceipt: publish, onDelivered, onFailed: report })
 */
export async function deliverReceipts({
  store,
  receipts,
  onReceipt,
  onDelivered,
  onFailed,
}: DeliverReceiptsParameters): Promise<void> {
  for (const { leaf, topic, receipt } of receipts) {
    try {
      await onReceipt?.(receipt, topic)
      store.markDelivered(receipt)
      onDelivered({ receipt, topic })
    } catch (cause) {
      onFailed(new ReceiptDeliveryError({ leaf, cause }))
    }
  }
}
