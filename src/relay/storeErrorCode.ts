/** Store failures on the wire: RELAY_UNAVAILABLE when the replicated store cannot be reached, else RELAY_INTERNAL. */
import type { RelayErrorCode } from '../protocol/relayFrames.js'
import { RelayStoreUnavailableError } from '../store/relayStore.js'

/**
 * The wire code a frame gets when a store (or anchor sink) call failed with `err`: `RELAY_UNAVAILABLE` (transient:
 * clients retry) when `err` or one of its causes is a `RelayStoreUnavailableError` (the JetStream cluster is out of
 * reach), `RELAY_INTERNAL` for anything else.
 *
 * @example replyError(ctx, conn, reqId, storeErrorCode(err))
 */
export function storeErrorCode(
  err: unknown,
): Extract<RelayErrorCode, 'RELAY_UNAVAILABLE' | 'RELAY_INTERNAL'> {
  const seen = new Set<unknown>()
  for (
    let e = err;
    e !== null && typeof e === 'object' && !seen.has(e);
    e = (e as { cause?: unknown }).cause
  ) {
    seen.add(e)
    if (e instanceof RelayStoreUnavailableError) return 'RELAY_UNAVAILABLE'
  }
  return 'RELAY_INTERNAL'
}
