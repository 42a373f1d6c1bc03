/** Relay retention on SQLite: inbox owners, the pruning rule (docs/protocol.md §9.4) and expiry notices. */
import type Database from 'better-sqlite3'
import type { Hex } from 'viem'

/**
 * A stored envelope was deleted by retention while some of its intended recipients had not acked it. Kept for the
 * publisher (one retention period) and delivered to it as an EXPIRED frame.
 *
 * @example const n: RelayExpiryNotice = { publisher, topic, seq: 3n, id, expiredAt: Date.now(), recipients: [bob] }
 */
export type RelayExpiryNotice = {
  /** The device that published the envelope. */
  publisher: Hex
  topic: Hex
  seq: bigint
  /** The envelope id. */
  id: Hex
  /** When retention deleted it (unix ms). */
  expiredAt: number
  /** The intended recipients that had not acked it, in device id order. */
  recipients: Hex[]
}

/**
 * What one pruning pass did: how many stored envelopes it removed, and the expiry notices it recorded.
 *
 * @example const { removed, expired } = await store.prune(Date.now(), limits.retentionMs)
 */
export type RelayPruneResult = { removed: number; expired: RelayExpiryNotice[] }

/**
 * Tables added by retention (created on open; older databases get them on their next open).
 *
 * @example db.exec(RETENTION_SCHEMA)
 */
export const RETENTION_SCHEMA = `
create table if not exists inbox_owners (topic blob primary key, device blob not null) without rowid;
create table if not exists expiry_notices (
  publisher blob not null, topic blob not null, seq integer not null, id blob not null, at integer not null,
  recipients blob not null, primary key (publisher, topic, seq)) without rowid;
create index if not exists expiry_notices_at on expiry_notices (at);
`

/** The relay's own envelopes (receipts) have this publisher; nobody is notified of their expiry. */
const SYSTEM_PUBLISHER = Buffer.alloc(32)

/**
 * Prepared statements of retention, bound to `db`.
 *
 * @example const r = prepareRetention(db); r.claimInbox(topic, owner)
 */
export function prepareRetention(db: Database.Database) {
  const big = <T extends Database.Statement>(s: T): T => s.safeIntegers(true) as T
  const s = {
    setOwner: db.prepare(
      'insert into inbox_owners (topic, device) values (?, ?) on conflict (topic) do nothing',
    ),
    owner: db.prepare('select device from inbox_owners where topic = ?'),
    others: db.prepare('select device from subscribers where topic = ? and device != ? order by device'),
    dropOthers: db.prepare('delete from subscribers where topic = ? and device != ?'),
    ackOf: big(db.prepare('select acked from subscribers where topic = ? and device = ?')),
    recipients: big(db.prepare('select device, acked from subscribers where topic = ? order by device')),
    inboxAcked: big(
      db.prepare(
        `select o.topic as topic, s.acked as through from inbox_owners o
         join subscribers s on s.topic = o.topic and s.device = o.device
         join topics t on t.topic = o.topic where s.acked > t.low`,
      ),
    ),
    clearThrough: db.prepare(
      'update envelopes set bytes = null where topic = ? and seq <= ? and bytes is not null',
    ),
    raiseLow: db.prepare('update topics set low = max(low, ?) where topic = ?'),
    expiredByTopic: big(
      db.prepare('select topic, max(seq) as through from envelopes where at < ? group by topic'),
    ),
    storedThrough: big(
      db.prepare(
        'select seq, id, publisher from envelopes where topic = ? and seq <= ? and bytes is not null order by seq',
      ),
    ),
    deleteThrough: db.prepare('delete from envelopes where topic = ? and seq <= ?'),
    insertNotice: db.prepare(
      `insert into expiry_notices (publisher, topic, seq, id, at, recipients) values (?, ?, ?, ?, ?, ?)
       on conflict do nothing`,
    ),
    noticesOf: big(
      db.prepare(
        'select topic, seq, id, at, recipients from expiry_notices where publisher = ? order by at, topic, seq',
      ),
    ),
    dropOldNotices: db.prepare('delete from expiry_notices where at < ?'),
  }

  return {
    /** Makes `owner` (or the owner recorded first) the only recipient of inbox `topic`; forgets other cursors. */
    claimInbox(topic: Buffer, claimant: Buffer): Hex[] {
      s.setOwner.run(topic, claimant)
      const { device: owner } = s.owner.get(topic) as { device: Buffer }
      const others = (s.others.all(topic, owner) as { device: Buffer }[]).map((r) => toHex(r.device))
      if (others.length > 0) s.dropOthers.run(topic, owner)
      return others
    },

    /** One pruning pass (run it inside a transaction). */
    prune(now: number, retentionMs: number): RelayPruneResult {
      let removed = 0
      // 1. Inbox topics: what their owner acked (the only intended recipient).
      for (const row of s.inboxAcked.all() as { topic: Buffer; through: bigint }[]) {
        removed += s.clearThrough.run(row.topic, row.through).changes
        s.raiseLow.run(row.through, row.topic)
      }
      // 2. Anything older than retention, with a notice for each envelope an intended recipient had not acked.
      const cutoff = now - retentionMs
      const expired: RelayExpiryNotice[] = []
      for (const row of s.expiredByTopic.all(cutoff) as { topic: Buffer; through: bigint }[]) {
        const recipients = intendedRecipients(row.topic)
        const rows = s.storedThrough.all(row.topic, row.through) as Stored[]
        for (const e of rows) {
          if (e.publisher.equals(SYSTEM_PUBLISHER)) continue
          const missing = recipients.filter((r) => r.acked < e.seq && !r.device.equals(e.publisher))
          if (missing.length === 0) continue
          const devices = Buffer.concat(missing.map((r) => r.device))
          s.insertNotice.run(e.publisher, row.topic, e.seq, e.id, now, devices)
          expired.push(notice(e.publisher, row.topic, e.seq, e.id, now, devices))
        }
        removed += rows.length
        s.deleteThrough.run(row.topic, row.through)
        s.raiseLow.run(row.through, row.topic)
      }
      // 3. Notices are kept one retention period, like envelopes.
      s.dropOldNotices.run(cutoff)
      return { removed, expired }
    },

    /** The expiry notices kept for `publisher`, oldest first. */
    noticesOf(publisher: Buffer): RelayExpiryNotice[] {
      return (
        s.noticesOf.all(publisher) as {
          topic: Buffer
          seq: bigint
          id: Buffer
          at: bigint
          recipients: Buffer
        }[]
      ).map((r) => notice(publisher, r.topic, r.seq, r.id, Number(r.at), r.recipients))
    },
  }

  /** An inbox's owner, else every device that subscribed to the topic, with its ack cursor. */
  function intendedRecipients(topic: Buffer): { device: Buffer; acked: bigint }[] {
    const owner = s.owner.get(topic) as { device: Buffer } | undefined
    if (owner) {
      const row = s.ackOf.get(topic, owner.device) as { acked: bigint } | undefined
      return [{ device: owner.device, acked: row?.acked ?? 0n }]
    }
    return s.recipients.all(topic) as { device: Buffer; acked: bigint }[]
  }
}

type Stored = { seq: bigint; id: Buffer; publisher: Buffer }

function notice(
  publisher: Buffer,
  topic: Buffer,
  seq: bigint,
  id: Buffer,
  expiredAt: number,
  devices: Buffer,
): RelayExpiryNotice {
  const recipients: Hex[] = []
  for (let at = 0; at + 32 <= devices.length; at += 32) recipients.push(toHex(devices.subarray(at, at + 32)))
  return { publisher: toHex(publisher), topic: toHex(topic), seq, id: toHex(id), expiredAt, recipients }
}

function toHex(bytes: Buffer): Hex {
  return `0x${bytes.toString('hex')}`
}
