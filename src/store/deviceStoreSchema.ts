/** The device store's tables, their row types and the migrations that bring an older file up to date. */
import type Database from 'better-sqlite3'

const SCHEMA = `
create table if not exists groups (
  group_id text primary key, peer text not null, ciphersuite text not null,
  state blob not null, updated_at integer not null);
create index if not exists groups_peer on groups(peer);
create table if not exists key_packages (
  ref text primary key, public blob not null, private blob not null, created_at integer not null);
create table if not exists seq_out (conversation text primary key, last_seq integer not null);
create table if not exists seq_in (
  conversation text not null, sender text not null, device text not null, last_seq integer not null,
  primary key (conversation, sender, device));
create table if not exists cursors (topic text primary key, cursor integer not null);
create table if not exists processed (envelope_id text primary key, verdict text not null, at integer not null);
create table if not exists messages (
  id text primary key, conversation text not null, direction text not null, sender text not null,
  device text not null, seq integer not null, sent_at integer not null, body blob not null,
  report text not null, received_at integer not null,
  leaf text, state text not null, cursor integer, delivered integer not null default 0,
  receipt text, envelope blob, updated_at integer not null);
create index if not exists messages_conv on messages(conversation, received_at);
create index if not exists messages_leaf on messages(leaf);
create index if not exists messages_state on messages(state);
create table if not exists log_anchors_pending (hash text primary key, idx integer not null, at integer not null);
create table if not exists delivery_receipts (
  message_leaf text not null, conversation text not null, account text not null, device text not null,
  receipt_id text not null, received_at integer not null, primary key (message_leaf, device));
`

/**
 * Creates the tables of a device store that lacks them and adds the columns later versions introduced (verdicts;
 * the content type of messages, `text` for those stored before delivery receipts;
 * the last-resort mark and retirement time of key packages, 0 and NULL for the one-time ones stored before).
 *
 * @example migrateDeviceStore(new Database('state.sqlite'))
 */
export function migrateDeviceStore(db: Database.Database): void {
  db.exec(SCHEMA)
  const columns = db.pragma('table_info(messages)') as { name: string }[]
  if (!columns.some((c) => c.name === 'verdict'))
    db.exec(
      'alter table messages add column verdict text; alter table messages add column verdict_reason text;',
    )
  if (!columns.some((c) => c.name === 'content_type'))
    db.exec("alter table messages add column content_type text not null default 'text';")
  if (!columns.some((c) => c.name === 'history')) db.exec('alter table messages add column history text;')
  const kpColumns = db.pragma('table_info(key_packages)') as { name: string }[]
  if (!kpColumns.some((c) => c.name === 'last_resort'))
    db.exec(
      'alter table key_packages add column last_resort integer not null default 0; alter table key_packages add column retired_at integer;',
    )
}

/** A `groups` row. @example const row = db.prepare('select * from groups').get() as GroupRow */
export type GroupRow = {
  group_id: string
  peer: string
  ciphersuite: string
  state: Buffer
  updated_at: number
}
/**
 * Statements of the key-package rows: insert one, retire the current last-resort one, read the current one.
 *
 * @example db.prepare(KEY_PACKAGE_SQL.retireLastResort).run(Date.now())
 */
export const KEY_PACKAGE_SQL = {
  insert: 'insert into key_packages (ref, public, private, created_at, last_resort) values (?, ?, ?, ?, ?)',
  retireLastResort: 'update key_packages set retired_at = ? where last_resort = 1 and retired_at is null',
  lastResort: 'select * from key_packages where last_resort = 1 and retired_at is null',
}

/** A `key_packages` row. @example const row = db.prepare('select * from key_packages').get() as KeyPackageRow */
export type KeyPackageRow = {
  ref: string
  public: Buffer
  private: Buffer
  created_at: number
  last_resort: number
  retired_at: number | null
}
/** A `messages` row. @example const row = db.prepare('select * from messages').get() as MessageRow */
export type MessageRow = {
  id: string
  conversation: string
  direction: string
  sender: string
  device: string
  seq: bigint
  sent_at: bigint
  body: Buffer
  report: string
  received_at: bigint
  leaf: string | null
  state: string
  cursor: bigint | null
  delivered: bigint
  receipt: string | null
  envelope: Buffer | null
  updated_at: bigint
  verdict: string | null
  verdict_reason: string | null
  content_type: string
  /** JSON of `HistoryMark` for a message imported from a history archive, else null. */
  history: string | null
}
