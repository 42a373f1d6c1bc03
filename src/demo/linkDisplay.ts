/** How the demo shows a link request: its URI and terminal QR code, shortened when they would flood the output. */

/** Characters of a URI shown whole; a longer one keeps its head and tail. */
const URI_MAX = 72
/** Terminal lines of a QR code shown whole; a taller one keeps its top rows. */
const QR_MAX_LINES = 24
/** Lines kept of a taller QR code (its top finder patterns and timing row). */
const QR_HEAD_LINES = 6

/**
 * `uri` as the demo prints it: whole up to 72 characters, otherwise its first 48 and last 12 characters around an
 * ellipsis, with its length.
 *
 * @example shortUri('sealpost:link?v=1&r=' + 'A'.repeat(500)) // 'sealpost:link?v=1&r=AAAA…AAAA (520 chars)'
 */
export function shortUri(uri: string): string {
  if (uri.length <= URI_MAX) return uri
  return `${uri.slice(0, 48)}…${uri.slice(-12)} (${uri.length} chars)`
}

/**
 * The lines of a terminal QR code as the demo prints them: every line up to 24, otherwise the first 6 and a note
 * naming the code's size and where to see it whole.
 *
 * @example shortQr(qrLines(uri)) // [6 lines of blocks, '… 37 more lines (85 columns): sealpost id link prints the whole code']
 */
export function shortQr(lines: readonly string[]): string[] {
  if (lines.length <= QR_MAX_LINES) return [...lines]
  const width = lines[0]?.length ?? 0
  return [
    ...lines.slice(0, QR_HEAD_LINES),
    `… ${lines.length - QR_HEAD_LINES} more lines (${width} columns): sealpost id link prints the whole code`,
  ]
}
