/** The relays of one cluster a client may use, and the order it tries them in after a disconnect. */

/**
 * The relay URLs from one URL, a comma-separated list, or an array: trimmed, empty entries and repeats dropped, order
 * kept (the first is tried first).
 *
 * @example relayUrlList('ws://a:8787, ws://b:8787') // ['ws://a:8787', 'ws://b:8787']
 */
export function relayUrlList(relay: string | readonly string[]): string[] {
  const parts = typeof relay === 'string' ? relay.split(',') : relay.flatMap((r) => r.split(','))
  return [...new Set(parts.map((p) => p.trim()).filter((p) => p.length > 0))]
}

/**
 * Index of the relay to try after the connection to `urls[index]` closed (or could not be opened): the next one,
 * wrapping around. Every relay of a cluster serves the same topics with the same sequence numbers, so a client
 * resumes on any of them from its cursors; moving on at once (rather than retrying the one that just failed) is
 * what lets a client outlive a relay.
 *
 * @example nextRelayIndex(1, 3) // 2
 * @example nextRelayIndex(2, 3) // 0
 */
export function nextRelayIndex(index: number, count: number): number {
  return count <= 1 ? 0 : (index + 1) % count
}
