/** A transcript verification as text: one line per check, then a verdict. */
import type { TranscriptVerification } from './transcriptReport.js'

/**
 * One line per check, `✓`/`✗`, the entry (or `transcript`), the check name and its detail, then a summary
 * line. For the CLI.
 *
 * @example for (const line of formatVerification(result)) console.log(line)
 */
export function formatVerification(result: TranscriptVerification): string[] {
  const lines = result.checks.map(
    (c) =>
      `${c.ok ? '✓' : '✗'} ${c.entry === null ? 'transcript' : `entry ${c.entry}`} ${c.check}: ${c.detail}`,
  )
  const failed = result.checks.filter((c) => !c.ok).length
  lines.push(
    result.ok
      ? `✓ transcript verified (${result.checks.length} checks)`
      : `✗ transcript does not verify (${failed} of ${result.checks.length} checks failed)`,
  )
  return lines
}
