/** The statements of a transcript as a set: no statement twice, and each sender's sequence numbers only go up. */
import type { Hex } from 'viem'
import type { Statement } from '../protocol/statement.js'
import { type AddCheck, short } from './transcriptReport.js'

/**
 * One decoded `sent`/`received` statement of a transcript, with its entry index and recomputed leaf.
 *
 * @example const item: LoggedStatement = { entry: 4, statement, leaf }
 */
export type LoggedStatement = { entry: number; statement: Statement; leaf: Hex | undefined }

/**
 * Adds the `statement-set` checks. A device logs each statement it sends or accepts once, and accepts a sender
 * device's statements in a conversation only with strictly increasing `seq` (the receiver refuses a stale one), so
 * in log order:
 * - a leaf (or, for a re-signed statement, a sequence number) seen at an earlier entry is a duplicate: one failing
 *   check at the later entry, naming the first;
 * - for each (sender account, sender device, conversation), `seq` strictly increases: a lower or equal `seq` fails
 *   at the entry where it appears.
 * Adds one passing transcript-wide check when no entry fails. Returns the number of failing entries.
 *
 * @example const failed = checkStatementSet(statements, add)
 */
export function checkStatementSet(statements: readonly LoggedStatement[], add: AddCheck): number {
  const byLeaf = new Map<string, number>()
  const lastSeq = new Map<string, { seq: bigint; entry: number }>()
  let failed = 0
  for (const { entry, statement, leaf } of [...statements].sort((a, b) => a.entry - b.entry)) {
    const first = leaf === undefined ? undefined : byLeaf.get(leaf)
    if (leaf !== undefined && first === undefined) byLeaf.set(leaf, entry)
    const stream = `${statement.from.toLowerCase()}|${statement.device.toLowerCase()}|${statement.conversation.toLowerCase()}`
    const previous = lastSeq.get(stream)
    if (first !== undefined) {
      failed++
      add(
        entry,
        'statement-set',
        false,
        `duplicate: the same statement as entry ${first} (leaf ${short(leaf!)})`,
      )
    } else if (previous !== undefined && statement.seq <= previous.seq) {
      failed++
      add(
        entry,
        'statement-set',
        false,
        `out of order: seq ${statement.seq} from device ${short(statement.device)} in conversation ${short(statement.conversation)} after seq ${previous.seq} at entry ${previous.entry}`,
      )
    }
    if (previous === undefined || statement.seq > previous.seq)
      lastSeq.set(stream, { seq: statement.seq, entry })
  }
  if (failed === 0)
    add(
      null,
      'statement-set',
      true,
      `${statements.length} statement${statements.length === 1 ? '' : 's'}: none twice, seq strictly increasing per sending device and conversation`,
    )
  return failed
}
