/** A transcript verification as text: one line per check, then a verdict. */
import type { TranscriptVerification } from './transcriptReport.js'

/**
 * One line per check, `✓`/`✗` (`…` for a statement that is pending: it passes, but is not verified), the entry (or
 * `transcript`), the check name and its detail, then a summary line that also counts pending statements. For the CLI.
 *
 * @example for (const line of formatVerification(result)) console.log(line)
 */
export function formatVerification(result: TranscriptVerification): string[] {
  const lines = result.checks.map(
    (c) =>
      `${!c.ok ? '✗' : c.verdict === 'pending' ? '…' : '✓'} ${c.entry === null ? 'transcript' : `entry ${c.entry}`} ${c.check}: ${c.detail}`,
  )
  const failed = result.checks.filter((c) => !c.ok).length
  const pending = result.checks.filter((c) => c.verdict === 'pending').length
  const note = pending === 0 ? '' : `; ${pending} statement${pending === 1 ? '' : 's'} pending, not verified`
  lines.push(
    result.ok
      ? `✓ transcript verified (${result.checks.length} checks${note})`
      : `✗ transcript does not verify (${failed} of ${result.checks.length} checks failed${note})`,
  )
  return lines
}
