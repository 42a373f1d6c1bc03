/** SQLite persistence for one device: MLS group states (encrypted), key packages, sequence numbers, cursors. */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { InternalError } from '../errors.js'
import { advance, type MessageState } from '../protocol/messageState.js'
import {
  type GroupRow,
  KEY_PACKAGE_SQL,
  type KeyPackageRow,
  type MessageRow,
  migrateDeviceStore,
} from './deviceStoreSchema.js'
import { messageFromRow, type StoredMessage } from './messageRows.js'

/** Label used as AES-GCM additional data for sealed rows: "sealpost/v1/device-store" || 0x00 || table || 0x00 || key. */
export const DEVICE_STORE_LABEL = 'sealpost/v1/device-store'

/** A sealed row did not decrypt: the database was modified, or opened with another device's key. */
export class DeviceStoreCorruptError extends InternalError {
  override name = 'DeviceStoreCorruptError' as const
  constructor({ table, key }: { table: string; key: string }) {
    super('Device store row failed authentication.', {
      metaMessages: [`Row: ${table}/${key}`],
      code: 'SEALPOST_STORE_CORRUPT',
    })
  }
}

/** A conversation as stored: its group id, the peer account, and the sealed ts-mls group state. */
export type StoredGroup = {
  groupId: string
  peer: string
  ciphersuite: string
  state: Uint8Array
  updatedAt: number
}
/**
 * A key package this device published, with its sealed private part. `lastResort`: the device's last-resort key
 * package (reused for every Welcome until rotated out, docs/protocol.md §3 _Key packages_).
 */
export type StoredKeyPackage = {
  ref: string
  publicPackage: Uint8Array
  privatePackage: Uint8Array
  lastResort?: boolean | undefined
}
export type { MessageState } from '../protocol/messageState.js'

export type { MessageVerdict, StoredMessage } from './messageRows.js'

/**
 * One device's durable state in a SQLite file (WAL). Secret blobs are sealed with AES-256-GCM under the
 * device's storage key, bound to their table and row key.
 *
 * @example const store = DeviceStore.open({ path: 'state.sqlite', storageKey })
 */
export class DeviceStore {
  readonly db: Database.Database
  readonly #key: Uint8Array
  /** Writes per group in this process, so callers can cache what they derive from a group state. */
  readonly #groupVersions = new Map<string, number>()

  private constructor(db: Database.Database, storageKey: Uint8Array) {
    this.db = db
    this.#key = storageKey
  }

  /** Opens (creating if needed) the store at `path`. `storageKey` is 32 secret bytes from the device keystore. */
  static open({ path, storageKey }: { path: string; storageKey: Uint8Array }): DeviceStore {
    if (storageKey.length !== 32) throw new InternalError('Device storage key must be 32 bytes.')
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    const db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    migrateDeviceStore(db)
    return new DeviceStore(db, storageKey)
  }

  /** Runs `fn` in one SQLite transaction: all of its writes land, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  seal(table: string, key: string, plaintext: Uint8Array): Uint8Array {
    const nonce = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce)
    cipher.setAAD(aad(table, key))
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
    return Buffer.concat([nonce, body, cipher.getAuthTag()])
  }

  open(table: string, key: string, sealed: Uint8Array): Uint8Array {
    try {
      const buf = Buffer.from(sealed)
      const decipher = createDecipheriv('aes-256-gcm', this.#key, buf.subarray(0, 12))
      decipher.setAAD(aad(table, key))
      decipher.setAuthTag(buf.subarray(buf.length - 16))
      return new Uint8Array(
        Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]),
      )
    } catch {
      throw new DeviceStoreCorruptError({ table, key })
    }
  }

  getGroup(groupId: string): StoredGroup | undefined {
    const row = this.db.prepare('select * from groups where group_id = ?').get(groupId) as
      | GroupRow
      | undefined
    return row && this.#groupFromRow(row)
  }

  /**
   * Every stored conversation with `peer`, lowest group id first (group ids are lower-case hex of one length, so
   * text order is numeric order). The canonical direct conversation is the first of them that is still active.
   */
  groupsWithPeer(peer: string): StoredGroup[] {
    const rows = this.db
      .prepare('select * from groups where peer = ? order by group_id')
      .all(peer.toLowerCase()) as GroupRow[]
    return rows.map((r) => this.#groupFromRow(r))
  }

  listGroups(): StoredGroup[] {
    return (this.db.prepare('select * from groups order by updated_at').all() as GroupRow[]).map((r) =>
      this.#groupFromRow(r),
    )
  }

  /** A number that changes whenever `putGroup` writes this group (0 before the first write by this process). */
  groupVersion(groupId: string): number {
    return this.#groupVersions.get(groupId) ?? 0
  }

  putGroup({ groupId, peer, ciphersuite, state }: Omit<StoredGroup, 'updatedAt'>): void {
    this.#groupVersions.set(groupId, this.groupVersion(groupId) + 1)
    this.db
      .prepare(
        `insert into groups (group_id, peer, ciphersuite, state, updated_at) values (?, ?, ?, ?, ?)
         on conflict(group_id) do update set state = excluded.state, updated_at = excluded.updated_at`,
      )
      .run(groupId, peer.toLowerCase(), ciphersuite, this.seal('groups', groupId, state), Date.now())
  }

  /** Stores a key package made at `now`; a last-resort one retires the current last-resort one (kept until
   * {@link purgeRetiredKeyPackages}: a Welcome may still name it). */
  putKeyPackage(
    { ref, publicPackage, privatePackage, lastResort = false }: StoredKeyPackage,
    now = Date.now(),
  ): void {
    const sealed = this.seal('key_packages', ref, privatePackage)
    this.transaction(() => {
      if (lastResort) this.db.prepare(KEY_PACKAGE_SQL.retireLastResort).run(now)
      this.db.prepare(KEY_PACKAGE_SQL.insert).run(ref, publicPackage, sealed, now, lastResort ? 1 : 0)
    })
  }

  /** Every key package whose private part is kept: unused one-time ones, the last-resort one and retired ones. */
  listKeyPackages(): (StoredKeyPackage & { lastResort: boolean })[] {
    const rows = this.db.prepare('select * from key_packages').all() as KeyPackageRow[]
    return rows.map((r) => ({
      ref: r.ref,
      publicPackage: new Uint8Array(r.public),
      privatePackage: this.open('key_packages', r.ref, r.private),
      lastResort: r.last_resort === 1,
    }))
  }

  /** Deletes a used one-time key package. A last-resort one is kept: it serves every Welcome until it is retired. */
  deleteKeyPackage(ref: string): void {
    this.db.prepare('delete from key_packages where ref = ? and last_resort = 0').run(ref)
  }

  /** Deletes every key package, the last-resort ones too (a rotated device's are of its old keys); returns how many. */
  clearKeyPackages(): number {
    return this.db.prepare('delete from key_packages').run().changes
  }

  /** The current (not retired) last-resort key package, with when it was made. */
  lastResortKeyPackage(): { ref: string; publicPackage: Uint8Array; createdAt: number } | undefined {
    const row = this.db.prepare(KEY_PACKAGE_SQL.lastResort).get() as KeyPackageRow | undefined
    return row && { ref: row.ref, publicPackage: new Uint8Array(row.public), createdAt: row.created_at }
  }

  /** Deletes the last-resort key packages retired at or before `before`; returns how many. */
  purgeRetiredKeyPackages(before: number): number {
    return this.db.prepare('delete from key_packages where retired_at <= ?').run(before).changes
  }

  /** Reserves the next outgoing sequence number of this device in `conversation` (starts at 1). */
  nextSeq(conversation: string): bigint {
    const row = this.db
      .prepare(
        `insert into seq_out (conversation, last_seq) values (?, 1)
         on conflict(conversation) do update set last_seq = last_seq + 1 returning last_seq`,
      )
      .safeIntegers(true)
      .get(conversation) as { last_seq: bigint }
    return row.last_seq
  }

  lastSeqIn(conversation: string, sender: string, device: string): bigint {
    const row = this.db
      .prepare('select last_seq from seq_in where conversation = ? and sender = ? and device = ?')
      .safeIntegers(true)
      .get(conversation, sender.toLowerCase(), device) as { last_seq: bigint } | undefined
    return row?.last_seq ?? 0n
  }

  setSeqIn(conversation: string, sender: string, device: string, seq: bigint): void {
    this.db
      .prepare(
        `insert into seq_in (conversation, sender, device, last_seq) values (?, ?, ?, ?)
         on conflict(conversation, sender, device) do update set last_seq = excluded.last_seq`,
      )
      .run(conversation, sender.toLowerCase(), device, seq)
  }

  getCursor(topic: string): bigint {
    const row = this.db.prepare('select cursor from cursors where topic = ?').safeIntegers(true).get(topic) as
      | { cursor: bigint }
      | undefined
    return row?.cursor ?? 0n
  }

  setCursor(topic: string, cursor: bigint): void {
    this.db
      .prepare(
        `insert into cursors (topic, cursor) values (?, ?)
         on conflict(topic) do update set cursor = max(cursor, excluded.cursor)`,
      )
      .run(topic, cursor)
  }

  /** The verdict recorded for an envelope id, if it was processed before. */
  processed(envelopeId: string): string | undefined {
    const row = this.db.prepare('select verdict from processed where envelope_id = ?').get(envelopeId) as
      | { verdict: string }
      | undefined
    return row?.verdict
  }

  markProcessed(envelopeId: string, verdict: string): void {
    this.db
      .prepare('insert or ignore into processed (envelope_id, verdict, at) values (?, ?, ?)')
      .run(envelopeId, verdict, Date.now())
  }

  putMessage(m: StoredMessage): void {
    this.db
      .prepare(
        `insert or ignore into messages (id, conversation, direction, sender, device, seq, sent_at, body, report,
           received_at, leaf, state, cursor, delivered, receipt, envelope, updated_at, verdict, content_type,
           history)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        m.id,
        m.conversation,
        m.direction,
        m.from.toLowerCase(),
        m.device,
        m.seq,
        m.sentAt,
        this.seal('messages', m.id, new TextEncoder().encode(m.body)),
        m.report,
        m.receivedAt,
        m.leaf?.toLowerCase() ?? null,
        m.state,
        m.cursor ?? null,
        m.delivered ? 1 : 0,
        m.receipt ?? null,
        m.envelope ?? null,
        Date.now(),
        m.verdict ?? (m.direction === 'in' ? 'pending' : null),
        m.contentType ?? 'text',
        m.history === undefined ? null : JSON.stringify(m.history),
      )
  }

  /**
   * Settles a pending verdict: writes `verdict` (and the refusal's code) only while the message is `pending`.
   * Returns whether it changed.
   */
  settleVerdict(id: string, verdict: 'verified' | 'refused', reason?: string): boolean {
    return (
      this.db
        .prepare(
          `update messages set verdict = ?, verdict_reason = ?, updated_at = ? where id = ? and verdict = 'pending'`,
        )
        .run(verdict, reason ?? null, Date.now(), id).changes > 0
    )
  }

  /** Received messages whose verdict is still `pending`, oldest first (imported history is never re-anchored). */
  pendingVerdicts(): StoredMessage[] {
    return (
      this.db
        .prepare(`select * from messages where verdict = 'pending' and history is null order by rowid`)
        .safeIntegers(true)
        .all() as MessageRow[]
    ).map((r) => this.#messageFromRow(r))
  }

  /**
   * Moves a message forward. The store keeps writes monotonic (`advance` from protocol/messageState.ts: a late
   * "delivered" never demotes an "anchored" message); deciding which transition happens is the outbox's job.
   * The envelope copy is dropped once the relay has accepted the message.
   */
  updateMessage(
    id: string,
    patch: { state?: MessageState; cursor?: bigint; delivered?: boolean; receipt?: string },
  ): StoredMessage | undefined {
    const current = this.getMessage(id)
    if (!current) return undefined
    const state = patch.state ? advance(current.state, patch.state) : current.state
    const cursor = patch.cursor ?? current.cursor
    this.db
      .prepare(
        `update messages set state = ?, cursor = ?, delivered = ?, receipt = ?, updated_at = ?,
           envelope = case when ? is null then envelope else null end
         where id = ?`,
      )
      .run(
        state,
        cursor ?? null,
        patch.delivered || current.delivered ? 1 : 0,
        patch.receipt ?? current.receipt ?? null,
        Date.now(),
        cursor ?? null,
        id,
      )
    return this.getMessage(id)
  }

  getMessage(id: string): StoredMessage | undefined {
    const row = this.db.prepare('select * from messages where id = ?').safeIntegers(true).get(id) as
      | MessageRow
      | undefined
    return row && this.#messageFromRow(row)
  }

  /** Messages whose leaf is `leaf` (the sender's own copy and, on a shared device, a received one). */
  messagesByLeaf(leaf: string): StoredMessage[] {
    return (
      this.db
        .prepare('select * from messages where leaf = ?')
        .safeIntegers(true)
        .all(leaf.toLowerCase()) as MessageRow[]
    ).map((r) => this.#messageFromRow(r))
  }

  /** Messages in any of `states`, oldest first. */
  messagesInState(states: readonly MessageState[], direction?: 'in' | 'out'): StoredMessage[] {
    const marks = states.map(() => '?').join(', ')
    const rows = (
      direction
        ? this.db
            .prepare(`select * from messages where state in (${marks}) and direction = ? order by rowid`)
            .safeIntegers(true)
            .all(...states, direction)
        : this.db
            .prepare(`select * from messages where state in (${marks}) order by rowid`)
            .safeIntegers(true)
            .all(...states)
    ) as MessageRow[]
    return rows.map((r) => this.#messageFromRow(r))
  }

  /** Outgoing messages of `topic` whose relay cursor is at most `cursor` and that are not yet marked delivered. */
  undeliveredUpTo(topic: string, cursor: bigint): StoredMessage[] {
    return (
      this.db
        .prepare(
          `select * from messages where conversation = ? and direction = 'out' and delivered = 0
             and cursor is not null and cursor <= ? order by cursor`,
        )
        .safeIntegers(true)
        .all(topic, cursor) as MessageRow[]
    ).map((r) => this.#messageFromRow(r))
  }

  /** Messages oldest first: text messages only, or every content type (delivery receipts too) with `all`. */
  listMessages({
    conversation,
    limit = 1000,
    all = false,
  }: {
    conversation?: string
    limit?: number
    all?: boolean
  } = {}): StoredMessage[] {
    const where = [conversation ? 'conversation = ?' : '', all ? '' : "content_type = 'text'"].filter(Boolean)
    const rows = this.db
      .prepare(
        `select * from messages ${where.length ? `where ${where.join(' and ')}` : ''} order by received_at, rowid limit ?`,
      )
      .safeIntegers(true)
      .all(...(conversation ? [conversation] : []), limit) as MessageRow[]
    return rows.map((r) => this.#messageFromRow(r))
  }

  /** Remembers that log head `{ index, hash }` was submitted for anchoring (kept until its receipt is logged). */
  putPendingLogAnchor({ index, hash }: { index: number; hash: string }): void {
    this.db
      .prepare('insert or ignore into log_anchors_pending (hash, idx, at) values (?, ?, ?)')
      .run(hash.toLowerCase(), index, Date.now())
  }

  /** The pending log anchor whose head is `hash`, if any. */
  pendingLogAnchor(hash: string): { index: number; hash: string } | undefined {
    const row = this.db
      .prepare('select idx, hash from log_anchors_pending where hash = ?')
      .get(hash.toLowerCase()) as { idx: number; hash: string } | undefined
    return row && { index: row.idx, hash: row.hash }
  }

  /** Every pending log anchor, oldest head first. */
  pendingLogAnchors(): { index: number; hash: string }[] {
    const rows = this.db.prepare('select idx, hash from log_anchors_pending order by idx').all() as {
      idx: number
      hash: string
    }[]
    return rows.map((r) => ({ index: r.idx, hash: r.hash }))
  }

  deletePendingLogAnchor(hash: string): void {
    this.db.prepare('delete from log_anchors_pending where hash = ?').run(hash.toLowerCase())
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  #messageFromRow(r: MessageRow): StoredMessage {
    return messageFromRow(r, new TextDecoder().decode(this.open('messages', r.id, r.body)))
  }

  #groupFromRow(row: GroupRow): StoredGroup {
    return {
      groupId: row.group_id,
      peer: row.peer,
      ciphersuite: row.ciphersuite,
      state: this.open('groups', row.group_id, row.state),
      updatedAt: row.updated_at,
    }
  }
}

function aad(table: string, key: string): Buffer {
  return Buffer.from(`${DEVICE_STORE_LABEL}\0${table}\0${key}`, 'utf8')
}
