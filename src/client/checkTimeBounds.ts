/** The `time-bounds` checks of a transcript: each signed statement's verdict from its anchor, by the live receipt's rules. */
import type { Hex } from 'viem'
import type { LogEntry } from '../store/auditLog.js'
import type { LoggedStatement } from './checkStatementSet.js'
import { judgeAnchor, type TimeJudgement, type WindowOptions } from './timeBounds.js'
import type { AddCheck } from './transcriptReport.js'
import type { ChainView } from './verifyStatement.js'

/**
 * A log-head statement of the transcript whose signature and receipt verified, and the block of its anchor.
 *
 * @example const head: AnchoredLogHead = { entry: 5, statement: { device, block: { number: 40n } }, anchorBlock: 42n }
 */
export type AnchoredLogHead = {
  entry: number
  statement: { device: Hex; block: { number: bigint } }
  anchorBlock: bigint
}

/**
 * Inputs to {@link checkTimeBounds}. `anchors` maps a statement leaf (lower-case hex) to the blocks of the verified
 * receipts bound to it.
 *
 * @example const p: CheckTimeBoundsParameters = { entries, statements, anchors, heads, chain, add }
 */
export type CheckTimeBoundsParameters = {
  entries: readonly LogEntry[]
  statements: readonly LoggedStatement[]
  anchors: ReadonlyMap<string, readonly bigint[]>
  heads: readonly AnchoredLogHead[]
  chain: Pick<ChainView, 'block' | 'device'>
  windows?: WindowOptions | undefined
  add: AddCheck
}

/**
 * Adds one `time-bounds` check per `sent`/`received` statement and per anchored log head (protocol §11.1, §12.4),
 * judged by `judgeAnchor`, the judgement a recipient applies on each receipt, against the earliest verified receipt:
 * - no receipt in the transcript: `pending` (passes; shown, never counted as verified);
 * - anchored within the anchor window after the referenced block and before any revocation of the device:
 *   `verified`;
 * - otherwise `refused`, failing with the typed error (`AnchorWindowError`, `RevokedBeforeAnchorError`). A `received`
 *   statement whose refusal the log itself records (a later `rejected` entry for its envelope) is `refused` but
 *   passes: the device refused it, and the transcript does not claim it counts.
 *
 * @example await checkTimeBounds({ entries, statements, anchors, heads, chain, add })
 */
export async function checkTimeBounds({
  entries,
  statements,
  anchors,
  heads,
  chain,
  windows,
  add,
}: CheckTimeBoundsParameters): Promise<void> {
  const refusedAt = new Map<string, number>()
  for (const e of entries)
    if (e.kind === 'rejected' && typeof e.data.envelopeId === 'string')
      refusedAt.set(e.data.envelopeId.toLowerCase(), e.index)

  await Promise.all([
    ...statements.map(async ({ entry, statement, leaf }) => {
      const data = entries[entry]?.data ?? {}
      const envelopeId =
        typeof data.envelopeId === 'string' ? (data.envelopeId.toLowerCase() as Hex) : undefined
      const recorded = envelopeId === undefined ? undefined : refusedAt.get(envelopeId)
      const ownRefusal =
        entries[entry]?.kind === 'received' && recorded !== undefined && recorded > entry
          ? recorded
          : undefined
      let anchorBlock: bigint | undefined // the earliest anchor: the one that bounds when the statement existed
      for (const b of (leaf && anchors.get(leaf.toLowerCase())) || [])
        if (anchorBlock === undefined || b < anchorBlock) anchorBlock = b
      if (anchorBlock === undefined) {
        if (ownRefusal !== undefined)
          add(entry, 'time-bounds', true, `refused: this log records the refusal at entry ${ownRefusal}`, {
            verdict: 'refused',
          })
        else
          add(
            entry,
            'time-bounds',
            true,
            'pending: no receipt in this transcript, so it is not shown to be final',
            {
              verdict: 'pending',
            },
          )
        return
      }
      const j = await judgeAnchor({ statement, anchorBlock, chain, windows, messageId: envelopeId })
      report(entry, j, ownRefusal, add)
    }),
    ...heads.map(async ({ entry, statement, anchorBlock }) =>
      report(entry, await judgeAnchor({ statement, anchorBlock, chain, windows }), undefined, add),
    ),
  ])
}

function report(
  entry: number,
  j: TimeJudgement | undefined,
  ownRefusal: number | undefined,
  add: AddCheck,
): void {
  if (j === undefined) {
    add(entry, 'time-bounds', false, "cannot be judged: the sender device's registry record cannot be read")
    return
  }
  if (j.ok) {
    add(entry, 'time-bounds', true, `verified: ${j.detail}`, { verdict: 'verified' })
    return
  }
  const why = j.error.metaMessages.filter((m) => !m.startsWith('Message: ')).join('; ')
  const line = `refused: ${j.error.code}: ${j.error.shortMessage}${why ? ` (${why})` : ''}`
  if (ownRefusal !== undefined)
    add(entry, 'time-bounds', true, `${line}; this log records the refusal at entry ${ownRefusal}`, {
      verdict: 'refused',
    })
  else add(entry, 'time-bounds', false, line, { verdict: 'refused', error: j.error })
}
