/** Receipts: verifying them (once per batch for its on-chain facts), applying them, and the finality check. */

import type { EventEmitter } from 'node:events'
import { type Address, type Client, type Hex, isAddressEqual, type PublicClient } from 'viem'
import type { Envelope } from '../protocol/envelope.js'
import { verifyInclusion } from '../protocol/merkle.js'
import { decodeReceipt, type Receipt, receiptFromJson, receiptToJson } from '../protocol/receipt.js'
import type { DeviceStore } from '../store/deviceStore.js'
import type { AuditTrail } from './auditTrail.js'
import type { Outbox } from './outbox.js'
import type { ClientEvents, ReceiveResult } from './types.js'
import { ReceiptVerificationError, type VerifyReceiptResult, verifyReceipt } from './verifyReceipt.js'

/** How long a batch's on-chain facts (anchor, block, transaction) count as checked. */
const BATCH_CHECK_MS = 10_000

/**
 * `verifyReceipt` with a per-batch cache: the receipts of one batch share their anchor, block and transaction, so
 * those are read from the chain once every few seconds; each leaf's own inclusion proof is always checked.
 *
 * @example const { ok } = await checker.verify(receipt)
 */
export class ReceiptChecker {
  readonly #publicClient: Client
  readonly #chainId: number
  readonly #messageAnchor: Address
  readonly #batches = new Map<string, { at: number; confirmations: bigint }>()

  constructor(p: { publicClient: Client; chainId: number; messageAnchor: Address }) {
    this.#publicClient = p.publicClient
    this.#chainId = p.chainId
    this.#messageAnchor = p.messageAnchor
  }

  /**
   * Verifies `receipt` against the chain (see `verifyReceipt`), reusing a batch check made moments ago.
   *
   * @example const result = await checker.verify(receipt)
   */
  async verify(receipt: Receipt): Promise<VerifyReceiptResult> {
    const key = `${receipt.root}:${receipt.txHash}:${receipt.blockNumber}:${receipt.treeSize}`.toLowerCase()
    const cached = this.#batches.get(key)
    if (
      cached &&
      Date.now() - cached.at < BATCH_CHECK_MS &&
      receipt.chainId === this.#chainId &&
      isAddressEqual(receipt.contract, this.#messageAnchor) &&
      included(receipt)
    )
      return {
        ok: true,
        confirmations: cached.confirmations,
        steps: [
          {
            name: 'inclusion',
            ok: true,
            detail: `leaf ${receipt.index} of ${receipt.treeSize} leads to the root`,
          },
          { name: 'anchored', ok: true, detail: 'batch verified on chain moments ago' },
        ],
      }
    const result = await verifyReceipt(this.#publicClient, {
      receipt,
      messageAnchor: this.#messageAnchor,
      chainId: this.#chainId,
    })
    if (result.ok) {
      this.#batches.set(key, { at: Date.now(), confirmations: result.confirmations })
      if (this.#batches.size > 256) this.#batches.delete(this.#batches.keys().next().value as string)
    }
    return result
  }
}

function included(receipt: Receipt): boolean {
  const { leaf, index, treeSize, path, root } = receipt
  return verifyInclusion({ leaf, index, treeSize, path, root })
}

/**
 * Processes a receipt envelope: verifies it, marks the messages of its leaf `anchored` (or logs the anchor of a
 * pending log head), and emits `receipt`. A receipt that does not verify is logged and thrown.
 *
 * @example const result = await receiveReceipt({ envelope, checker, outbox, store, audit, events })
 */
export async function receiveReceipt({
  envelope,
  checker,
  outbox,
  store,
  audit,
  events,
}: {
  envelope: Envelope
  checker: ReceiptChecker
  outbox: Outbox
  store: DeviceStore
  audit: AuditTrail
  events: EventEmitter<ClientEvents>
}): Promise<ReceiveResult> {
  const receipt = decodeReceipt(envelope.payload)
  const check = await checker.verify(receipt)
  if (!check.ok) {
    audit.append('rejected', {
      envelopeId: envelope.id,
      code: 'SEALPOST_RECEIPT_INVALID',
      step: check.error?.step ?? 'unknown',
    })
    throw check.error ?? new ReceiptVerificationError({ step: 'chain', reason: 'verification failed' })
  }
  const messages = outbox.anchored(receipt.leaf, JSON.stringify(receiptToJson(receipt)), (anchored) => {
    store.markProcessed(envelope.id, 'receipt')
    if (anchored.length > 0) audit.append('receipt', { leaf: receipt.leaf, receipt: receiptToJson(receipt) })
    else audit.anchored(receipt)
  })
  const ids = messages.map((m) => m.id as Hex)
  events.emit('receipt', { leaf: receipt.leaf, receipt, messages: ids, confirmations: check.confirmations })
  return { type: 'receipt', leaf: receipt.leaf, messages: ids }
}

/**
 * Moves anchored messages whose anchor is at least `finality` blocks deep to `final`, after checking the receipt on
 * chain again (a reorg may have removed the anchor since).
 *
 * @example await checkFinality({ outbox, checker, publicClient, finality: 2 })
 */
export async function checkFinality({
  outbox,
  checker,
  publicClient,
  finality,
}: {
  outbox: Outbox
  checker: ReceiptChecker
  publicClient: PublicClient
  finality: number
}): Promise<void> {
  const anchored = outbox.awaitingFinality()
  if (anchored.length === 0) return
  const head = await publicClient.getBlockNumber()
  for (const m of anchored) {
    if (!m.receipt) continue
    const receipt = receiptFromJson(JSON.parse(m.receipt))
    if (head - receipt.blockNumber + 1n < BigInt(finality)) continue
    const check = await checker.verify(receipt)
    if (check.ok) outbox.final(m.id as Hex, m.conversation as Hex)
  }
}
