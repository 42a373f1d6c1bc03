/** Receipts: verifying them (once per batch for its on-chain facts), applying them, judging received messages' time bounds, and the finality check. */

import type { EventEmitter } from 'node:events'
import { type Address, type Client, type Hex, isAddressEqual, type PublicClient } from 'viem'
import type { Envelope } from '../protocol/envelope.js'
import { verifyInclusion } from '../protocol/merkle.js'
import { decodeReceipt, type Receipt, receiptFromJson, receiptToJson } from '../protocol/receipt.js'
import type { DeviceStore, StoredMessage } from '../store/deviceStore.js'
import type { AuditTrail } from './auditTrail.js'
import type { Outbox } from './outbox.js'
import { judgeAnchor, judgeExpired, type WindowOptions } from './timeBounds.js'
import type { ClientEvents, ReceiveResult } from './types.js'
import { ReceiptVerificationError, type VerifyReceiptResult, verifyReceipt } from './verifyReceipt.js'
import type { ChainView } from './verifyStatement.js'

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
 * pending log head), emits `receipt`, and settles the verdict of the received messages of that leaf (see
 * `judgeReceived`). A receipt that does not verify is logged and thrown.
 *
 * @example const result = await receiveReceipt({ envelope, checker, outbox, store, audit, events, chain })
 */
export async function receiveReceipt({
  envelope,
  checker,
  outbox,
  store,
  audit,
  events,
  chain,
  clock,
}: {
  envelope: Envelope
  checker: ReceiptChecker
  outbox: Outbox
  store: DeviceStore
  audit: AuditTrail
  events: EventEmitter<ClientEvents>
  /** Reads blocks and the sender's registry record for the anchor-window and revocation judgement. */
  chain: ChainView
  /** The time windows (`anchorWindowMs`); defaults apply to those left out. */
  clock?: WindowOptions | undefined
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
  for (const m of messages)
    if (m.direction === 'in' && m.verdict === 'pending')
      await judgeReceived({ message: m, anchorBlock: receipt.blockNumber, chain, outbox, windows: clock })
  return { type: 'receipt', leaf: receipt.leaf, messages: ids }
}

/**
 * Settles a pending received message from its verified receipt (protocol §11.1): `verified` if it was anchored
 * within W_anchor after the block following its referenced block and before any revocation of its device,
 * otherwise `refused` with `AnchorWindowError` or `RevokedBeforeAnchorError` (`judgeAnchor`, the judgement the
 * transcript verifier applies too). The registry is read synced to at least the anchor block. Leaves the message
 * pending if a block or the device record cannot be read.
 *
 * @example await judgeReceived({ message, anchorBlock: receipt.blockNumber, chain, outbox })
 */
export async function judgeReceived({
  message,
  anchorBlock,
  chain,
  outbox,
  windows,
}: {
  message: StoredMessage
  anchorBlock: bigint
  chain: ChainView
  outbox: Outbox
  windows?: WindowOptions | undefined
}): Promise<void> {
  const ref = referencedBlockOf(message)
  if (ref === undefined) return
  const j = await judgeAnchor({
    statement: { device: message.device as Hex, block: { number: ref } },
    anchorBlock,
    chain,
    windows,
    messageId: message.id as Hex,
  })
  if (!j) return
  if (j.ok) outbox.settle(message, 'verified', j.detail)
  else outbox.settle(message, 'refused', j.detail, j.error)
}

/**
 * The expiry sweep (protocol §11.1): refuses, with `AnchorWindowError`, every pending received message that has no
 * receipt although the chain head is more than W_anchor past the block after its referenced block. Runs only where
 * leaves are anchored at all.
 *
 * @example await expirePending({ outbox, publicClient })
 */
export async function expirePending({
  outbox,
  publicClient,
  windows,
}: {
  outbox: Outbox
  publicClient: PublicClient
  windows?: WindowOptions | undefined
}): Promise<void> {
  if (!outbox.anchoring) return
  const pending = outbox.pendingVerdicts()
  if (pending.length === 0) return
  const head = await publicClient.getBlock()
  const successors = new Map<bigint, Promise<{ timestamp: bigint } | undefined>>()
  for (const m of pending) {
    const ref = referencedBlockOf(m)
    if (ref === undefined) continue
    if (!successors.has(ref))
      successors.set(
        ref,
        ref + 1n > head.number
          ? Promise.resolve(undefined)
          : publicClient.getBlock({ blockNumber: ref + 1n }),
      )
    const j = judgeExpired({
      statement: { device: m.device as Hex, block: { number: ref } },
      referencedSuccessor: await successors.get(ref),
      head: { number: head.number, timestamp: head.timestamp },
      windows,
      messageId: m.id as Hex,
    })
    if (!j.ok) outbox.settle(m, 'refused', j.detail, j.error)
  }
}

/** The referenced block of a received message, from its stored verification report. */
function referencedBlockOf(m: StoredMessage): bigint | undefined {
  try {
    const number = (JSON.parse(m.report) as { block?: { number?: unknown } }).block?.number
    return typeof number === 'string' || typeof number === 'number' ? BigInt(number) : undefined
  } catch {
    return undefined
  }
}

/**
 * Moves anchored messages whose anchor is at least `finality` blocks deep to `final`, after checking the receipt on
 * chain again (a reorg may have removed the anchor since). Also, on the same timer, submits again the leaves of
 * pending received messages whose receipt is overdue and refuses those whose anchor window has passed
 * (`expirePending`).
 *
 * @example await checkFinality({ outbox, checker, publicClient, finality: 2 })
 */
export async function checkFinality({
  outbox,
  checker,
  publicClient,
  finality,
  clock,
}: {
  outbox: Outbox
  checker: ReceiptChecker
  publicClient: PublicClient
  finality: number
  /** The time windows (`anchorWindowMs`); defaults apply to those left out. */
  clock?: WindowOptions | undefined
}): Promise<void> {
  outbox.resubmitPending()
  await expirePending({ outbox, publicClient, windows: clock })
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
