/** Retention: prune the store, and tell publishers with EXPIRED which envelopes expired before being acked. */
import type { Hex } from 'viem'
import type { RelayExpiryNotice } from '../store/relayStore.js'
import { reportInternal, sendFrame } from './connection.js'
import type { RelayConnection, RelayContext } from './context.js'
import { tapIds } from './idsTap.js'

/**
 * One retention pass (docs/protocol.md §9.4): `store.prune` with the context's clock and `retentionMs`, then an
 * 'expired' event and an EXPIRED frame to every open connection of the publisher for each notice it recorded
 * (publishers that are offline get theirs at their next AUTH, see {@link sendExpiryNotices}). Returns how many
 * envelopes were removed; a store failure is reported as 'error' and counts as 0.
 *
 * @example setInterval(() => void runRetention(ctx), ctx.limits.pruneIntervalMs)
 */
export async function runRetention(ctx: RelayContext): Promise<number> {
  let result: { removed: number; expired: RelayExpiryNotice[] }
  try {
    result = await ctx.store.prune(ctx.now(), ctx.limits.retentionMs)
  } catch (err) {
    reportInternal(ctx, 'prune', err)
    return 0
  }
  if (ctx.ids) {
    const perTopic = new Map<string, number>()
    for (const n of result.expired) perTopic.set(n.topic, (perTopic.get(n.topic) ?? 0) + 1)
    for (const [topic, count] of perTopic) tapIds(ctx, { kind: 'expiry', topic, count })
  }
  for (const notice of result.expired) {
    if (ctx.events.listenerCount('expired') > 0) {
      const { topic, seq, id, publisher, recipients } = notice
      ctx.events.emit('expired', { topic, seq, id, publisher, recipients })
    }
    for (const conn of ctx.devices.get(notice.publisher)?.conns ?? []) sendExpired(ctx, conn, notice)
  }
  return result.removed
}

/**
 * Sends the authenticated device on `conn` an EXPIRED frame for every expiry notice the store keeps for it (on
 * AUTH_OK: notices are delivered at least once, for one retention period; clients deduplicate by envelope id).
 *
 * @example sendFrame(ctx, conn, { type: 'auth-ok', account, deviceId }); await sendExpiryNotices(ctx, conn)
 */
export async function sendExpiryNotices(ctx: RelayContext, conn: RelayConnection): Promise<void> {
  let notices: RelayExpiryNotice[]
  try {
    notices = await ctx.store.expiryNotices(conn.deviceId as Hex)
  } catch (err) {
    reportInternal(ctx, 'expiryNotices', err)
    return
  }
  for (const notice of notices) sendExpired(ctx, conn, notice)
}

function sendExpired(ctx: RelayContext, conn: RelayConnection, notice: RelayExpiryNotice): void {
  const { topic, seq, id, expiredAt, recipients } = notice
  sendFrame(ctx, conn, {
    type: 'expired',
    topic,
    seq,
    id,
    expiredAt,
    recipients: recipients.slice(0, 0xffff),
  })
}
