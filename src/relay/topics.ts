/** Topics: SUBSCRIBE (the topic recomputed from its preimage, an inbox only for its owner, replay page by page, then live), UNSUBSCRIBE, and fan-out with DELIVER. */
import type { Hex } from 'viem'
import { encodeRelayFrame } from '../protocol/relayFrames.js'
import { type TopicPreimage, topicOf } from '../protocol/topics.js'
import { replyError, reportInternal, sendBytes, sendFrame } from './connection.js'
import type { RelayConnection, RelayContext, Subscription } from './context.js'
import { tapIds } from './idsTap.js'
import { storeErrorCode } from './storeErrorCode.js'

/** Stored envelopes sent per replay step before yielding to the event loop. @example REPLAY_PAGE // 256 */
export const REPLAY_PAGE = 256

/**
 * Whether `deviceId` may ACK `topic`: any topic but another known device's inbox.
 *
 * @example if (!mayRead(ctx, topic, conn.deviceId)) replyError(ctx, conn, 0, 'RELAY_FORBIDDEN')
 */
export function mayRead(ctx: RelayContext, topic: Hex, deviceId: Hex | undefined): boolean {
  const owner = ctx.inboxes.get(topic)
  return owner === undefined || owner === deviceId
}

/**
 * SUBSCRIBE v2 to `topic` after cursor `after`, with the topic's `preimage` (docs/protocol.md §9.4). A preimage
 * that does not hash to `topic` under its kind's label gets RELAY_TOPIC_MISMATCH; an inbox preimage naming another
 * device than the connection's, registered or not, gets RELAY_FORBIDDEN. Nothing else is asked of the registry:
 * the labels keep the kinds apart, so a conversation, tree or blob preimage never yields an inbox topic. Then the device
 * is recorded as a recipient (acking up to `after` when resuming), what is stored after the cursor is replayed,
 * OK(head) answered and the subscription goes live. A second SUBSCRIBE on the same topic restarts the replay from
 * its cursor. `topic` is lowercase.
 *
 * @example handleSubscribe(ctx, conn, { reqId: 1, topic, after: 0n, preimage: { kind: 'inbox', deviceId } })
 */
export function handleSubscribe(
  ctx: RelayContext,
  conn: RelayConnection,
  { reqId, topic, after, preimage }: { reqId: number; topic: Hex; after: bigint; preimage: TopicPreimage },
): void {
  if (topicOf(preimage) !== topic) return void replyError(ctx, conn, reqId, 'RELAY_TOPIC_MISMATCH')
  const denied = preimage.kind === 'inbox' && preimage.deviceId.toLowerCase() !== conn.deviceId
  if (ctx.ids) tapIds(ctx, { kind: 'subscribe', device: conn.deviceId!, topic, denied })
  if (denied) return void replyError(ctx, conn, reqId, 'RELAY_FORBIDDEN')
  subscribe(ctx, conn, { reqId, topic, after })
}

/**
 * Records the subscription (the topic was checked) in memory at once, so commits from now on are held for it, then
 * in the store, then starts its replay.
 */
function subscribe(
  ctx: RelayContext,
  conn: RelayConnection,
  { reqId, topic, after }: { reqId: number; topic: Hex; after: bigint },
): void {
  conn.subs ??= new Map()
  let sub = conn.subs.get(topic)
  if (!sub && conn.subs.size >= ctx.limits.maxSubscriptionsPerConnection)
    return void replyError(ctx, conn, reqId, 'RELAY_RATE_LIMITED')
  if (!sub) {
    sub = { cursor: after, replaying: true, generation: 0, held: [], overflowed: false }
    conn.subs.set(topic, sub)
    let subs = ctx.topics.get(topic)
    if (!subs) {
      subs = new Map()
      ctx.topics.set(topic, subs)
    }
    subs.set(conn, sub)
  } else {
    sub.cursor = after
    sub.replaying = true
    sub.generation++
  }
  const current = sub
  const generation = sub.generation
  const recorded = (async () => {
    await ctx.store.subscribe(topic, conn.deviceId!)
    if (after > 0n) await ctx.store.ack(topic, conn.deviceId!, after) // resuming after a cursor: processed up to it
  })()
  recorded.then(
    () => replay(ctx, conn, reqId, topic, current, generation),
    (err: unknown) => {
      reportInternal(ctx, 'subscribe', err)
      if (current.generation === generation) {
        current.replaying = false
        current.held = []
      }
      replyError(ctx, conn, reqId, storeErrorCode(err))
    },
  )
}

/**
 * UNSUBSCRIBE: stops live deliveries of `topic` (lowercase) to this connection; always OK(0).
 *
 * @example handleUnsubscribe(ctx, conn, { reqId: 2, topic })
 */
export function handleUnsubscribe(
  ctx: RelayContext,
  conn: RelayConnection,
  { reqId, topic }: { reqId: number; topic: Hex },
): void {
  if (conn.subs?.delete(topic)) {
    const subs = ctx.topics.get(topic)
    subs?.delete(conn)
    if (subs?.size === 0) ctx.topics.delete(topic)
  }
  sendFrame(ctx, conn, { type: 'ok', reqId, value: 0n })
}

/**
 * Fans a committed envelope out with DELIVER to every live subscriber of `topic` but its publisher (`from`), in
 * seq order: subscribers already past `seq` skip it, subscribers still replaying hold it for the end of their
 * replay.
 *
 * @example deliver(ctx, { topic, seq, bytes, from: conn })
 */
export function deliver(
  ctx: RelayContext,
  {
    topic,
    seq,
    bytes,
    from,
  }: { topic: Hex; seq: bigint; bytes: Uint8Array; from: RelayConnection | undefined },
): void {
  const subs = ctx.topics.get(topic)
  if (!subs) return
  let frame: Uint8Array | undefined
  const notify = ctx.events.listenerCount('delivered') > 0
  for (const [conn, sub] of subs) {
    if (conn === from || seq <= sub.cursor) continue
    if (sub.replaying) {
      if (sub.held.length < REPLAY_PAGE) sub.held.push({ seq, bytes })
      else sub.overflowed = true
      continue
    }
    frame ??= encodeRelayFrame({ type: 'deliver', topic, seq, envelope: bytes })
    sub.cursor = seq
    sendBytes(ctx, conn, frame)
    if (notify) ctx.events.emit('delivered', { topic, seq, deviceId: conn.deviceId! })
  }
}

/**
 * Sends stored envelopes after `sub.cursor` page by page (yielding between pages), then OK(head), then what was held
 * for it meanwhile, and goes live. Each step reads the head before the page: everything up to that head was
 * committed before the page was read, so the cursor may skip to it (pruned envelopes leave gaps), and everything
 * committed later was held (or, past `REPLAY_PAGE`, is read in one more step).
 */
async function replay(
  ctx: RelayContext,
  conn: RelayConnection,
  reqId: number,
  topic: Hex,
  sub: Subscription,
  generation: number,
): Promise<void> {
  const stale = () => conn.closing || ctx.isStopped() || conn.subs?.get(topic) !== sub
  if (stale()) return
  if (sub.generation !== generation)
    return void sendFrame(ctx, conn, { type: 'ok', reqId, value: sub.cursor })
  if (conn.ws.bufferedAmount > ctx.limits.maxBufferedBytes / 2) {
    setTimeout(() => void replay(ctx, conn, reqId, topic, sub, generation), 10)
    return
  }
  sub.overflowed = false
  let head: bigint
  let page: { seq: bigint; bytes: Uint8Array }[]
  try {
    head = await ctx.store.head(topic)
    page = await ctx.store.readAfter(topic, sub.cursor, REPLAY_PAGE)
  } catch (err) {
    if (stale() || sub.generation !== generation) return
    reportInternal(ctx, 'readAfter', err)
    sub.replaying = false
    sub.held = []
    return void replyError(ctx, conn, reqId, storeErrorCode(err))
  }
  if (stale()) return
  if (sub.generation !== generation)
    return void sendFrame(ctx, conn, { type: 'ok', reqId, value: sub.cursor })
  const notify = ctx.events.listenerCount('delivered') > 0
  const send = (seq: bigint, bytes: Uint8Array) => {
    sendFrame(ctx, conn, { type: 'deliver', topic, seq, envelope: bytes })
    sub.cursor = seq
    if (notify) ctx.events.emit('delivered', { topic, seq, deviceId: conn.deviceId! })
  }
  let sent = 0
  for (const { seq, bytes } of page)
    if (seq > sub.cursor) {
      send(seq, bytes)
      sent++
    }
  if (ctx.ids && sent > 0) tapIds(ctx, { kind: 'fetch', device: conn.deviceId!, topic, count: sent })
  if (page.length === REPLAY_PAGE || sub.overflowed) {
    if (sub.overflowed) sub.held = []
    setImmediate(() => void replay(ctx, conn, reqId, topic, sub, generation))
    return
  }
  // Caught up with everything committed before the page was read; the rest was held.
  if (head > sub.cursor) sub.cursor = head
  sub.replaying = false
  sendFrame(ctx, conn, { type: 'ok', reqId, value: head })
  const held = sub.held
  sub.held = []
  for (const { seq, bytes } of held) if (seq > sub.cursor) send(seq, bytes)
}
