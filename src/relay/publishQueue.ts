/** The publish queue: PUBLISH frames of one event-loop turn are committed in one transaction, then OK and DELIVER. */
import type { Hex } from 'viem'
import { decodeEnvelope, type Envelope } from '../protocol/envelope.js'
import { replyError, reportInternal, sendFrame } from './connection.js'
import type { PendingPublish, PublishQueueState, RelayConnection, RelayContext } from './context.js'
import { RelayInternalError } from './errors.js'
import { deliver } from './topics.js'

/** The publisher recorded for envelopes the relay produces itself. @example SYSTEM_PUBLISHER // 0x000…000 */
export const SYSTEM_PUBLISHER: Hex = `0x${'00'.repeat(32)}`

/**
 * An empty queue.
 *
 * @example const ctx = { ...rest, publishes: createPublishQueueState() }
 */
export function createPublishQueueState(): PublishQueueState {
  return { pending: [], depth: new Map(), scheduled: false }
}

/**
 * PUBLISH: the envelope must decode (id check, `maxPayloadBytes`) and its topic hold fewer than `maxQueueDepth`
 * envelopes, counting those waiting in this turn's commit; then it joins the queue. The answer (OK with its seq)
 * comes after the commit.
 *
 * @example handlePublish(ctx, conn, { reqId: 7, envelope: bytes })
 */
export function handlePublish(
  ctx: RelayContext,
  conn: RelayConnection,
  { reqId, envelope: bytes }: { reqId: number; envelope: Uint8Array },
): void {
  let envelope: Envelope
  try {
    envelope = decodeEnvelope(bytes, { maxPayloadBytes: ctx.limits.maxPayloadBytes })
  } catch {
    return void replyError(ctx, conn, reqId, 'RELAY_ENVELOPE_INVALID')
  }
  const topic = envelope.topic
  const depth = ctx.store.depth(topic) + (ctx.publishes.depth.get(topic) ?? 0)
  if (depth >= ctx.limits.maxQueueDepth) return void replyError(ctx, conn, reqId, 'RELAY_QUEUE_FULL')
  enqueuePublish(ctx, {
    conn,
    reqId,
    // A copy: `bytes` is a view into the ws receive buffer.
    entry: { topic, id: envelope.id, bytes: new Uint8Array(bytes), publisher: conn.deviceId! },
    kind: envelope.kind,
  })
}

/**
 * Queues a publish for the group commit at the end of this event-loop turn (`entry.topic` and `entry.id` lowercase).
 *
 * @example enqueuePublish(ctx, { conn: undefined, reqId: 0, entry, kind: 'receipt', resolve, reject })
 */
export function enqueuePublish(ctx: RelayContext, pending: PendingPublish): void {
  const queue = ctx.publishes
  queue.pending.push(pending)
  queue.depth.set(pending.entry.topic, (queue.depth.get(pending.entry.topic) ?? 0) + 1)
  if (!queue.scheduled) {
    queue.scheduled = true
    setImmediate(() => flushPublishes(ctx))
  }
}

/**
 * Group commit: one `store.append` for every queued publish, in queue order; then each gets OK(seq) and, unless
 * it was a duplicate (same topic and id: OK with the existing seq, no second DELIVER), a 'published' event and
 * DELIVER to the topic's subscribers. A failed append answers every publish with RELAY_INTERNAL.
 *
 * @example flushPublishes(ctx) // on stop(), so nothing queued is lost
 */
export function flushPublishes(ctx: RelayContext): void {
  const queue = ctx.publishes
  queue.scheduled = false
  const batch = queue.pending
  if (batch.length === 0) return
  queue.pending = []
  queue.depth = new Map()
  let results: { seq: bigint; duplicate: boolean }[]
  try {
    results = ctx.store.append(batch.map((p) => p.entry))
  } catch (err) {
    reportInternal(ctx, 'append', err)
    for (const p of batch) {
      if (p.conn) replyError(ctx, p.conn, p.reqId, 'RELAY_INTERNAL')
      p.reject?.(new RelayInternalError({ operation: 'append', cause: err }))
    }
    return
  }
  for (let i = 0; i < batch.length; i++) {
    const p = batch[i]!
    const { seq, duplicate } = results[i]!
    if (p.conn) sendFrame(ctx, p.conn, { type: 'ok', reqId: p.reqId, value: seq })
    p.resolve?.(seq)
    if (duplicate) continue
    const { topic, id, bytes, publisher } = p.entry
    if (ctx.events.listenerCount('published') > 0)
      ctx.events.emit('published', { topic, seq, id, kind: p.kind, bytes: bytes.length, publisher })
    deliver(ctx, { topic, seq, bytes, from: p.conn })
  }
}
