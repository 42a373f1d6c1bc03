/** Dispatch: checks and decodes one incoming frame, then calls the handler its frame type maps to. */
import type { Hex } from 'viem'
import {
  type ClientFrame,
  type ClientFrameType,
  decodeClientFrame,
  peekReqId,
  RETIRED_CLIENT_FRAME_TYPES,
  type RelayErrorCode,
  RelayFrameError,
} from '../protocol/relayFrames.js'
import { handleAck } from './acks.js'
import { handleAuth } from './auth.js'
import { failConnection, replyError, reportInternal } from './connection.js'
import type { RelayConnection, RelayContext } from './context.js'
import { tapIds } from './idsTap.js'
import { handleKeyPackageCount, handleKeyPackagePut, handleKeyPackageTake } from './keyPackages.js'
import { handleLeaf } from './leaf.js'
import { handlePublish } from './publishQueue.js'
import { takeToken } from './rateShaping.js'
import { storeErrorCode } from './storeErrorCode.js'
import { handleSubscribe, handleUnsubscribe } from './topics.js'

/**
 * Handles one decoded client frame of type `T`. Handlers answer on the connection themselves; a handler that
 * throws, or whose promise rejects, gets RELAY_INTERNAL sent for it (RELAY_UNAVAILABLE when the store could not be
 * reached, see `storeErrorCode`).
 *
 * @example const handler: FrameTypeHandler<'kp-count'> = (ctx, conn, frame) => handleKeyPackageCount(ctx, conn, frame)
 */
export type FrameTypeHandler<T extends ClientFrameType> = (
  ctx: RelayContext,
  conn: RelayConnection,
  frame: Extract<ClientFrame, { type: T }>,
) => void | Promise<void>

/**
 * The handler of every client frame type. Every type but `auth` needs an authenticated connection. Hex fields are
 * lowercased here, so handlers compare them as they are.
 *
 * @example frameHandlers['kp-count'](ctx, conn, { type: 'kp-count', reqId: 1, deviceId })
 */
export const frameHandlers: { readonly [T in ClientFrameType]: FrameTypeHandler<T> } = Object.freeze({
  auth: (ctx, conn, frame) => {
    handleAuth(ctx, conn, frame).catch((err: unknown) => {
      reportInternal(ctx, 'auth', err)
      failConnection(ctx, conn, 0, 'RELAY_INTERNAL')
    })
  },
  publish: (ctx, conn, frame) => handlePublish(ctx, conn, frame),
  subscribe: (ctx, conn, { reqId, topic, after, preimage }) =>
    handleSubscribe(ctx, conn, { reqId, topic: lower(topic), after, preimage }),
  unsubscribe: (ctx, conn, { reqId, topic }) => handleUnsubscribe(ctx, conn, { reqId, topic: lower(topic) }),
  ack: (ctx, conn, { topic, seq }) => handleAck(ctx, conn, { topic: lower(topic), seq }),
  'kp-put': (ctx, conn, frame) => handleKeyPackagePut(ctx, conn, frame),
  'kp-take': (ctx, conn, { reqId, deviceId }) =>
    handleKeyPackageTake(ctx, conn, { reqId, deviceId: lower(deviceId) }),
  'kp-count': (ctx, conn, { reqId, deviceId }) =>
    handleKeyPackageCount(ctx, conn, { reqId, deviceId: lower(deviceId) }),
  leaf: (ctx, conn, { reqId, topic, leaf }) => {
    handleLeaf(ctx, conn, { reqId, topic: lower(topic), leaf: lower(leaf) }).catch((err: unknown) => {
      reportInternal(ctx, 'leaf', err)
    })
  },
})

/**
 * Handles one WebSocket message: text frames and frames that do not decode get RELAY_FRAME_MALFORMED, frames over
 * `maxFrameBytes` RELAY_FRAME_TOO_LARGE, a retired frame type (SUBSCRIBE v1) RELAY_FRAME_OUTDATED (all answered with
 * the frame's reqId when it has one; the connection stays); a decoded frame costs one rate token; anything but AUTH before AUTH_OK gets RELAY_UNAUTHENTICATED;
 * the rest goes to its handler in `handlers`.
 *
 * @example ws.on('message', (data, isBinary) => dispatchFrame(ctx, conn, data as Buffer, isBinary))
 */
export function dispatchFrame(
  ctx: RelayContext,
  conn: RelayConnection,
  data: Uint8Array,
  isBinary: boolean,
  handlers: { readonly [T in ClientFrameType]: FrameTypeHandler<T> } = frameHandlers,
): void {
  if (conn.closing) return
  if (!isBinary) return void refuse(ctx, conn, 0, 'RELAY_FRAME_MALFORMED')
  if (data.length > ctx.limits.maxFrameBytes)
    return void refuse(ctx, conn, peekReqId(data), 'RELAY_FRAME_TOO_LARGE')
  if (data[0] === RETIRED_CLIENT_FRAME_TYPES.subscribeV1)
    return void refuse(ctx, conn, peekReqId(data), 'RELAY_FRAME_OUTDATED')
  let frame: ClientFrame
  try {
    frame = decodeClientFrame(data)
  } catch (err) {
    if (!(err instanceof RelayFrameError)) reportInternal(ctx, 'decode', err)
    return void refuse(ctx, conn, peekReqId(data), 'RELAY_FRAME_MALFORMED')
  }
  const reqId = 'reqId' in frame ? frame.reqId : 0
  takeToken(ctx, conn)
  try {
    if (frame.type !== 'auth' && !conn.deviceId) return void refuse(ctx, conn, reqId, 'RELAY_UNAUTHENTICATED')
    const held = ctx.idsPolicy?.refusal(conn, frame.type, ctx.now()) // the IDS's response (idsPolicy.ts)
    if (held) return void replyError(ctx, conn, reqId, held)
    const handle = handlers[frame.type] as (
      ctx: RelayContext,
      conn: RelayConnection,
      frame: ClientFrame,
    ) => void | Promise<void>
    const pending = handle(ctx, conn, frame)
    if (pending)
      pending.catch((err: unknown) => {
        reportInternal(ctx, frame.type, err)
        replyError(ctx, conn, reqId, storeErrorCode(err))
      })
  } catch (err) {
    reportInternal(ctx, frame.type, err)
    replyError(ctx, conn, reqId, storeErrorCode(err))
  }
}

/** Answers a frame the relay refuses before any handler (and tells the IDS, `frame-error`). */
function refuse(ctx: RelayContext, conn: RelayConnection, reqId: number, code: RelayErrorCode): void {
  if (ctx.ids) tapIds(ctx, { kind: 'frame-error', ip: conn.ip, code })
  replyError(ctx, conn, reqId, code)
}

function lower(hex: Hex): Hex {
  return hex.toLowerCase() as Hex
}
