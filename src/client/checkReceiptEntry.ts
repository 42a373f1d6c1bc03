/** The checks of one `receipt` or `log-anchor` transcript entry: what the receipt is bound to, and `verifyReceipt`. */
import type { Client } from 'viem'
import { CodecError } from '../errors.js'
import { type Receipt, receiptFromJson } from '../protocol/receipt.js'
import type { Statement } from '../protocol/statement.js'
import type { LogEntry } from '../store/auditLog.js'
import type { AnchoredPrefix } from './checkLogChain.js'
import type { Transcript } from './transcriptFormat.js'
import type { AddCheck } from './transcriptReport.js'
import { verifyReceipt } from './verifyReceipt.js'
import type { ChainView } from './verifyStatement.js'

/**
 * Inputs to {@link checkReceiptEntry}. `statementLeaves` maps each verified statement leaf of the transcript
 * (lower-case hex) to its entry and statement.
 *
 * @example const p: CheckReceiptEntryParameters = { index: 4, entry, transcript, statementLeaves, chain, publicClient, minConfirmations: 1, add }
 */
export type CheckReceiptEntryParameters = {
  index: number
  entry: LogEntry
  transcript: Transcript
  statementLeaves: ReadonlyMap<string, { entry: number; statement: Statement }>
  chain: ChainView
  publicClient: Client
  minConfirmations: number
  add: AddCheck
}

/**
 * A `receipt` entry: `receipt-leaf` (the receipt is for the entry's leaf, a statement leaf of the transcript;
 * a receipt anchored after the signing device's revocation is flagged in the detail), then `receipt`.
 * A `log-anchor` entry: `log-anchor` (the anchored head is the hash of the earlier entry it names, and the
 * receipt's leaf), then `receipt`. Returns the prefix a verified log anchor pins, if any.
 *
 * @example const pinned = await checkReceiptEntry({ index: i, entry, transcript, statementLeaves, chain, publicClient, minConfirmations, add })
 */
export async function checkReceiptEntry({
  index: i,
  entry,
  transcript,
  statementLeaves,
  chain,
  publicClient,
  minConfirmations,
  add,
}: CheckReceiptEntryParameters): Promise<AnchoredPrefix | undefined> {
  let receipt: Receipt
  try {
    receipt = receiptFromJson(entry.data.receipt)
  } catch (err) {
    add(
      i,
      'receipt',
      false,
      `receipt is malformed (${err instanceof CodecError ? err.metaMessages.join('; ') : 'unreadable'})`,
    )
    return undefined
  }
  let bound: boolean
  let note = ''
  if (entry.kind === 'receipt') {
    const leaf = String(entry.data.leaf).toLowerCase()
    const target = statementLeaves.get(leaf)
    bound = add(
      i,
      'receipt-leaf',
      receipt.leaf === leaf && target !== undefined,
      receipt.leaf !== leaf
        ? `receipt is for leaf ${receipt.leaf}, entry names ${leaf}`
        : target === undefined
          ? `leaf ${leaf} is not the leaf of any statement in the transcript`
          : `receipt is for the statement of entry ${target.entry}`,
    )
    const revokedAt = target && (await chain.device(target.statement.device, 0n))?.revokedAt
    if (revokedAt !== undefined && receipt.blockNumber >= revokedAt)
      note = `; anchored after the signing device was revoked (block ${revokedAt}), so it does not show the statement predates the revocation`
  } else {
    const named = entry.data.index
    const head = String(entry.data.head).toLowerCase()
    const target = typeof named === 'number' && named < i ? transcript.entries[named] : undefined
    bound = add(
      i,
      'log-anchor',
      target !== undefined && target.hash.toLowerCase() === head && receipt.leaf === head,
      target === undefined
        ? `names entry ${String(named)}, which is not an earlier entry`
        : target.hash.toLowerCase() !== head
          ? `anchored head ${head} is not the hash of entry ${named} (${target.hash})`
          : receipt.leaf !== head
            ? `receipt is for leaf ${receipt.leaf}, not the anchored head`
            : `anchors the head of entry ${named}`,
    )
  }
  const { messageAnchor, chainId } = transcript
  const result = await verifyReceipt(publicClient, { receipt, messageAnchor, chainId, minConfirmations })
  const last = result.steps.at(-1)
  add(
    i,
    'receipt',
    result.ok,
    result.ok
      ? `root ${receipt.root} anchored in block ${receipt.blockNumber} (${result.confirmations} confirmation${result.confirmations === 1n ? '' : 's'})${note}`
      : `${last?.name ?? 'receipt'}: ${last?.detail ?? 'does not verify'}`,
  )
  return result.ok && bound && entry.kind === 'log-anchor'
    ? { upTo: entry.data.index as number, block: receipt.blockNumber }
    : undefined
}
