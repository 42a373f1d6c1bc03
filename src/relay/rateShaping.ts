/** Rate shaping: one token bucket per device (per connection before AUTH); frames over the rate wait, in order. */
import { peekReqId } from '../protocol/relayFrames.js'
import { replyError } from './connection.js'
import type { RelayConnection, RelayContext, TokenBucket } from './context.js'
import type { RelayLimits } from './limits.js'

/**
 * Handles one incoming frame (the dispatcher).
 *
 * @example const handle: FrameHandler = (conn, data, isBinary) => dispatchFrame(ctx, conn, data, isBinary)
 */
export type FrameHandler = (conn: RelayConnection, data: Buffer, isBinary: boolean) => void

/**
 * Refills `bucket` for the time since it was last refilled (capped at `burst`) and says whether it holds a token.
 *
 * @example refillBucket(bucket, { ratePerSecond: 200, burst: 400 }, Date.now()) // true
 */
export function refillBucket(
  bucket: TokenBucket,
  { ratePerSecond, burst }: Pick<RelayLimits, 'ratePerSecond' | 'burst'>,
  now: number,
): boolean {
  bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * ratePerSecond) / 1000)
  bucket.at = now
  return bucket.tokens >= 1
}

/**
 * The bucket a connection's frames draw from: its device's shared one once authenticated, its own before.
 *
 * @example bucketOf(ctx, conn)?.tokens
 */
export function bucketOf(ctx: RelayContext, conn: RelayConnection): TokenBucket | undefined {
  return conn.deviceId ? ctx.devices.get(conn.deviceId)?.bucket : conn.bucket
}

/**
 * Takes one token for a handled frame (a frame is handled only when a token was there; AUTH may have switched
 * the connection to its device's bucket in between, which then pays).
 *
 * @example takeToken(ctx, conn)
 */
export function takeToken(ctx: RelayContext, conn: RelayConnection): void {
  const bucket = bucketOf(ctx, conn)
  if (bucket && refillBucket(bucket, ctx.limits, ctx.now())) bucket.tokens -= 1
}

/**
 * Shape, don't drop: a frame with a token at hand goes to `handle` now. Once a connection is over its rate, its
 * frames queue up in arrival order (the socket is paused, so TCP pushes back on the sender) and are handled as
 * tokens refill. Only frames beyond `maxThrottledFrames` are refused with RELAY_RATE_LIMITED.
 *
 * @example ws.on('message', (data, isBinary) => shapeFrame(ctx, conn, data as Buffer, isBinary, handle))
 */
export function shapeFrame(
  ctx: RelayContext,
  conn: RelayConnection,
  data: Buffer,
  isBinary: boolean,
  handle: FrameHandler,
): void {
  if (conn.closing) return
  if (conn.throttled.length > 0 || !hasToken(ctx, conn)) {
    if (conn.throttled.length >= ctx.limits.maxThrottledFrames)
      return void replyError(ctx, conn, peekReqId(data), 'RELAY_RATE_LIMITED')
    conn.throttled.push({ data, isBinary })
    pauseSocket(conn, true)
    scheduleDrain(ctx, conn, handle)
    return
  }
  handle(conn, data, isBinary)
}

/**
 * Drops the frames still waiting for tokens (on close).
 *
 * @example ws.on('close', () => clearThrottled(conn))
 */
export function clearThrottled(conn: RelayConnection): void {
  if (conn.throttleTimer) clearTimeout(conn.throttleTimer)
  conn.throttleTimer = undefined
  conn.throttled.length = 0
}

function hasToken(ctx: RelayContext, conn: RelayConnection): boolean {
  const bucket = bucketOf(ctx, conn)
  return bucket ? refillBucket(bucket, ctx.limits, ctx.now()) : true
}

function drain(ctx: RelayContext, conn: RelayConnection, handle: FrameHandler): void {
  conn.throttleTimer = undefined
  while (conn.throttled.length > 0 && !conn.closing && hasToken(ctx, conn)) {
    const next = conn.throttled.shift() as { data: Buffer; isBinary: boolean }
    handle(conn, next.data, next.isBinary)
  }
  if (conn.throttled.length > 0 && !conn.closing) scheduleDrain(ctx, conn, handle)
  else pauseSocket(conn, false)
}

function scheduleDrain(ctx: RelayContext, conn: RelayConnection, handle: FrameHandler): void {
  if (conn.throttleTimer) return
  conn.throttleTimer = setTimeout(
    () => drain(ctx, conn, handle),
    Math.max(1, Math.ceil(1000 / ctx.limits.ratePerSecond)),
  )
}

/** Pauses or resumes reading from the TCP socket under the `ws` connection (ws exposes no API for it). */
function pauseSocket(conn: RelayConnection, pause: boolean): void {
  const socket = (conn.ws as unknown as { _socket?: { pause(): void; resume(): void } })._socket
  if (pause) socket?.pause()
  else socket?.resume()
}
