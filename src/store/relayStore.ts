/** Relay persistence: per-topic ordered envelope logs, subscriber ack cursors and key packages (SQLite, WAL). */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { InternalError, UsageError } from '../errors.js'
import {
  prepareRetention,
  RETENTION_SCHEMA,
  type RelayExpiryNotice,
  type RelayPruneResult,
} from './relayRetention.js'
import { startWalCheckpointer, type WalCheckpointer } from './walCheckpointer.js'

export type { RelayExpiryNotice, RelayPruneResult } from './relayRetention.js'

/**
 * One envelope handed to {@link RelayStore.append}.
 *
 * @example const entry: RelayAppendEntry = { topic: envelope.topic, id: envelope.id, bytes, publisher: deviceId }
 */
export type RelayAppendEntry = { topic: Hex; id: Hex; bytes: Uint8Array; publisher: Hex }

/**
 * Result of appending one entry: its topic sequence number, and whether the (topic, id) pair was already stored.
 *
 * @example const [{ seq, duplicate }] = await store.append([entry])
 */
export type RelayAppendResult = { seq: bigint; duplicate: boolean }

/**
 * A stored envelope as returned by {@link RelayStore.readAfter}.
 *
 * @example for (const { seq, bytes } of await store.readAfter(topic, 0n, 100)) deliver(seq, bytes)
 */
export type RelayStoredEnvelope = { seq: bigint; bytes: Uint8Array }

/**
 * What the relay needs from its storage. Sequence numbers start at 1 per topic and have no gaps. Every method is
 * asynchronous (the seam between the embedded SQLite store and a replicated one, see jetStreamRelayStore.ts); the
 * relay calls `append` for one batch at a time and answers a publish only after its promise resolved.
 *
 * @example
 * const store: RelayStore = SqliteRelayStore.open({ path: 'relay.db' })
 * const [{ seq }] = await store.append([{ topic, id, bytes, publisher }])
 */
export interface RelayStore {
  /** Appends (idempotent on (topic, envelope id)); returns the topic seq. Durable when it returns. */
  append(entries: RelayAppendEntry[]): Promise<RelayAppendResult[]>
  /** Stored (unpruned) envelopes of `topic` with seq > `after`, in order, at most `limit`. */
  readAfter(topic: Hex, after: bigint, limit: number): Promise<RelayStoredEnvelope[]>
  /** Highest seq ever assigned on `topic` (0 when none). */
  head(topic: Hex): Promise<bigint>
  /** Number of stored (unpruned) envelopes of `topic`. */
  depth(topic: Hex): Promise<number>
  /** Records the device as a recipient of the topic (its ack cursor decides expiry notices, and inbox pruning). */
  subscribe(topic: Hex, deviceId: Hex): Promise<void>
  /** Moves the device's ack cursor on `topic` forward to `seq` (capped at the head; never moves back). */
  ack(topic: Hex, deviceId: Hex, seq: bigint): Promise<void>
  /** Ack cursors of the topic's recorded subscribers. */
  acks(topic: Hex): Promise<{ deviceId: Hex; seq: bigint }[]>
  /**
   * Records `owner` as the only recipient of inbox `topic` (idempotent) and forgets every other device's cursor on
   * it; returns the devices forgotten.
   */
  claimInbox(topic: Hex, owner: Hex): Promise<Hex[]>
  /**
   * Retention (docs/protocol.md §9.4): drops the bytes of inbox envelopes their owner acked, deletes every
   * envelope older than `retentionMs` and records an expiry notice for its publisher when an intended recipient
   * had not acked it. Conversation envelopes are not pruned by acks. Notices older than `retentionMs` go too.
   */
  prune(now: number, retentionMs: number): Promise<RelayPruneResult>
  /** The expiry notices kept for `publisher`, oldest first. */
  expiryNotices(publisher: Hex): Promise<RelayExpiryNotice[]>
  /**
   * Stores one-time key packages of `deviceId` and, with `lastResort`, makes that its last-resort key package
   * (replacing the previous one), all in one transaction; returns how many one-time key packages it now has.
   */
  putKeyPackages(deviceId: Hex, envelopes: Uint8Array[], lastResort?: Uint8Array): Promise<number>
  /**
   * Removes and returns the oldest one-time key package of `deviceId`; when none is left, returns its last-resort
   * key package without removing it (docs/protocol.md §9.5).
   */
  takeKeyPackage(deviceId: Hex): Promise<Uint8Array | undefined>
  /** How many one-time key packages `deviceId` has left (its last-resort one is not counted). */
  countKeyPackages(deviceId: Hex): Promise<number>
  /** Releases the store (idempotent); pending calls may fail afterwards. */
  close(): Promise<void>
}

/**
 * Options of {@link SqliteRelayStore.open}.
 *
 * @example SqliteRelayStore.open({ path: '/var/lib/sealpost/relay.db', durability: 'power' })
 */
export type SqliteRelayStoreOptions = {
  /** Database file (created with its directory if missing). */
  path: string
  /**
   * `'process'` (default): WAL with synchronous=NORMAL, durable across process crashes (SIGKILL).
   * `'power'`: synchronous=FULL, also durable across power loss.
   */
  durability?: 'process' | 'power' | undefined
  /** Clock for the stored publish time (retention); default `Date.now`. */
  now?: (() => number) | undefined
}

/**
 * The relay database could not be opened or a statement failed (disk full, file corrupt, locked).
 *
 * @example new RelayStoreError({ operation: 'append', cause: err })
 */
export class RelayStoreError extends InternalError {
  override name = 'RelayStoreError' as const
  constructor({ operation, cause }: { operation: string; cause?: unknown }) {
    super('Relay store operation failed.', {
      metaMessages: [`Operation: ${operation}`],
      cause,
      code: 'SEALPOST_RELAY_STORE_FAILED',
    })
  }
}

/**
 * The replicated store cannot be reached (every NATS node down, or JetStream without a quorum): nothing was stored.
 * Transient: the relay refuses with `RELAY_UNAVAILABLE` and the client retries.
 *
 * @example new RelayStoreUnavailableError({ operation: 'append', cause: err })
 */
export class RelayStoreUnavailableError extends InternalError {
  override name = 'RelayStoreUnavailableError' as const
  constructor({ operation, cause }: { operation: string; cause?: unknown }) {
    super('Relay store is unavailable.', {
      metaMessages: [`Operation: ${operation}`],
      cause,
      code: 'SEALPOST_RELAY_STORE_UNAVAILABLE',
    })
  }
}

/**
 * An existing replicated stream or bucket was configured differently than this relay asks for (replicas, subjects,
 * deployment): the relay refuses to start rather than share it.
 *
 * @example new RelayStoreMismatchError({ resource: 'stream X_ENVELOPES', differences: ['replicas: 1, expected 3'] })
 */
export class RelayStoreMismatchError extends UsageError {
  override name = 'RelayStoreMismatchError' as const
  readonly differences: string[]
  constructor({ resource, differences }: { resource: string; differences: string[] }) {
    super(`The existing ${resource} differs from this relay's configuration: ${differences.join('; ')}.`, {
      metaMessages: differences.map((d) => `Difference: ${d}`),
      code: 'SEALPOST_RELAY_STORE_MISMATCH',
    })
    this.differences = differences
  }
}

/**
 * A store method was called with a malformed argument (a topic that is not 32 bytes, a negative seq) or after
 * `close()`.
 *
 * @example new RelayStoreUsageError({ reason: 'topic must be 32 bytes of hex' })
 */
export class RelayStoreUsageError extends UsageError {
  override name = 'RelayStoreUsageError' as const
  constructor({ reason }: { reason: string }) {
    super('Relay store was used incorrectly.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_RELAY_STORE_USAGE',
    })
  }
}

// Schema. Ids are 32-byte BLOBs. `topics.low` is the highest seq whose envelope bytes were pruned, so
// depth = head - low in O(1). Inbox envelopes pruned because their owner acked them keep their (topic, id, seq)
// row with `bytes = NULL` until retention deletes it, so a replayed envelope still gets its old seq and is not
// delivered again. Inbox owners and expiry notices: see relayRetention.ts.
// `envelopes` is a rowid table with (topic, seq) as a unique index: a WITHOUT ROWID table keeps rows in an index
// b-tree, whose cells hold at most about a quarter of a page, so every 1 KiB envelope spilled into an overflow page
// of its own (one more 4 KiB page written per envelope). Databases made before keep their WITHOUT ROWID table
// (`(topic, seq)` its primary key); every statement reads and writes both layouts alike.
const ENVELOPES_TABLE = `
create table envelopes (
  topic blob not null, seq integer not null, id blob not null, publisher blob not null,
  at integer not null, bytes blob);
create unique index envelopes_seq on envelopes (topic, seq);`
const SCHEMA = `
create table if not exists topics (
  topic blob primary key, head integer not null, low integer not null default 0) without rowid;
create unique index if not exists envelopes_id on envelopes (topic, id);
create index if not exists envelopes_at on envelopes (at);
create table if not exists subscribers (
  topic blob not null, device blob not null, acked integer not null default 0,
  primary key (topic, device)) without rowid;
create table if not exists key_packages (id integer primary key, device blob not null, bytes blob not null);
create index if not exists key_packages_device on key_packages (device, id);
create table if not exists last_resort_key_packages (device blob primary key, bytes blob not null) without rowid;
${RETENTION_SCHEMA}`

const I64_MAX = 2n ** 63n - 1n
/** Envelopes a store appends before its WAL checkpoints move to a worker thread. */
const BACKGROUND_CHECKPOINT_AFTER = 1000
/** The commit's own automatic checkpoint once the worker runs (pages; about 40 MB of WAL with 4 KiB pages). */
const AUTOCHECKPOINT_BACKSTOP_PAGES = 10_000

/**
 * {@link RelayStore} on SQLite (better-sqlite3, WAL). Statements are prepared once; `append` writes a whole
 * batch in one transaction, so one fsync (or none, with synchronous=NORMAL) covers a group commit. The methods
 * do their work synchronously and return settled promises. After its first thousand envelopes a store copies its
 * WAL into the database from a worker thread (`walCheckpointer.ts`), not inside the commits.
 *
 * @example
 * const store = SqliteRelayStore.open({ path: join(dir, 'relay.db') })
 * const [{ seq }] = await store.append([{ topic, id, bytes, publisher }])
 * await store.readAfter(topic, 0n, 100) // [{ seq: 1n, bytes }]
 * await store.close()
 */
export class SqliteRelayStore implements RelayStore {
  readonly path: string
  readonly #db: Database.Database
  readonly #now: () => number
  readonly #s: ReturnType<typeof prepare>
  readonly #appendTx: (entries: RelayAppendEntry[]) => RelayAppendResult[]
  readonly #retention: ReturnType<typeof prepareRetention>
  readonly #pruneTx: (now: number, retentionMs: number) => RelayPruneResult
  readonly #claimTx: (topic: Buffer, owner: Buffer) => Hex[]
  readonly #putKpTx: (device: Buffer, envelopes: Uint8Array[], lastResort: Uint8Array | undefined) => number
  /** Envelopes appended until the WAL checkpointer starts (a store that stays small never starts a thread). */
  #untilCheckpointer = BACKGROUND_CHECKPOINT_AFTER
  #checkpointer: WalCheckpointer | undefined
  #closed = false

  private constructor(path: string, db: Database.Database, now: () => number) {
    this.path = path
    this.#db = db
    this.#now = now
    const s = prepare(db)
    this.#s = s

    this.#appendTx = db.transaction((entries: RelayAppendEntry[]) => {
      const at = this.#now()
      const out: RelayAppendResult[] = []
      for (const e of entries) {
        const topic = bytes32(e.topic, 'topic')
        const id = bytes32(e.id, 'id')
        const existing = s.findId.get(topic, id) as { seq: bigint } | undefined
        if (existing) {
          out.push({ seq: existing.seq, duplicate: true })
          continue
        }
        const { head } = s.bumpHead.get(topic) as { head: bigint }
        s.insertEnvelope.run(topic, head, id, bytes32(e.publisher, 'publisher'), at, bytesOf(e.bytes))
        out.push({ seq: head, duplicate: false })
      }
      return out
    })

    const retention = prepareRetention(db)
    this.#retention = retention
    this.#pruneTx = db.transaction((now: number, retentionMs: number) => retention.prune(now, retentionMs))
    this.#claimTx = db.transaction((topic: Buffer, owner: Buffer) => retention.claimInbox(topic, owner))

    this.#putKpTx = db.transaction(
      (device: Buffer, envelopes: Uint8Array[], lastResort: Uint8Array | undefined) => {
        for (const e of envelopes) s.insertKp.run(device, bytesOf(e))
        if (lastResort) s.putLastResortKp.run(device, bytesOf(lastResort))
        return (s.countKp.get(device) as { n: number }).n
      },
    )
  }

  /**
   * Opens (creating if needed) the relay database at `path`.
   *
   * @example const store = SqliteRelayStore.open({ path: 'relay.db' })
   */
  static open({ path, durability = 'process', now = Date.now }: SqliteRelayStoreOptions): SqliteRelayStore {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
      const db = new Database(path)
      try {
        db.pragma('journal_mode = WAL')
        db.pragma(`synchronous = ${durability === 'power' ? 'FULL' : 'NORMAL'}`)
        db.pragma('busy_timeout = 5000')
        // One transaction: a crash between the table and its (topic, seq) index must not leave the table alone.
        db.transaction(() => {
          if (!db.prepare(`select 1 from sqlite_master where type = 'table' and name = 'envelopes'`).get())
            db.exec(ENVELOPES_TABLE)
          db.exec(SCHEMA)
        })()
        return new SqliteRelayStore(path, db, now)
      } catch (err) {
        db.close()
        throw err
      }
    } catch (err) {
      throw new RelayStoreError({ operation: 'open', cause: err })
    }
  }

  async append(entries: RelayAppendEntry[]): Promise<RelayAppendResult[]> {
    if (entries.length === 0) return []
    const results = this.#run('append', () => this.#appendTx(entries))
    if (this.#untilCheckpointer > 0) {
      this.#untilCheckpointer -= entries.length
      if (this.#untilCheckpointer <= 0) this.#checkpointInBackground()
    }
    return results
  }

  async readAfter(topic: Hex, after: bigint, limit: number): Promise<RelayStoredEnvelope[]> {
    const t = bytes32(topic, 'topic')
    const from = clampSeq(after)
    if (!Number.isSafeInteger(limit) || limit <= 0) return []
    return this.#run('readAfter', () =>
      (this.#s.readAfter.all(t, from, limit) as { seq: bigint; bytes: Buffer }[]).map((r) => ({
        seq: r.seq,
        bytes: new Uint8Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength),
      })),
    )
  }

  async head(topic: Hex): Promise<bigint> {
    const t = bytes32(topic, 'topic')
    return this.#run('head', () => (this.#s.head.get(t) as { head: bigint } | undefined)?.head ?? 0n)
  }

  async depth(topic: Hex): Promise<number> {
    const t = bytes32(topic, 'topic')
    return this.#run('depth', () => {
      const row = this.#s.depth.get(t) as { head: bigint; low: bigint } | undefined
      return row ? Number(row.head - row.low) : 0
    })
  }

  async subscribe(topic: Hex, deviceId: Hex): Promise<void> {
    const t = bytes32(topic, 'topic')
    const d = bytes32(deviceId, 'deviceId')
    this.#run('subscribe', () => this.#s.subscribe.run(t, d))
  }

  async ack(topic: Hex, deviceId: Hex, seq: bigint): Promise<void> {
    const t = bytes32(topic, 'topic')
    const d = bytes32(deviceId, 'deviceId')
    if (typeof seq !== 'bigint' || seq < 0n) throw new RelayStoreUsageError({ reason: 'seq must be a u64' })
    this.#run('ack', () => {
      const head = (this.#s.head.get(t) as { head: bigint } | undefined)?.head ?? 0n
      this.#s.ack.run(t, d, seq > head ? head : seq)
    })
  }

  async acks(topic: Hex): Promise<{ deviceId: Hex; seq: bigint }[]> {
    const t = bytes32(topic, 'topic')
    return this.#run('acks', () =>
      (this.#s.acks.all(t) as { device: Buffer; acked: bigint }[]).map((r) => ({
        deviceId: toHex(r.device),
        seq: r.acked,
      })),
    )
  }

  async claimInbox(topic: Hex, owner: Hex): Promise<Hex[]> {
    const t = bytes32(topic, 'topic')
    const d = bytes32(owner, 'owner')
    return this.#run('claimInbox', () => this.#claimTx(t, d))
  }

  async prune(now: number, retentionMs: number): Promise<RelayPruneResult> {
    return this.#run('prune', () => this.#pruneTx(now, retentionMs))
  }

  async expiryNotices(publisher: Hex): Promise<RelayExpiryNotice[]> {
    const d = bytes32(publisher, 'publisher')
    return this.#run('expiryNotices', () => this.#retention.noticesOf(d))
  }

  async putKeyPackages(deviceId: Hex, envelopes: Uint8Array[], lastResort?: Uint8Array): Promise<number> {
    const d = bytes32(deviceId, 'deviceId')
    return this.#run('putKeyPackages', () => this.#putKpTx(d, envelopes, lastResort))
  }

  async takeKeyPackage(deviceId: Hex): Promise<Uint8Array | undefined> {
    const d = bytes32(deviceId, 'deviceId')
    return this.#run('takeKeyPackage', () => {
      const row = (this.#s.takeKp.get(d) ?? this.#s.lastResortKp.get(d)) as { bytes: Buffer } | undefined
      return row ? new Uint8Array(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength) : undefined
    })
  }

  async countKeyPackages(deviceId: Hex): Promise<number> {
    const d = bytes32(deviceId, 'deviceId')
    return this.#run('countKeyPackages', () => (this.#s.countKp.get(d) as { n: number }).n)
  }

  /**
   * Closes the database (idempotent).
   *
   * @example await store.close()
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#checkpointer?.stop()
    this.#db.close()
  }

  /**
   * From now on WAL checkpoints run in a worker thread (`walCheckpointer.ts`); the commit's own automatic checkpoint
   * stays, at a threshold the worker keeps the WAL under, as a bound if the worker falls behind or fails.
   */
  #checkpointInBackground(): void {
    if (this.path === ':memory:') return
    try {
      this.#checkpointer = startWalCheckpointer({ path: this.path })
      this.#db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_BACKSTOP_PAGES}`)
    } catch {
      // No thread: the automatic checkpoint keeps its default threshold, as before.
    }
  }

  #run<T>(operation: string, fn: () => T): T {
    if (this.#closed) throw new RelayStoreUsageError({ reason: `${operation} after close()` })
    try {
      return fn()
    } catch (err) {
      if (err instanceof RelayStoreUsageError) throw err
      throw new RelayStoreError({ operation, cause: err })
    }
  }
}

function prepare(db: Database.Database) {
  const big = <T extends Database.Statement>(s: T): T => s.safeIntegers(true) as T
  return {
    findId: big(db.prepare('select seq from envelopes where topic = ? and id = ?')),
    bumpHead: big(
      db.prepare(
        'insert into topics (topic, head) values (?, 1) on conflict (topic) do update set head = head + 1 returning head',
      ),
    ),
    insertEnvelope: db.prepare(
      'insert into envelopes (topic, seq, id, publisher, at, bytes) values (?, ?, ?, ?, ?, ?)',
    ),
    readAfter: big(
      db.prepare(
        'select seq, bytes from envelopes where topic = ? and seq > ? and bytes is not null order by seq limit ?',
      ),
    ),
    head: big(db.prepare('select head from topics where topic = ?')),
    depth: big(db.prepare('select head, low from topics where topic = ?')),
    subscribe: db.prepare(
      'insert into subscribers (topic, device, acked) values (?, ?, 0) on conflict (topic, device) do nothing',
    ),
    ack: db.prepare(
      `insert into subscribers (topic, device, acked) values (?, ?, ?)
       on conflict (topic, device) do update set acked = max(acked, excluded.acked)`,
    ),
    acks: big(db.prepare('select device, acked from subscribers where topic = ? order by device')),
    insertKp: db.prepare('insert into key_packages (device, bytes) values (?, ?)'),
    takeKp: db.prepare(
      `delete from key_packages where id = (select id from key_packages where device = ? order by id limit 1)
       returning bytes`,
    ),
    countKp: db.prepare('select count(*) as n from key_packages where device = ?'),
    putLastResortKp: db.prepare(
      `insert into last_resort_key_packages (device, bytes) values (?, ?)
       on conflict (device) do update set bytes = excluded.bytes`,
    ),
    lastResortKp: db.prepare('select bytes from last_resort_key_packages where device = ?'),
  }
}

const BYTES32_HEX = /^0x[0-9a-fA-F]{64}$/

function bytes32(value: Hex, field: string): Buffer {
  if (typeof value !== 'string' || !BYTES32_HEX.test(value))
    throw new RelayStoreUsageError({ reason: `${field} must be 32 bytes of 0x-prefixed hex` })
  return Buffer.from(value.slice(2), 'hex')
}

function bytesOf(value: Uint8Array): Buffer {
  if (!(value instanceof Uint8Array)) throw new RelayStoreUsageError({ reason: 'bytes must be a Uint8Array' })
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

function clampSeq(seq: bigint): bigint {
  if (typeof seq !== 'bigint' || seq < 0n) throw new RelayStoreUsageError({ reason: 'seq must be a u64' })
  return seq > I64_MAX ? I64_MAX : seq
}

function toHex(bytes: Buffer): Hex {
  return `0x${bytes.toString('hex')}`
}
