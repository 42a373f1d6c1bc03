/** The checks of one `receipt` or `log-anchor` transcript entry: what the receipt is bound to, and `verifyReceipt`. */
import type { Client, Hex } from 'viem'
import { CodecError } from '../errors.js'
import { type Receipt, receiptFromJson } from '../protocol/receipt.js'
import type { Statement } from '../protocol/statement.js'
import type { LogEntry } from '../store/auditLog.js'
import type { AnchoredPrefix } from './checkLogChain.js'
import { type VerifiedLogHead, verifySignedLogHead } from './checkLogExport.js'
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
 * A `receipt` entry: `receipt-leaf` (the receipt is for the entry's leaf, a statement leaf of the transcript), then
 * `receipt`. A `log-anchor` entry: `log-anchor` (a log-head statement signed by the transcript's own device, its key
 * valid at the statement's block, names the earlier entry and its hash, and the receipt is for the signed statement's
 * leaf), then `receipt`. Returns the prefix a verified log anchor pins, if any, the signed head of an anchored
 * log-anchor entry whose signature verified (for the `log-chain`, `equivocation` and `time-bounds` checks), and, for
 * a verified receipt bound to its statement, the leaf and the anchor's block (for `time-bounds`).
 *
 * @example const { pinned, signedHead, anchored } = await checkReceiptEntry({ index: i, entry, transcript, statementLeaves, chain, publicClient, minConfirmations, add })
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
}: CheckReceiptEntryParameters): Promise<{
  pinned?: AnchoredPrefix | undefined
  signedHead?: VerifiedLogHead | undefined
  anchored?: { leaf: Hex; block: bigint } | undefined
}> {
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
    return {}
  }
  let bound: boolean
  let signedHead: VerifiedLogHead | undefined
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
  } else {
    const named = entry.data.index
    const head = String(entry.data.head).toLowerCase()
    const target = typeof named === 'number' && named < i ? transcript.entries[named] : undefined
    const signed = await verifySignedLogHead({
      signed: { statement: entry.data.statement, signature: entry.data.signature },
      owner: {
        chainId: transcript.chainId,
        registry: transcript.keyRegistry,
        account: transcript.account,
        deviceId: transcript.deviceId,
      },
      chain,
    })
    if (signed.ok) signedHead = signed
    const s = signed.ok ? signed.statement : undefined
    bound = add(
      i,
      'log-anchor',
      s !== undefined &&
        s.kind === 'head' &&
        target !== undefined &&
        s.logIndex === named &&
        s.head === head &&
        target.hash.toLowerCase() === head &&
        receipt.leaf === signedHead?.leaf,
      !signed.ok
        ? `the anchored head is not signed by this log's device: ${signed.reason}`
        : s?.kind !== 'head'
          ? 'the signed statement is an export, not a log head'
          : target === undefined
            ? `names entry ${String(named)}, which is not an earlier entry`
            : s.logIndex !== named || s.head !== head
              ? `the signed head (entry ${s.logIndex}, ${s.head}) is not the entry's (entry ${String(named)}, ${head})`
              : target.hash.toLowerCase() !== head
                ? `anchored head ${head} is not the hash of entry ${named} (${target.hash})`
                : receipt.leaf !== signedHead?.leaf
                  ? `receipt is for leaf ${receipt.leaf}, not the signed head's leaf ${signedHead?.leaf}`
                  : `anchors the head of entry ${named}, signed by this log's device at block ${s.block.number}`,
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
      ? `root ${receipt.root} anchored in block ${receipt.blockNumber} (${result.confirmations} confirmation${result.confirmations === 1n ? '' : 's'})`
      : `${last?.name ?? 'receipt'}: ${last?.detail ?? 'does not verify'}`,
  )
  return {
    pinned:
      result.ok && bound && entry.kind === 'log-anchor'
        ? { upTo: entry.data.index as number, block: receipt.blockNumber }
        : undefined,
    signedHead: result.ok ? signedHead : undefined,
    anchored: result.ok && bound ? { leaf: receipt.leaf, block: receipt.blockNumber } : undefined,
  }
}
