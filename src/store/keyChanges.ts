/** The device store's key-change alerts: how far each contact's device set was followed, and every alert emitted. */
import type Database from 'better-sqlite3'

/**
 * One key-change alert as stored: a change of a contact's device set in one registry transaction.
 *
 * @example const row: StoredKeyChange = listKeyChanges(store.db)[0]
 */
export type StoredKeyChange = {
  /** `txHash:account`, lower case: one registry transaction changes one account's set. */
  id: string
  account: string
  kind: 'added' | 'revoked' | 'rotated'
  added: string[]
  revoked: string[]
  block: bigint
  txHash: string
  fingerprintBefore: string
  fingerprintAfter: string
  emittedAt: number
}

type KeyChangeRow = {
  id: string
  account: string
  kind: string
  added: string
  revoked: string
  block: bigint
  tx_hash: string
  fingerprint_before: string
  fingerprint_after: string
  emitted_at: number
}

/**
 * Creates the two tables if they are missing (an older store gets them on first use).
 *
 * @example ensureKeyChangeTables(store.db)
 */
export function ensureKeyChangeTables(db: Database.Database): void {
  db.exec(`
create table if not exists key_change_contacts (account text primary key, seen_to integer not null);
create table if not exists key_changes (
  id text primary key, account text not null, kind text not null, added text not null, revoked text not null,
  block integer not null, tx_hash text not null, fingerprint_before text not null, fingerprint_after text not null,
  emitted_at integer not null);
create index if not exists key_changes_account on key_changes(account, block);
`)
}

/**
 * Every stored conversation's group id and peer column (`''` for a group), without opening the sealed states.
 *
 * @example for (const { groupId } of storedConversations(store.db)) console.log(groupId)
 */
export function storedConversations(db: Database.Database): { groupId: string; peer: string }[] {
  return db.prepare('select group_id as groupId, peer from groups order by group_id').all() as {
    groupId: string
    peer: string
  }[]
}

/**
 * The last block up to which `account`'s changes were alerted, or undefined for an account never followed.
 *
 * @example const seenTo = contactSeenTo(store.db, bob)
 */
export function contactSeenTo(db: Database.Database, account: string): bigint | undefined {
  const row = db
    .prepare('select seen_to from key_change_contacts where account = ?')
    .safeIntegers(true)
    .get(account.toLowerCase()) as { seen_to: bigint } | undefined
  return row?.seen_to
}

/**
 * Records that `account`'s changes up to `block` were alerted (never moves backwards).
 *
 * @example setContactSeenTo(store.db, bob, 120n)
 */
export function setContactSeenTo(db: Database.Database, account: string, block: bigint): void {
  db.prepare(
    `insert into key_change_contacts (account, seen_to) values (?, ?)
     on conflict(account) do update set seen_to = max(seen_to, excluded.seen_to)`,
  ).run(account.toLowerCase(), block)
}

/**
 * Records an alert; false when one with the same id was recorded before (it was emitted then).
 *
 * @example if (putKeyChange(store.db, change)) events.emit('keyChange', change)
 */
export function putKeyChange(db: Database.Database, change: StoredKeyChange): boolean {
  const result = db
    .prepare(
      `insert or ignore into key_changes (id, account, kind, added, revoked, block, tx_hash, fingerprint_before,
       fingerprint_after, emitted_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      change.id.toLowerCase(),
      change.account.toLowerCase(),
      change.kind,
      JSON.stringify(change.added),
      JSON.stringify(change.revoked),
      change.block,
      change.txHash,
      change.fingerprintBefore,
      change.fingerprintAfter,
      change.emittedAt,
    )
  return result.changes === 1
}

/**
 * Whether an alert with this id was recorded.
 *
 * @example hasKeyChange(store.db, `${txHash}:${account}`)
 */
export function hasKeyChange(db: Database.Database, id: string): boolean {
  return db.prepare('select 1 from key_changes where id = ?').get(id.toLowerCase()) !== undefined
}

/**
 * The recorded alerts (of one account, or all), oldest block first.
 *
 * @example listKeyChanges(store.db, { account: bob }).map((c) => c.kind)
 */
export function listKeyChanges(
  db: Database.Database,
  { account }: { account?: string } = {},
): StoredKeyChange[] {
  const rows = (
    account
      ? db
          .prepare('select * from key_changes where account = ? order by block, emitted_at, id')
          .safeIntegers(true)
          .all(account.toLowerCase())
      : db.prepare('select * from key_changes order by block, emitted_at, id').safeIntegers(true).all()
  ) as KeyChangeRow[]
  return rows.map((r) => ({
    id: r.id,
    account: r.account,
    kind: r.kind as StoredKeyChange['kind'],
    added: JSON.parse(r.added) as string[],
    revoked: JSON.parse(r.revoked) as string[],
    block: BigInt(r.block),
    txHash: r.tx_hash,
    fingerprintBefore: r.fingerprint_before,
    fingerprintAfter: r.fingerprint_after,
    emittedAt: Number(r.emitted_at),
  }))
}
