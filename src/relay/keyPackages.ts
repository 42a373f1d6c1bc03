/** Key packages: KP_PUT stores the authenticated device's own, KP_TAKE hands out the oldest, KP_COUNT counts them. */
import type { Hex } from 'viem'
import { decodeEnvelope, type Envelope } from '../protocol/envelope.js'
import { inboxTopic } from '../protocol/topics.js'
import { replyError, sendFrame } from './connection.js'
import type { RelayConnection, RelayContext } from './context.js'

/**
 * KP_PUT: every envelope must decode, be of kind key-package and sit on the device's own inbox topic, and the
 * device may hold at most `maxKeyPackagesPerDevice`; all are stored or none. Answers OK(count held).
 *
 * @example handleKeyPackagePut(ctx, conn, { reqId: 1, envelopes })
 */
export function handleKeyPackagePut(
  ctx: RelayContext,
  conn: RelayConnection,
  { reqId, envelopes }: { reqId: number; envelopes: Uint8Array[] },
): void {
  const own = inboxTopic(conn.deviceId!)
  const copies: Uint8Array[] = []
  for (const bytes of envelopes) {
    let envelope: Envelope
    try {
      envelope = decodeEnvelope(bytes, { maxPayloadBytes: ctx.limits.maxPayloadBytes })
    } catch {
      return void replyError(ctx, conn, reqId, 'RELAY_ENVELOPE_INVALID')
    }
    if (envelope.kind !== 'key-package') return void replyError(ctx, conn, reqId, 'RELAY_ENVELOPE_INVALID')
    if (envelope.topic !== own) return void replyError(ctx, conn, reqId, 'RELAY_FORBIDDEN')
    copies.push(new Uint8Array(bytes)) // `bytes` is a view into the ws receive buffer
  }
  const have = ctx.store.countKeyPackages(conn.deviceId!)
  if (have + copies.length > ctx.limits.maxKeyPackagesPerDevice)
    return void replyError(ctx, conn, reqId, 'RELAY_QUEUE_FULL')
  const count = ctx.store.putKeyPackages(conn.deviceId!, copies)
  sendFrame(ctx, conn, { type: 'ok', reqId, value: BigInt(count) })
}

/**
 * KP_TAKE: removes and sends the oldest key package of `deviceId` (lowercase); KP without one when none is left.
 *
 * @example handleKeyPackageTake(ctx, conn, { reqId: 2, deviceId })
 */
export function handleKeyPackageTake(
  ctx: RelayContext,
  conn: RelayConnection,
  { reqId, deviceId }: { reqId: number; deviceId: Hex },
): void {
  sendFrame(ctx, conn, { type: 'kp', reqId, envelope: ctx.store.takeKeyPackage(deviceId) })
}

/**
 * KP_COUNT: answers OK(how many key packages `deviceId`, lowercase, has left).
 *
 * @example handleKeyPackageCount(ctx, conn, { reqId: 3, deviceId })
 */
export function handleKeyPackageCount(
  ctx: RelayContext,
  conn: RelayConnection,
  { reqId, deviceId }: { reqId: number; deviceId: Hex },
): void {
  sendFrame(ctx, conn, { type: 'ok', reqId, value: BigInt(ctx.store.countKeyPackages(deviceId)) })
}
