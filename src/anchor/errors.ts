/** Errors of the anchorer: bad options or input, stopped, lost anchors, failed deliveries, corrupt batches. */
import type { Hex } from 'viem'
import { InternalError, UsageError, ValidationError } from '../errors.js'

/**
 * Anchorer options are out of range (a programming error).
 *
 * @example new AnchorerOptionsError({ option: 'batchSize', reason: 'must be 1 .. 16777215' })
 */
export class AnchorerOptionsError extends UsageError {
  override name = 'AnchorerOptionsError' as const
  constructor({ option, reason }: { option: string; reason: string }) {
    super('Anchorer option is invalid.', {
      metaMessages: [`Option: ${option}`, `Reason: ${reason}`],
      code: 'SEALPOST_ANCHORER_BAD_OPTIONS',
    })
  }
}

/**
 * `submit` got a leaf or topic that is not 32 bytes of hex.
 *
 * @example new AnchorerInputError({ field: 'leaf' })
 */
export class AnchorerInputError extends ValidationError {
  override name = 'AnchorerInputError' as const
  constructor({ field }: { field: string }) {
    super('Anchorer input is invalid.', {
      metaMessages: [`Field: ${field}`, 'Reason: must be 32 bytes as 0x-prefixed hex'],
      code: 'SEALPOST_ANCHORER_BAD_INPUT',
    })
  }
}

/**
 * The anchorer was stopped while a `flush()` was waiting, or `flush()` was called after `stop()`.
 *
 * @example await anchorer.flush().catch((e) => e instanceof AnchorerStoppedError)
 */
export class AnchorerStoppedError extends UsageError {
  override name = 'AnchorerStoppedError' as const
  constructor() {
    super('The anchorer is stopped.', { code: 'SEALPOST_ANCHORER_STOPPED' })
  }
}

/**
 * A relay of a cluster lost its anchor lease (another relay took it over): it must not record or anchor a batch.
 *
 * @example throw new AnchorLeaseLostError()
 */
export class AnchorLeaseLostError extends InternalError {
  override name = 'AnchorLeaseLostError' as const
  constructor() {
    super('This relay no longer holds the anchor lease; another relay anchors now.', {
      code: 'SEALPOST_ANCHOR_LEASE_LOST',
    })
  }
}

/**
 * The batch root is anchored but its `Anchored` event cannot be found (or it vanished while waiting for
 * confirmations): a reorg in progress; the anchorer retries.
 *
 * @example new AnchorNotFoundError({ root, reason: 'anchor vanished while waiting for confirmations' })
 */
export class AnchorNotFoundError extends InternalError {
  override name = 'AnchorNotFoundError' as const
  constructor({ root, reason }: { root: Hex; reason: string }) {
    super('Anchor transaction could not be located.', {
      metaMessages: [`Root: ${root}`, `Reason: ${reason}`],
      code: 'SEALPOST_ANCHOR_NOT_FOUND',
    })
  }
}

/**
 * `onReceipt` threw; the receipt stays stored and undelivered and is handed over again on the next
 * re-check or `start()`.
 *
 * @example anchorer.on('error', ({ error }) => error.code === 'SEALPOST_ANCHORER_DELIVERY_FAILED')
 */
export class ReceiptDeliveryError extends InternalError {
  override name = 'ReceiptDeliveryError' as const
  constructor({ leaf, cause }: { leaf: Hex; cause: unknown }) {
    super('Receipt could not be delivered; it will be retried.', {
      metaMessages: [`Leaf: ${leaf}`],
      cause,
      code: 'SEALPOST_ANCHORER_DELIVERY_FAILED',
    })
  }
}

/**
 * A stored batch's root does not match its stored leaves (the database was altered or corrupted).
 *
 * @example anchorer.on('error', ({ error }) => error.code === 'SEALPOST_ANCHORER_CORRUPT' && alert(error.shortMessage))
 */
export class AnchorBatchCorruptError extends InternalError {
  override name = 'AnchorBatchCorruptError' as const
  constructor({ batchId }: { batchId: number }) {
    super('Stored batch root does not match its leaves.', {
      metaMessages: [`Batch: ${batchId}`],
      code: 'SEALPOST_ANCHORER_CORRUPT',
    })
  }
}
