/** Acks: ACK moves a device's cursor on a topic; ACKS pushes the topic's cursors to its subscribers, throttled. */
import type { Hex } from 'viem'
import { encodeRelayFrame, MAX_FRAME_LIST } from '../protocol/relayFrames.js'
import { replyError, reportInternal, sendBytes } from './connection.js'
import type { AckPushState, RelayConnection, RelayContext } from './context.js'
import { mayRead } from './topics.js'

/**
 * No topic waiting for an ACKS push.
 *
 * @example const ctx = { ...rest, acks: createAckPushState() }
 */
export function createAckPushState(): AckPushState {
  return { dirty: new Set(), timer: undefined }
}

/**
 * ACK (no reply on success): records that the device processed `topic` (lowercase) up to `seq`, emits 'acked',
 * and schedules an ACKS push (at most one per `acksThrottleMs`). Acking another device's inbox is forbidden. Only a
 * recipient (a device that subscribed to the topic) has a cursor to move: an ACK from any other device is ignored,
 * so that an ACK cannot stand in for the preimage check a SUBSCRIBE makes.
 *
 * @example await handleAck(ctx, conn, { topic, seq: 3n })
 */
export async function handleAck(
  ctx: RelayContext,
  conn: RelayConnection,
  { topic, seq }: { topic: Hex; seq: bigint },
): Promise<void> {
  if (!mayRead(ctx, topic, conn.deviceId)) return void replyError(ctx, conn, 0, 'RELAY_FORBIDDEN')
  if (!conn.subs?.has(topic) && !(await ctx.store.acks(topic)).some((a) => a.deviceId === conn.deviceId))
    return
  await ctx.store.ack(topic, conn.deviceId!, seq)
  if (ctx.events.listenerCount('acked') > 0)
    ctx.events.emit('acked', { topic, seq, deviceId: conn.deviceId! })
  ctx.acks.dirty.add(topic)
  if (!ctx.acks.timer) {
    ctx.acks.timer = setTimeout(() => void pushAcks(ctx), ctx.limits.acksThrottleMs)
    ctx.acks.timer.unref()
  }
}

/**
 * Sends ACKS (the stored cursors, at most 65 535) to every live subscriber of each topic acked since the last push.
 *
 * @example await pushAcks(ctx)
 */
export async function pushAcks(ctx: RelayContext): Promise<void> {
  ctx.acks.timer = undefined
  const topics = [...ctx.acks.dirty]
  ctx.acks.dirty.clear()
  for (const topic of topics) {
    const subs = ctx.topics.get(topic)
    if (!subs || subs.size === 0) continue
    let frame: Uint8Array
    try {
      const acks = (await ctx.store.acks(topic)).slice(0, MAX_FRAME_LIST)
      frame = encodeRelayFrame({ type: 'acks', topic, acks })
    } catch (err) {
      reportInternal(ctx, 'acks', err)
      continue
    }
    for (const conn of subs.keys()) sendBytes(ctx, conn, frame)
  }
}

/**
 * Cancels a scheduled ACKS push (on stop).
 *
 * @example cancelAcksPush(ctx)
 */
export function cancelAcksPush(ctx: RelayContext): void {
  if (ctx.acks.timer) clearTimeout(ctx.acks.timer)
  ctx.acks.timer = undefined
}
