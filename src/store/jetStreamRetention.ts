/** Relay store on JetStream: inbox claims, retention (docs/protocol.md §9.4) and expiry notices, as in relayRetention.ts. */
import type { Hex } from 'viem'
import { currentValue, envelopeHeaders, type JetStreamParts, keysOf, raiseTo } from './jetStreamLayout.js'
import type { RelayExpiryNotice, RelayPruneResult } from './relayRetention.js'

const SYSTEM_PUBLISHER: Hex = `0x${'00'.repeat(32)}`

/**
 * Makes `claimant` (or the owner recorded first) the only recipient of inbox `t`; forgets and returns the others.
 *
 * @example await claimInboxOn(parts, topicToken, ownerToken) // ['0xbb…']
 */
export async function claimInboxOn(p: JetStreamParts, t: string, claimant: string): Promise<Hex[]> {
  try {
    await p.inboxes.create(t, claimant)
  } catch {
    // The first owner stays.
  }
  const owner = (await currentValue(p.inboxes, t))?.value ?? claimant
  const others: Hex[] = []
  for (const key of (await keysOf(p.acks, `${t}.*`)).sort()) {
    const device = key.slice(t.length + 1)
    if (device === owner) continue
    await p.acks.delete(key)
    others.push(`0x${device}`)
  }
  return others
}

/**
 * One retention pass over the stream: drops what inbox owners acked, deletes every envelope older than
 * `retentionMs` (and, per topic, everything before it) with an expiry notice for each one an intended recipient had
 * not acked, forgets the ids of expired envelopes and drops notices older than `retentionMs`. It reads every stored
 * envelope's headers (batched) and every id key of the bucket: O(stored messages) work per pass.
 *
 * @example const { removed, expired } = await pruneOn(parts, Date.now(), 30 * 86_400_000)
 */
export async function pruneOn(
  p: JetStreamParts,
  now: number,
  retentionMs: number,
): Promise<RelayPruneResult> {
  let removed = 0
  const stored = await scan(p)
  // A topic's head is its last stored message's seq: before deleting any of its messages, `heads` keeps it.
  const kept = new Set<string>()
  const keepHead = async (t: string) => {
    const last = stored.get(t)?.at(-1)
    if (last && !kept.has(t)) await raiseTo(p.heads, t, last.seq)
    kept.add(t)
  }
  // 1. Inbox topics: what their owner acked.
  for (const t of await keysOf(p.inboxes, '*')) {
    const owner = (await currentValue(p.inboxes, t))?.value
    const acked = owner ? BigInt((await currentValue(p.acks, `${t}.${owner}`))?.value ?? '0') : 0n
    const left: Stored[] = []
    if ((stored.get(t) ?? []).some((m) => m.seq <= acked)) await keepHead(t)
    for (const m of stored.get(t) ?? []) {
      if (m.seq <= acked && (await p.jsm.streams.deleteMessage(p.stream, m.streamSeq, false))) removed++
      else left.push(m)
    }
    stored.set(t, left)
  }
  // 2. Anything older than retention.
  const cutoff = now - retentionMs
  const expired: RelayExpiryNotice[] = []
  for (const t of [...stored.keys()].sort()) {
    const msgs = stored.get(t)!
    let through = 0n
    for (const m of msgs) if (m.at < cutoff && m.seq > through) through = m.seq
    if (through === 0n) continue
    await keepHead(t)
    const recipients = await intendedRecipients(p, t)
    for (const m of msgs) {
      if (m.seq > through) continue
      if (m.publisher !== SYSTEM_PUBLISHER) {
        const missing = recipients
          .filter((r) => r.acked < m.seq && r.device !== m.publisher)
          .map((r) => r.device)
        if (missing.length > 0) {
          const notice = {
            publisher: m.publisher,
            topic: `0x${t}` as Hex,
            seq: m.seq,
            id: m.id,
            expiredAt: now,
          }
          const key = `${m.publisher.slice(2)}.${t}.${m.seq.toString().padStart(20, '0')}`
          try {
            await p.notices.create(key, JSON.stringify({ id: m.id, at: now, recipients: missing }))
            expired.push({ ...notice, recipients: missing })
          } catch {
            // Already noticed (on conflict do nothing).
          }
        }
      }
      if (await p.jsm.streams.deleteMessage(p.stream, m.streamSeq, false)) removed++
    }
  }
  // Ids of expired envelopes (also of inbox envelopes dropped by acks) are forgotten with them.
  for (const key of await keysOf(p.ids, '>')) {
    const at = Number((await currentValue(p.ids, key))?.value.split(' ')[1] ?? Number.POSITIVE_INFINITY)
    if (at < cutoff) await p.ids.delete(key)
  }
  // 3. Notices are kept one retention period, like envelopes.
  for (const key of await keysOf(p.notices, '>')) {
    const v = await currentValue(p.notices, key)
    if (v && (JSON.parse(v.value) as { at: number }).at < cutoff) await p.notices.delete(key)
  }
  return { removed, expired }
}

/**
 * The expiry notices kept for publisher `d` (token), oldest first (then by topic and seq).
 *
 * @example await noticesOf(parts, publisherToken)
 */
export async function noticesOf(p: JetStreamParts, d: string): Promise<RelayExpiryNotice[]> {
  const out: RelayExpiryNotice[] = []
  for (const key of await keysOf(p.notices, `${d}.*.*`)) {
    const v = await currentValue(p.notices, key)
    if (!v) continue
    const [, t, seq] = key.split('.')
    const { id, at, recipients } = JSON.parse(v.value) as { id: Hex; at: number; recipients: Hex[] }
    out.push({ publisher: `0x${d}`, topic: `0x${t}`, seq: BigInt(seq!), id, expiredAt: at, recipients })
  }
  return out.sort((a, b) =>
    a.expiredAt !== b.expiredAt
      ? a.expiredAt - b.expiredAt
      : a.topic !== b.topic
        ? a.topic < b.topic
          ? -1
          : 1
        : Number(a.seq - b.seq),
  )
}

type Stored = { streamSeq: number; seq: bigint; id: Hex; publisher: Hex; at: number }

/**
 * Every stored envelope by topic token, in seq order: read through one ordered consumer of headers only, in batches
 * (the payloads are not needed), up to the stream's last sequence at the start. One request per stored message
 * instead made a pass over 100,000 envelopes outlast the prune interval (the soak benchmark).
 */
async function scan(p: JetStreamParts): Promise<Map<string, Stored[]>> {
  const out = new Map<string, Stored[]>()
  const { state } = await p.jsm.streams.info(p.stream)
  if (state.messages === 0) return out
  const prefix = p.subject(`0x${'00'.repeat(32)}`).slice(0, -64)
  const consumer = await p.js.consumers.get(p.stream, {
    filter_subjects: `${prefix}*`,
    deliver_policy: 'by_start_sequence' as never,
    opt_start_seq: state.first_seq,
    headers_only: true,
  })
  for (let done = false; !done; ) {
    let got = 0
    for await (const m of await consumer.fetch({ max_messages: 1024, expires: 2_000 })) {
      got++
      const h = m.headers
      if (h) {
        const t = m.subject.slice(prefix.length)
        const list = out.get(t) ?? []
        list.push({ streamSeq: m.seq, ...envelopeHeaders(h) })
        out.set(t, list)
      }
      if (m.seq >= state.last_seq || m.info.pending === 0) {
        done = true
        break // rather than wait for the fetch to expire
      }
    }
    if (got === 0) done = true // nothing left to read
  }
  for (const list of out.values()) list.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
  return out
}

/** An inbox's owner, else every device that subscribed to the topic, with its ack cursor. */
async function intendedRecipients(p: JetStreamParts, t: string): Promise<{ device: Hex; acked: bigint }[]> {
  const owner = (await currentValue(p.inboxes, t))?.value
  if (owner)
    return [
      { device: `0x${owner}`, acked: BigInt((await currentValue(p.acks, `${t}.${owner}`))?.value ?? '0') },
    ]
  return acksOn(p, t)
}

/**
 * Every recorded recipient of topic token `t` with its ack cursor, by device.
 *
 * @example await acksOn(parts, topicToken) // [{ device: '0xaa…', acked: 3n }]
 */
export async function acksOn(p: JetStreamParts, t: string): Promise<{ device: Hex; acked: bigint }[]> {
  const out: { device: Hex; acked: bigint }[] = []
  for (const key of (await keysOf(p.acks, `${t}.*`)).sort()) {
    const v = await currentValue(p.acks, key)
    if (v) out.push({ device: `0x${key.slice(t.length + 1)}`, acked: BigInt(v.value) })
  }
  return out
}
