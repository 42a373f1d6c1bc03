/** The log's own integrity in a transcript: the hash chain, its signed heads (chained, never equivocating), and how much of it is pinned. */

import type { LogHeadStatement } from '../protocol/logHeadStatement.js'
import { checkLogEntry, LOG_GENESIS_HASH, type LogEntry } from '../store/auditLog.js'
import type { SignedLogHeadHex } from './auditTrail.js'
import { type LogOwner, type VerifiedLogHead, verifySignedLogHead } from './checkLogExport.js'
import type { AddCheck } from './transcriptReport.js'
import { LogEquivocationError } from './verificationErrors.js'
import type { ChainView } from './verifyStatement.js'

/**
 * Adds one failing `hash-chain` check per entry whose index, prevHash or hash is wrong, or one passing
 * transcript-wide check when none is. Returns whether the chain is broken.
 *
 * @example const broken = checkHashChain(transcript.entries, add)
 */
export function checkHashChain(entries: LogEntry[], add: AddCheck): boolean {
  let broken = false
  entries.forEach((entry, i) => {
    const problem = checkLogEntry(entry, {
      index: i,
      prevHash: i === 0 ? LOG_GENESIS_HASH : entries[i - 1]!.hash,
    })
    if (problem !== undefined) {
      broken = true
      add(i, 'hash-chain', false, problem)
    }
  })
  if (!broken)
    add(
      null,
      'hash-chain',
      true,
      entries.length === 0 ? 'empty log' : `${entries.length} entries chain to head ${entries.at(-1)!.hash}`,
    )
  return broken
}

/**
 * The longest anchored prefix: the highest entry index a verified `log-anchor` entry pins, and its block.
 *
 * @example const prefix: AnchoredPrefix = { upTo: 12, block: 345n }
 */
export type AnchoredPrefix = { upTo: number; block: bigint }

/**
 * Adds the informational `anchored-prefix` check: how much of the log is pinned on chain (a rewrite of that
 * prefix cannot be hidden; later entries rely on the hash chain alone). Nothing is said of an empty log.
 *
 * @example reportAnchoredPrefix(entries.length, { upTo: 12, block: 345n }, add)
 */
export function reportAnchoredPrefix(
  entryCount: number,
  prefix: AnchoredPrefix | undefined,
  add: AddCheck,
): void {
  if (entryCount === 0) return
  add(
    null,
    'anchored-prefix',
    true,
    prefix === undefined
      ? 'no log head is anchored: the log is only as trustworthy as its holder'
      : `entries 0..${prefix.upTo} are pinned by a head anchored in block ${prefix.block}${
          prefix.upTo < entryCount - 1
            ? `; entries ${prefix.upTo + 1}..${entryCount - 1} are not anchored yet`
            : ''
        }`,
  )
}

/**
 * Inputs to {@link checkLogHeads}: the transcript's entries, the anchored signed heads its `log-anchor` entries carry
 * (already verified), and outside evidence: other heads or exports the same device signed (from another transcript
 * of this log, an earlier export, a counterparty).
 *
 * @example const p: CheckLogHeadsParameters = { entries, anchored, evidence: [], owner, chain, add }
 */
export type CheckLogHeadsParameters = {
  entries: readonly LogEntry[]
  anchored: readonly (VerifiedLogHead & { entry: number })[]
  evidence?: readonly SignedLogHeadHex[] | undefined
  owner: LogOwner
  chain: ChainView
  add: AddCheck
  /** The transcript's verified export statement, if any: a signed head past it may show the log was truncated. */
  exported?: LogHeadStatement | undefined
}

/**
 * `log-chain`: the anchored signed heads, in log order, chain: each names as `prev` an entry of this log with its
 * hash, and each later one names a `prev` at or after the earlier one, so every later anchored head extends the
 * earlier ones. `equivocation`: every valid head the device signed (anchored in this transcript, or given as
 * evidence) agrees with this transcript's entries; two that disagree make a `LogEquivocationError` holding both
 * signed statements, which is returned (and reported) so the caller can surface it. Against the verified `exported`
 * statement: a head anchored in the transcript past the exported entry, or an evidence head past it that names an
 * earlier block than the export's (signed before it), fails `export` ("log truncated after index k"); an evidence head
 * past it naming the export's block or a later one is informational (the log continued after this transcript).
 *
 * @example const equivocation = await checkLogHeads({ entries, anchored, evidence, owner, chain, add })
 */
export async function checkLogHeads({
  entries,
  anchored,
  evidence = [],
  owner,
  chain,
  add,
  exported,
}: CheckLogHeadsParameters): Promise<LogEquivocationError | undefined> {
  const heads = [...anchored].sort((a, b) => a.statement.logIndex - b.statement.logIndex)
  const onLog = (index: number, hash: string) => entries[index]?.hash.toLowerCase() === hash
  let chained = true
  heads.forEach((h, n) => {
    const { prev, logIndex } = h.statement
    const before = heads[n - 1]?.statement
    const problem =
      prev !== undefined && !onLog(prev.index, prev.head)
        ? `names previous head ${prev.head} (entry ${prev.index}), which is not on this log`
        : before !== undefined && before.logIndex === logIndex
          ? undefined
          : before !== undefined && (prev === undefined || prev.index < before.logIndex)
            ? `does not extend the head anchored before it (entry ${before.logIndex}): its previous head is ${prev === undefined ? 'none' : `entry ${prev.index}`}`
            : undefined
    if (problem !== undefined) chained = add(h.entry, 'log-chain', false, problem) && chained
  })
  if (heads.length > 0 && chained)
    add(
      null,
      'log-chain',
      true,
      `${heads.length} signed head${heads.length === 1 ? '' : 's'} anchored, each extending the one before`,
    )

  let equivocation: LogEquivocationError | undefined
  const own = (index: number) => heads.filter((h) => h.statement.logIndex >= index).at(0) ?? heads.at(-1)
  const conflict = (other: VerifiedLogHead, where: number | null, source: string) => {
    const mine = own(other.statement.logIndex)
    const error = new LogEquivocationError({
      deviceId: owner.deviceId,
      reason: `${source} signs head ${other.statement.head} for entry ${other.statement.logIndex}; this log's entry ${other.statement.logIndex} is ${entries[other.statement.logIndex]?.hash ?? 'missing'}`,
      evidence: [
        other.signed,
        ...(mine && mine.signed.statement !== other.signed.statement ? [mine.signed] : []),
      ],
    })
    equivocation ??= error
    add(where, 'equivocation', false, `${error.shortMessage} ${error.metaMessages.join('; ')}`)
  }
  const truncated = (detail: string) =>
    add(null, 'export', false, `log truncated after index ${exported?.logIndex}: ${detail}`)
  for (const h of heads) {
    if (!onLog(h.statement.logIndex, h.statement.head)) conflict(h, h.entry, 'an anchored head')
    if (exported && h.statement.logIndex > exported.logIndex)
      truncated(`entry ${h.entry} anchors a head the device signed for entry ${h.statement.logIndex}`)
  }
  let later: number | undefined
  for (const [n, item] of evidence.entries()) {
    const checked = await verifySignedLogHead({ signed: item, owner, chain })
    if (!checked.ok) {
      add(
        null,
        'equivocation',
        true,
        `evidence ${n + 1} is not a valid head of this device (${checked.reason}); ignored`,
      )
      continue
    }
    const { logIndex, head, prev, block } = checked.statement
    if (logIndex >= entries.length) {
      // Signed for a later entry, naming a block before the export's: the log was already longer when exported.
      if (exported && block.number < exported.block.number)
        truncated(
          `evidence ${n + 1} is a head the device signed for entry ${logIndex} in block ${block.number}, before this export (block ${exported.block.number})`,
        )
      else later = Math.max(later ?? logIndex, logIndex)
      if (prev !== undefined && prev.index < entries.length && !onLog(prev.index, prev.head))
        conflict(checked, null, `evidence ${n + 1} (its previous head)`)
      continue
    }
    if (!onLog(logIndex, head)) conflict(checked, null, `evidence ${n + 1}`)
  }
  if (!equivocation && (heads.length > 0 || evidence.length > 0))
    add(
      null,
      'equivocation',
      true,
      `every signed head of this device agrees with this log${later === undefined ? '' : `; the device signed a later head (entry ${later})${exported ? ` after this export (block ${exported.block.number})` : ''}: the log continues after this transcript`}`,
    )
  return equivocation
}
