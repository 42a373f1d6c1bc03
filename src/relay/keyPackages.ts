/** Key packages: KP_PUT stores the authenticated device's own, KP_TAKE hands out the oldest (or the last-resort one,
 * kept), KP_COUNT counts the one-time ones. */
import type { Hex } from 'viem'
import { CONVERSATION_CONTEXT_EXTENSION } from '../protocol/conversationContext.js'
import { decodeEnvelope, type Envelope } from '../protocol/envelope.js'
import { lastResortKeyPackageOf } from '../protocol/lastResortKeyPackage.js'
import { inboxTopic } from '../protocol/topics.js'
import { replyError, sendFrame } from './connection.js'
import type { RelayConnection, RelayContext } from './context.js'
import { tapIds } from './idsTap.js'

/**
 * KP_PUT: every envelope must decode, be of kind key-package and sit on the device's own inbox topic, and the
 * device may hold at most `maxKeyPackagesPerDevice` one-time key packages; all are stored or none. A key package
 * marked `last_resort` becomes the device's last-resort key package, replacing the previous one; a frame may carry
 * at most one, and its leaf must advertise the conversation context extension (else RELAY_ENVELOPE_INVALID: claimers
 * skip such key packages, and this one would be handed out forever). Answers OK(one-time count held).
 *
 * @example await handleKeyPackagePut(ctx, conn, { reqId: 1, envelopes })
 */
export async function handleKeyPackagePut(
  ctx: RelayContext,
  conn: RelayConnection,
  { reqId, envelopes }: { reqId: number; envelopes: Uint8Array[] },
): Promise<void> {
  const own = inboxTopic(conn.deviceId!)
  const copies: Uint8Array[] = []
  let lastResort: Uint8Array | undefined
  for (const bytes of envelopes) {
    let envelope: Envelope
    try {
      envelope = decodeEnvelope(bytes, { maxPayloadBytes: ctx.limits.maxPayloadBytes })
    } catch {
      return void replyError(ctx, conn, reqId, 'RELAY_ENVELOPE_INVALID')
    }
    if (envelope.kind !== 'key-package') return void replyError(ctx, conn, reqId, 'RELAY_ENVELOPE_INVALID')
    if (envelope.topic !== own) return void replyError(ctx, conn, reqId, 'RELAY_FORBIDDEN')
    const copy = new Uint8Array(bytes) // `bytes` is a view into the ws receive buffer
    const marked = lastResortKeyPackageOf(envelope.payload)
    if (!marked) copies.push(copy)
    else if (lastResort || !marked.leafNode.capabilities.extensions.includes(CONVERSATION_CONTEXT_EXTENSION))
      return void replyError(ctx, conn, reqId, 'RELAY_ENVELOPE_INVALID')
    else lastResort = copy
  }
  // One KP_PUT of a device at a time on this relay, so two cannot both pass the count check.
  const count = await oneAtATime(conn.deviceId!, async () => {
    const have = await ctx.store.countKeyPackages(conn.deviceId!)
    if (have + copies.length > ctx.limits.maxKeyPackagesPerDevice) return undefined
    return ctx.store.putKeyPackages(conn.deviceId!, copies, lastResort)
  })
  if (count === undefined) return void replyError(ctx, conn, reqId, 'RELAY_QUEUE_FULL')
  sendFrame(ctx, conn, { type: 'ok', reqId, value: BigInt(count) })
}

/**
 * KP_TAKE: removes and sends the oldest one-time key package of `deviceId` (lowercase); when none is left, sends
 * its last-resort key package and keeps it; KP without one when the device has neither.
 *
 * @example await handleKeyPackageTake(ctx, conn, { reqId: 2, deviceId })
 */
export async function handleKeyPackageTake(
  ctx: RelayContext,
  conn: RelayConnection,
  { reqId, deviceId }: { reqId: number; deviceId: Hex },
): Promise<void> {
  const envelope = await ctx.store.takeKeyPackage(deviceId)
  if (ctx.ids && envelope) tapIds(ctx, { kind: 'kp-claim', device: conn.deviceId!, target: deviceId })
  sendFrame(ctx, conn, { type: 'kp', reqId, envelope })
}

/**
 * KP_COUNT: answers OK(how many one-time key packages `deviceId`, lowercase, has left; the last-resort one is not
 * counted, so a device tops up when this runs low).
 *
 * @example await handleKeyPackageCount(ctx, conn, { reqId: 3, deviceId })
 */
export async function handleKeyPackageCount(
  ctx: RelayContext,
  conn: RelayConnection,
  { reqId, deviceId }: { reqId: number; deviceId: Hex },
): Promise<void> {
  sendFrame(ctx, conn, { type: 'ok', reqId, value: BigInt(await ctx.store.countKeyPackages(deviceId)) })
}

/** KP_PUTs in flight per device: each runs after the previous one of its device ended. */
const putsInFlight = new Map<Hex, Promise<unknown>>()

function oneAtATime<T>(deviceId: Hex, fn: () => Promise<T>): Promise<T> {
  const previous = putsInFlight.get(deviceId) ?? Promise.resolve()
  const run = previous.then(fn, fn)
  const settled = run.catch(() => {})
  putsInFlight.set(deviceId, settled)
  void settled.then(() => {
    if (putsInFlight.get(deviceId) === settled) putsInFlight.delete(deviceId)
  })
  return run
}
