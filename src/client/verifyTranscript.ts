/** The transcript verifier: trusts nothing in a transcript but what it can check against the chain. */
import type { Client } from 'viem'
import type { Statement } from '../protocol/statement.js'
import type { SignedLogHeadHex } from './auditTrail.js'
import { type AnchoredPrefix, checkHashChain, checkLogHeads, reportAnchoredPrefix } from './checkLogChain.js'
import { checkExport, type LogOwner, type VerifiedLogHead } from './checkLogExport.js'
import { checkMessageEntry } from './checkMessageEntry.js'
import { checkReceiptEntry } from './checkReceiptEntry.js'
import { checkStatementSet, type LoggedStatement } from './checkStatementSet.js'
import { type AnchoredLogHead, checkTimeBounds } from './checkTimeBounds.js'
import { checkTranscriptHeader } from './checkTranscriptHeader.js'
import { TranscriptFormatError } from './errors.js'
import type { WindowOptions } from './timeBounds.js'
import { parseTranscript, type Transcript } from './transcriptFormat.js'
import { type TranscriptVerification, type TrustedDeployment, transcriptReport } from './transcriptReport.js'

/** Inputs to `verifyTranscript`. @example const p: VerifyTranscriptParameters = { transcript, publicClient, deployment } */
export type VerifyTranscriptParameters = {
  /** A `Transcript`, or untrusted JSON (object or text) claiming to be one. */
  transcript: Transcript | unknown
  /** Any viem client on the transcript's chain; all keys and anchors are read from it. */
  publicClient: Client
  /** Verification time, unix ms (default `Date.now()`); the export time may not be later (5 min tolerance). */
  now?: number | undefined
  /**
   * The deployment the verifier trusts (required): keys and anchors are read from these contracts only, and a
   * transcript naming another chain or other contracts fails (`DeploymentMismatchError`).
   */
  deployment: TrustedDeployment
  /** Confirmations each receipt needs (default 1). */
  minConfirmations?: number | undefined
  /**
   * Heads or exports this log's device signed, from elsewhere (an earlier transcript, a counterparty): one that
   * disagrees with this transcript's entries is equivocation (`LogEquivocationError`, both heads as evidence).
   */
  evidence?: readonly SignedLogHeadHex[] | undefined
  /** The anchor window of the `time-bounds` checks (`anchorWindowMs`, default 1 hour, as for a recipient). */
  windows?: WindowOptions | undefined
}

/** Entry checks are independent reads; this many run at a time (the report is sorted at the end). */
const READ_CONCURRENCY = 8

/**
 * Verifies a transcript against the chain of a pinned deployment, trusting nothing in it but what it can check:
 * 1. `format` (shape, strict JSON for text; exported neither in the future nor before its last entry), `chain` (the
 *    transcript's chain is the trusted one and the RPC serves it), `contracts` (the transcript names the trusted
 *    KeyRegistry and MessageAnchor, which hold Sealpost code), `device` (the transcript's device is registered to its
 *    account, read on chain). A failure of `format`, `chain` or `contracts` stops verification;
 * 2. `hash-chain`: every entry's index, prevHash and hash (one failing check per broken entry); `export`: the
 *    transcript carries a log-export statement signed by its device (key valid at its block) over exactly its last
 *    entry (index and hash), so entries removed at the end (or all of them) fail;
 * 3. per `sent`/`received` entry: the statement decodes and matches the entry's conversation; the
 *    statement's device is registered on chain to `from` (and, for `sent`, is the transcript's own device);
 *    the P-256 signature verifies under the key read from KeyRegistry (never from the transcript); the key was
 *    valid at the statement's block (`isValidAt`); that block's hash is the chain's; `bodyHash` matches the
 *    body when the entry has one; and the entry's leaf is `statementLeaf(statement, signature)`. Then
 *    `statement-set`: no statement twice, `seq` strictly increasing per sending device and conversation;
 * 4. per `receipt` entry: the receipt's leaf is the entry's leaf and a statement leaf of the transcript, and
 *    `verifyReceipt` passes against the MessageAnchor;
 * 5. per `log-anchor` entry: a log-head statement signed by the transcript's device (key valid at its block) names
 *    the earlier entry and its hash, the receipt is for the signed statement's leaf, and `verifyReceipt` passes.
 *    `anchored-prefix` then says how much of the log is pinned on chain; `log-chain`: each anchored head extends the
 *    one before; `equivocation`: no head the device signed (anchored here, or in `evidence`) disagrees with the
 *    entries (a rewrite by the device itself is found this way, with both heads as evidence); a head anchored here, or
 *    given as evidence naming a block before the export's, for an entry past the exported one fails `export` ("log
 *    truncated after index k");
 * 6. `time-bounds`, per statement and per anchored log head: the verdict a recipient reaches on its receipt
 *    (`judgeAnchor`, protocol §11.1), from the earliest verified receipt: `verified` only if anchored within the anchor
 *    window after the referenced block and before any revocation of the device; `pending` (passes, never verified)
 *    without a receipt; `refused` fails with `AnchorWindowError` or `RevokedBeforeAnchorError` as `error` (unless the
 *    log itself records refusing that received statement).
 *
 * A tampered transcript fails with checks naming the entry index and why, and `error` names the first failure as a
 * typed error. Throws only when the chain cannot be read (`RpcUnreachableError`, `ChainRequestError`).
 *
 * @example
 * const result = await verifyTranscript({ transcript: text, publicClient, deployment: readDeployment(home) })
 * for (const line of formatVerification(result)) console.log(line)
 */
export async function verifyTranscript({
  transcript: input,
  publicClient,
  now = Date.now(),
  deployment,
  minConfirmations = 1,
  evidence,
  windows,
}: VerifyTranscriptParameters): Promise<TranscriptVerification> {
  const { add, done } = transcriptReport()

  // 1. Transcript-wide.
  let transcript: Transcript
  try {
    transcript = parseTranscript(input)
  } catch (err) {
    if (!(err instanceof TranscriptFormatError)) throw err
    add(err.entry, 'format', false, `${err.metaMessages.join('; ')}`)
    return done(err)
  }
  const trusted: TrustedDeployment = {
    chainId: deployment.chainId,
    keyRegistry: deployment.keyRegistry,
    messageAnchor: deployment.messageAnchor,
  }
  const { chain, mismatch } = await checkTranscriptHeader({
    transcript,
    publicClient,
    now,
    deployment: trusted,
    add,
  })
  if (!chain) return done(mismatch)

  // 2. Hash chain, and the export the device signed over its end.
  const { entries } = transcript
  const chainBroken = checkHashChain(entries, add)
  const owner: LogOwner = {
    chainId: transcript.chainId,
    registry: transcript.keyRegistry,
    account: transcript.account,
    deviceId: transcript.deviceId,
  }
  const exported = await checkExport({ entries, signed: transcript.export, owner, chain, add })

  // 3. Statements, first: receipts are bound to their leaves.
  const statementLeaves = new Map<string, { entry: number; statement: Statement }>()
  const statements: LoggedStatement[] = []
  await forEachLimit([...entries.entries()], READ_CONCURRENCY, async ([index, entry]) => {
    if (entry.kind !== 'sent' && entry.kind !== 'received') return
    const checked = await checkMessageEntry({ index, entry, transcript, chain, now, add })
    if (!checked) return
    statements.push({ entry: index, ...checked })
    const first = checked.leaf && statementLeaves.get(checked.leaf)
    if (checked.leaf && (!first || first.entry > index))
      statementLeaves.set(checked.leaf, { entry: index, statement: checked.statement })
  })
  checkStatementSet(statements, add)

  // 4–5. Receipts and log anchors (and the informational rejections).
  let prefix: AnchoredPrefix | undefined
  const signedHeads: (VerifiedLogHead & { entry: number })[] = []
  const anchors = new Map<string, bigint[]>()
  const heads: AnchoredLogHead[] = []
  await forEachLimit([...entries.entries()], READ_CONCURRENCY, async ([index, entry]) => {
    if (entry.kind === 'rejected') {
      const { envelopeId, code, step } = entry.data
      add(
        index,
        'rejected',
        true,
        `rejected envelope ${String(envelopeId)}: ${String(code)} at step ${String(step)}`,
      )
      return
    }
    if (entry.kind !== 'receipt' && entry.kind !== 'log-anchor') return
    const { pinned, signedHead, anchored } = await checkReceiptEntry({
      index,
      entry,
      transcript,
      statementLeaves,
      chain,
      publicClient,
      minConfirmations,
      add,
    })
    if (pinned && !chainBroken && pinned.upTo > (prefix?.upTo ?? -1)) prefix = pinned
    if (signedHead) signedHeads.push({ ...signedHead, entry: index })
    if (anchored && entry.kind === 'receipt') {
      const key = anchored.leaf.toLowerCase()
      anchors.set(key, [...(anchors.get(key) ?? []), anchored.block])
    } else if (anchored && signedHead)
      heads.push({ entry: index, statement: signedHead.statement, anchorBlock: anchored.block })
  })
  // 6. Every anchored statement judged as a recipient judges it on its receipt.
  await checkTimeBounds({ entries, statements, anchors, heads, chain, windows, add })
  if (!chainBroken) reportAnchoredPrefix(entries.length, prefix, add)
  const equivocation = await checkLogHeads({
    entries,
    anchored: signedHeads,
    evidence,
    owner,
    chain,
    add,
    exported,
  })
  return equivocation ? done(equivocation) : done()
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
