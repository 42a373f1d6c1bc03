/** How the relay answers on a connection: frames, errors, failing (error then close) and leaving the indexes. */
import { randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import { encodeRelayFrame, type RelayErrorCode, type RelayFrame } from '../protocol/relayFrames.js'
import type { RelayConnection, RelayContext, RelaySocket } from './context.js'
import { RelayInternalError } from './errors.js'
import { corkForTick } from './socketCork.js'

/** Close code of a connection the relay failed (auth, revocation). @example CLOSE_POLICY // 1008 */
export const CLOSE_POLICY = 1008
/** Close code of a connection refused for load (too many per IP). @example CLOSE_TRY_AGAIN // 1013 */
export const CLOSE_TRY_AGAIN = 1013
const FAIL_CLOSE_DELAY_MS = 100

/**
 * A fresh, unauthenticated connection with a new 32-byte challenge and a full pre-AUTH rate bucket.
 *
 * @example const conn = createConnection(ctx, { ws, ip: req.socket.remoteAddress })
 */
export function createConnection(
  ctx: RelayContext,
  { ws, ip }: { ws: RelaySocket; ip: string },
): RelayConnection {
  const now = ctx.now()
  return {
    ws,
    ip,
    challenge: randomBytes(32),
    expiresAt: now + ctx.limits.challengeTtlMs,
    account: undefined,
    deviceId: undefined,
    bucket: { tokens: ctx.limits.burst, at: now },
    subs: undefined,
    closing: false,
    alive: true,
    throttled: [],
    throttleTimer: undefined,
  }
}

/**
 * Encodes and sends one relay frame (see {@link sendBytes}).
 *
 * @example sendFrame(ctx, conn, { type: 'ok', reqId, value: seq })
 */
export function sendFrame(ctx: RelayContext, conn: RelayConnection, frame: RelayFrame): void {
  sendBytes(ctx, conn, encodeRelayFrame(frame))
}

/**
 * Sends an encoded frame if the socket is open. A connection with more than `maxBufferedBytes` unsent is a slow
 * consumer: it is dropped rather than buffered without bound (it resumes from its cursor). Frames sent in one tick
 * leave in one write (`socketCork.ts`).
 *
 * @example sendBytes(ctx, conn, frame) // one encoding shared by every subscriber
 */
export function sendBytes(ctx: RelayContext, conn: RelayConnection, bytes: Uint8Array): void {
  if (conn.ws.readyState !== conn.ws.OPEN) return
  if (conn.ws.bufferedAmount > ctx.limits.maxBufferedBytes) {
    conn.closing = true
    conn.ws.terminate()
    return
  }
  corkForTick(conn.ws)
  conn.ws.send(bytes, { binary: true })
}

/**
 * Answers `reqId` with ERROR `code` (the connection stays) and emits 'rejected'.
 *
 * @example replyError(ctx, conn, frame.reqId, 'RELAY_FORBIDDEN')
 */
export function replyError(
  ctx: RelayContext,
  conn: RelayConnection,
  reqId: number,
  code: RelayErrorCode,
): void {
  reportRejected(ctx, code, conn.deviceId, reqId)
  sendFrame(ctx, conn, { type: 'error', reqId, code })
}

/**
 * ERROR, then close with 1008 after a short delay (so the frame is delivered first). The connection leaves every
 * index at once and its later frames are ignored.
 *
 * @example failConnection(ctx, conn, 0, 'RELAY_DEVICE_REVOKED')
 */
export function failConnection(
  ctx: RelayContext,
  conn: RelayConnection,
  reqId: number,
  code: RelayErrorCode,
): void {
  if (conn.closing) return
  replyError(ctx, conn, reqId, code)
  conn.closing = true
  detachConnection(ctx, conn)
  setTimeout(() => conn.ws.close(CLOSE_POLICY, code), FAIL_CLOSE_DELAY_MS).unref()
}

/**
 * Removes the connection from the topic and device indexes (on close, and as soon as it is failed).
 *
 * @example ws.on('close', () => detachConnection(ctx, conn))
 */
export function detachConnection(ctx: RelayContext, conn: RelayConnection): void {
  if (conn.subs) {
    for (const topic of conn.subs.keys()) {
      const subs = ctx.topics.get(topic)
      subs?.delete(conn)
      if (subs?.size === 0) ctx.topics.delete(topic)
    }
    conn.subs = undefined
  }
  if (conn.deviceId) {
    const entry = ctx.devices.get(conn.deviceId)
    entry?.conns.delete(conn)
    if (entry?.conns.size === 0) ctx.devices.delete(conn.deviceId)
  }
}

/**
 * Emits 'rejected' when someone listens.
 *
 * @example reportRejected(ctx, 'RELAY_TOO_MANY_CONNECTIONS', undefined, 0)
 */
export function reportRejected(
  ctx: RelayContext,
  code: RelayErrorCode,
  deviceId: Hex | undefined,
  reqId: number,
): void {
  if (ctx.events.listenerCount('rejected') === 0) return
  ctx.events.emit('rejected', deviceId === undefined ? { code, reqId } : { code, deviceId, reqId })
}

/**
 * Emits a {@link RelayInternalError} as 'error' when someone listens (an unheard 'error' must not crash the relay).
 *
 * @example reportInternal(ctx, 'append', err)
 */
export function reportInternal(ctx: RelayContext, operation: string, err: unknown): void {
  if (ctx.events.listenerCount('error') > 0)
    ctx.events.emit('error', new RelayInternalError({ operation, cause: err }))
}
