/** The log's own integrity in a transcript: the hash chain, and how much of it an anchored head pins. */
import { checkLogEntry, LOG_GENESIS_HASH, type LogEntry } from '../store/auditLog.js'
import type { AddCheck } from './transcriptReport.js'

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
