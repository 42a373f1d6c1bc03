/** Leaf submission: LEAF hands a statement leaf to the AnchorSink, and answers OK once it has taken it. */
import type { Hex } from 'viem'
import { replyError, reportInternal, sendFrame } from './connection.js'
import type { RelayConnection, RelayContext } from './context.js'
import { storeErrorCode } from './storeErrorCode.js'

/**
 * LEAF: submits `leaf` for anchoring with the authenticated device as submitter (the receipt will be published on
 * `topic`); OK(0) once the sink accepted it, RELAY_INTERNAL when the relay has no sink or the sink failed
 * (RELAY_UNAVAILABLE when the sink's store could not be reached).
 * `topic` and `leaf` are lowercase.
 *
 * @example await handleLeaf(ctx, conn, { reqId: 3, topic, leaf })
 */
export async function handleLeaf(
  ctx: RelayContext,
  conn: RelayConnection,
  { reqId, topic, leaf }: { reqId: number; topic: Hex; leaf: Hex },
): Promise<void> {
  if (!ctx.anchorer) return void replyError(ctx, conn, reqId, 'RELAY_INTERNAL')
  try {
    await ctx.anchorer.submit({ leaf, topic, submitter: conn.deviceId! })
  } catch (err) {
    reportInternal(ctx, 'anchor submit', err)
    return void replyError(ctx, conn, reqId, storeErrorCode(err))
  }
  sendFrame(ctx, conn, { type: 'ok', reqId, value: 0n })
}
