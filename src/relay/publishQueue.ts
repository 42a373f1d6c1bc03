/** The publish queue: PUBLISH frames of one event-loop turn (or of one commit's flight) are committed in one append, then OK and DELIVER. */
import type { Hex } from 'viem'
import { decodeEnvelope, type Envelope } from '../protocol/envelope.js'
import { replyError, reportInternal, sendFrame } from './connection.js'
import type { PendingPublish, PublishQueueState, RelayConnection, RelayContext } from './context.js'
import { RelayInternalError, RelayUnavailableError } from './errors.js'
import { type RelayTapEvent, tapIds } from './idsTap.js'
import { storeErrorCode } from './storeErrorCode.js'
import { deliver } from './topics.js'

/** The publisher recorded for envelopes the relay produces itself. @example SYSTEM_PUBLISHER // 0x000…000 */
export const SYSTEM_PUBLISHER: Hex = `0x${'00'.repeat(32)}`

/**
 * An empty queue.
 *
 * @example const ctx = { ...rest, publishes: createPublishQueueState() }
 */
export function createPublishQueueState(): PublishQueueState {
  return { pending: [], scheduled: false, committing: undefined }
}

/**
 * PUBLISH: the envelope must decode (id check, `maxPayloadBytes`); then it joins the queue. The queue-depth check
 * (`maxQueueDepth`) and the answer (OK with its seq, or RELAY_QUEUE_FULL) come with the commit.
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
  enqueuePublish(ctx, {
    conn,
    reqId,
    // A copy: `bytes` is a view into the ws receive buffer.
    entry: {
      topic: envelope.topic,
      id: envelope.id,
      bytes: new Uint8Array(bytes),
      publisher: conn.deviceId!,
    },
    kind: envelope.kind,
  })
}

/**
 * Queues a publish for the next group commit (`entry.topic` and `entry.id` lowercase): at the end of this
 * event-loop turn, or when the commit in flight ends.
 *
 * @example enqueuePublish(ctx, { conn: undefined, reqId: 0, entry, kind: 'receipt', resolve, reject })
 */
export function enqueuePublish(ctx: RelayContext, pending: PendingPublish): void {
  const queue = ctx.publishes
  queue.pending.push(pending)
  if (!queue.scheduled && !queue.committing) {
    queue.scheduled = true
    setImmediate(() => void flushPublishes(ctx))
  }
}

/**
 * Starts the group commit of everything queued, unless a commit is in flight (its end starts the next one), and
 * resolves when the queue is empty and no commit is in flight (on stop(), so nothing queued is lost). Commits run
 * one at a time, each one `store.append` of its publishes in queue order, so appends never reorder, and no publish
 * is answered before the append holding it resolved (durable).
 *
 * @example await flushPublishes(ctx)
 */
export async function flushPublishes(ctx: RelayContext): Promise<void> {
  const queue = ctx.publishes
  queue.scheduled = false
  while (queue.committing || queue.pending.length > 0) {
    if (!queue.committing) {
      const batch = queue.pending
      queue.pending = []
      queue.committing = commitBatch(ctx, batch).finally(() => {
        queue.committing = undefined
      })
    }
    await queue.committing
  }
}

/**
 * One group commit: publishes whose topic would hold `maxQueueDepth` envelopes get RELAY_QUEUE_FULL; one
 * `store.append` for the rest; then each gets OK(seq) and, unless it was a duplicate (same topic and id: OK with
 * the existing seq, no second DELIVER), a 'published' event and DELIVER to the topic's subscribers. A failed store
 * call answers every publish with RELAY_INTERNAL (RELAY_UNAVAILABLE when the store could not be reached). Never rejects.
 */
async function commitBatch(ctx: RelayContext, batch: PendingPublish[]): Promise<void> {
  let accepted: PendingPublish[]
  let results: { seq: bigint; duplicate: boolean }[]
  try {
    const topics = [...new Set(batch.map((p) => p.entry.topic))]
    const stored = await Promise.all(topics.map((t) => ctx.store.depth(t)))
    const depth = new Map(topics.map((t, i) => [t, stored[i]!]))
    accepted = []
    for (const p of batch) {
      const d = depth.get(p.entry.topic)!
      // The relay's own envelopes (no connection) are not subject to the queue limit.
      if (p.conn && d >= ctx.limits.maxQueueDepth) {
        if (ctx.ids) tapIds(ctx, { kind: 'queue', topic: p.entry.topic, depth: d })
        replyError(ctx, p.conn, p.reqId, 'RELAY_QUEUE_FULL')
      } else {
        depth.set(p.entry.topic, d + 1)
        accepted.push(p)
      }
    }
    results = accepted.length > 0 ? await ctx.store.append(accepted.map((p) => p.entry)) : []
  } catch (err) {
    reportInternal(ctx, 'append', err)
    // A replicated store that cannot be reached refuses with its own transient code (the client's outbox retries).
    const code = storeErrorCode(err)
    for (const p of batch) {
      if (p.conn) replyError(ctx, p.conn, p.reqId, code)
      p.reject?.(
        code === 'RELAY_UNAVAILABLE'
          ? new RelayUnavailableError({ cause: err })
          : new RelayInternalError({ operation: 'append', cause: err }),
      )
    }
    return
  }
  // The IDS hears one `publish` per device and topic per commit, its `count` the publishes folded in (docs/ids.md §7).
  const taps = ctx.ids ? new Map<string, PublishTap>() : undefined
  for (let i = 0; i < accepted.length; i++) {
    const p = accepted[i]!
    const { seq, duplicate } = results[i]!
    if (p.conn) sendFrame(ctx, p.conn, { type: 'ok', reqId: p.reqId, value: seq })
    p.resolve?.(seq)
    if (duplicate) continue
    const { topic, id, bytes, publisher } = p.entry
    if (ctx.events.listenerCount('published') > 0)
      ctx.events.emit('published', { topic, seq, id, kind: p.kind, bytes: bytes.length, publisher })
    if (taps && p.conn?.deviceId) foldPublish(ctx, taps, p.conn, topic, publisher, bytes.length)
    if (ctx.fanout) ctx.fanout({ topic, seq, bytes, from: p.conn })
    else deliver(ctx, { topic, seq, bytes, from: p.conn })
  }
  if (taps)
    for (const tap of taps.values()) {
      const { count, ...one } = tap
      tapIds(ctx, count === 1 ? one : tap) // a single publish reads as it always did
    }
}

type PublishTap = Extract<RelayTapEvent, { kind: 'publish' }> & { count: number }

/** Adds one committed publish to its device and topic's tap event (`recipients`: this relay's live subscribers, the publisher's connection aside). */
function foldPublish(
  ctx: RelayContext,
  taps: Map<string, PublishTap>,
  conn: RelayConnection,
  topic: Hex,
  publisher: Hex,
  bytes: number,
): void {
  const subs = ctx.topics.get(topic)
  const recipients = (subs?.size ?? 0) - (subs?.has(conn) ? 1 : 0)
  const key = `${conn.deviceId}${topic}`
  const tap = taps.get(key)
  if (tap) {
    tap.count += 1
    tap.recipients += recipients
    tap.bytes += bytes
  } else {
    const account = (conn.account ?? publisher).toLowerCase()
    taps.set(key, { kind: 'publish', device: conn.deviceId!, account, topic, recipients, bytes, count: 1 })
  }
}
