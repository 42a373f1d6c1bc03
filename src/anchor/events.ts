/** Events the anchorer emits, as `[payload]` tuples (the dashboard and the benchmarks listen to them). */
import type { Hex } from 'viem'
import type { BaseError } from '../errors.js'
import type { Receipt } from '../protocol/receipt.js'

/**
 * Payload of 'batch-submitted': the anchor transaction of a batch was included in a block (or an existing
 * anchor of its root was adopted).
 *
 * @example anchorer.on('batch-submitted', ({ batchId, txHash }: BatchSubmittedEvent) => log(batchId, txHash))
 */
export type BatchSubmittedEvent = { batchId: number; root: Hex; leafCount: number; txHash: Hex }

/**
 * Payload of 'batch-confirmed': the batch reached `confirmations` and its receipts were persisted.
 *
 * @example anchorer.on('batch-confirmed', ({ gasPerLeaf }: BatchConfirmedEvent) => log(gasPerLeaf))
 */
export type BatchConfirmedEvent = {
  batchId: number
  root: Hex
  txHash: Hex
  blockNumber: bigint
  gasUsed: bigint
  leafCount: number
  gasPerLeaf: number
}

/**
 * Payload of 'reanchored': a confirmed batch's anchor vanished or moved (reorg); it was anchored again and its
 * receipts reissued.
 *
 * @example anchorer.on('reanchored', ({ previousTxHash, txHash }: ReanchoredEvent) => log(previousTxHash, '->', txHash))
 */
export type ReanchoredEvent = {
  batchId: number
  root: Hex
  previousTxHash: Hex
  previousBlockNumber: bigint
  txHash: Hex
  blockNumber: bigint
}

/**
 * Events of the `Anchorer`, as `[payload]` tuples.
 *
 * @example anchorer.on('batch-confirmed', ({ batchId, gasUsed, leafCount }) => log(batchId, gasUsed / BigInt(leafCount)))
 */
export type AnchorerEvents = {
  /** A new leaf was persisted. */
  leaf: [{ leaf: Hex; topic: Hex; submitter: Hex; pending: number }]
  'batch-submitted': [BatchSubmittedEvent]
  'batch-confirmed': [BatchConfirmedEvent]
  reanchored: [ReanchoredEvent]
  /** A receipt was handed to `onReceipt`. */
  receipt: [{ receipt: Receipt; topic: Hex }]
  /** A recoverable failure: the anchorer logs it here and retries (`retryInMs`). */
  error: [{ error: BaseError; batchId?: number | undefined; retryInMs?: number | undefined }]
}
