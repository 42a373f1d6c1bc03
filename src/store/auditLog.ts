/** Per-device tamper-evident log: an append-only SHA-256 hash chain of what the device sent, received and anchored. */
import type Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { InternalError, ValidationError } from '../errors.js'
import { type CanonicalJsonInput, canonicalJson, type JsonObject } from '../protocol/canonicalJson.js'
import { LABEL_LOG_ENTRY, labelledHash } from '../protocol/labels.js'
import { decodeLogHeadStatement, logHeadLeaf } from '../protocol/logHeadStatement.js'
import type { ReceiptJson } from '../protocol/receipt.js'
import type { RecipientProof } from '../protocol/recipients.js'
import { type SignedStatement, statementLeaf } from '../protocol/statement.js'

/** What an entry records. @example const kind: LogKind = 'sent' */
export type LogKind = 'sent' | 'received' | 'rejected' | 'receipt' | 'log-anchor'

/** Every entry kind, in documentation order. @example LOG_KINDS.includes('sent') // true */
export const LOG_KINDS: readonly LogKind[] = ['sent', 'received', 'rejected', 'receipt', 'log-anchor']

/** `prevHash` of entry 0: 32 zero bytes. @example LOG_GENESIS_HASH // '0x0000…0000' */
export const LOG_GENESIS_HASH: Hex = `0x${'00'.repeat(32)}`

/**
 * `data` of a `sent` or `received` entry: the signed statement as the device saw it. `body` is the message
 * text (omit it to keep plaintext out of the log; the verifier then checks everything but the body hash).
 *
 * @example
 * const data: MessageLogData = { envelopeId, conversation, statement: toHex(signed.bytes), signature, leaf, body: 'hi' }
 */
export type MessageLogData = {
  envelopeId: Hex
  conversation: Hex
  /** Hex of the statement bytes (274 for v2; 213 for v1, old data only). */
  statement: Hex
  /** Hex of the 64-byte P-256 signature (r||s). */
  signature: Hex
  /** statementLeaf(statement, signature). */
  leaf: Hex
  /** v2: the proof that the log's own account is one of the statement's recipients (`recipientsRoot`). */
  recipients?: RecipientProof
  /** The text exactly as signed: its UTF-8 encoding is the signed body (invalid UTF-8 is refused at receipt). */
  body?: string
}
/**
 * Builds the `data` of a `sent`/`received` entry from a signed statement (computes the leaf).
 *
 * @example log.append({ kind: 'sent', data: messageLogData({ envelopeId, signed, body: text }) })
 */
export function messageLogData({
  envelopeId,
  signed,
  body,
  recipients,
}: {
  envelopeId: Hex
  signed: SignedStatement
  body?: string | undefined
  recipients?: RecipientProof | undefined
}): MessageLogData {
  return {
    envelopeId,
    conversation: signed.statement.conversation,
    statement: `0x${Buffer.from(signed.bytes).toString('hex')}`,
    signature: signed.signature,
    leaf: statementLeaf(signed.bytes, signed.signature),
    ...(recipients === undefined ? {} : { recipients }),
    ...(body === undefined ? {} : { body }),
  }
}

/** `data` of a `rejected` entry: an envelope the device refused, and why. @example const data: RejectedLogData = { envelopeId, code: 'SEALPOST_REPLAY', step: 'seq' } */
export type RejectedLogData = { envelopeId: Hex; code: string; step: string }
/** `data` of a `receipt` entry: an anchoring receipt for a statement leaf. @example const data: ReceiptLogData = { leaf, receipt: receiptToJson(r) } */
export type ReceiptLogData = { leaf: Hex; receipt: ReceiptJson }
/**
 * `data` of a `log-anchor` entry: the log's device signed a log-head statement for its head `head` (the hash of
 * entry `index`), the leaf `logHeadLeaf(statement, signature)` was anchored, and `receipt` proves it. Entries written
 * before log-head statements lack `statement` and `signature` (their receipt is for the raw head).
 *
 * @example const data: LogAnchorLogData = { index: 41, head, statement, signature, receipt: receiptToJson(r) }
 */
export type LogAnchorLogData = {
  index: number
  head: Hex
  /** Hex of the 202-byte log-head statement. */
  statement?: Hex
  /** Hex of the device's 64-byte P-256 signature over it. */
  signature?: Hex
  receipt: ReceiptJson
}

/** The `data` type of each entry kind. @example const d: LogDataByKind['rejected'] = { envelopeId, code, step } */
export type LogDataByKind = {
  sent: MessageLogData
  received: MessageLogData
  rejected: RejectedLogData
  receipt: ReceiptLogData
  'log-anchor': LogAnchorLogData
}

/**
 * One log entry. `hash` = SHA-256(`sealpost/v1/log-entry` || 0x00 || prevHash(32) ||
 * utf8(canonicalJson({ index, at, kind, data }))); `prevHash` is the previous entry's `hash`
 * ({@link LOG_GENESIS_HASH} for index 0).
 *
 * @example const { index, hash }: LogEntry = log.append({ kind: 'rejected', data })
 */
export type LogEntry<K extends LogKind = LogKind> = {
  index: number
  /** Unix milliseconds. */
  at: number
  kind: K
  /** Exactly the JSON that was hashed (bigints already turned into decimal strings). */
  data: JsonObject
  prevHash: Hex
  hash: Hex
}

/** Outcome of a chain check; `brokenAt` is the first bad entry index. @example const { ok, brokenAt, reason }: ChainVerification = log.verifyChain() */
export type ChainVerification = { ok: boolean; brokenAt?: number; reason?: string }

// ---------------------------------------------------------------------------------------------------------
// Errors

/** `append` was given something the log cannot record. @example new InvalidLogEntryError({ field: 'kind', reason: 'unknown kind' }) */
export class InvalidLogEntryError extends ValidationError {
  override name = 'InvalidLogEntryError' as const
  constructor({ field, reason }: { field: string; reason: string }) {
    super('Log entry is invalid.', {
      metaMessages: [`Field: ${field}`, `Reason: ${reason}`],
      code: 'SEALPOST_LOG_INVALID_ENTRY',
    })
  }
}

/** A stored row cannot be read back (edited outside the API). `verifyChain` reports the same as `ok: false`. @example new AuditLogCorruptError({ index: 3, reason: 'data is not JSON' }) */
export class AuditLogCorruptError extends InternalError {
  override name = 'AuditLogCorruptError' as const
  readonly index: number
  readonly reason: string
  constructor({ index, reason }: { index: number; reason: string }) {
    super('Audit log row is unreadable.', {
      metaMessages: [`Entry: ${index}`, `Reason: ${reason}`],
      code: 'SEALPOST_LOG_CORRUPT',
    })
    this.index = index
    this.reason = reason
  }
}

// ---------------------------------------------------------------------------------------------------------
// Pure hashing and chain checks (shared with the transcript verifier)

/** Inputs to `hashLogEntry`. @example const p: HashLogEntryParameters = { index: 0, at, kind: 'sent', data, prevHash: LOG_GENESIS_HASH } */
export type HashLogEntryParameters = {
  index: number
  at: number
  kind: LogKind
  data: CanonicalJsonInput
  prevHash: Hex
}

/**
 * The entry hash: SHA-256(`sealpost/v1/log-entry` || 0x00 || prevHash(32) || utf8(canonicalJson({ index, at,
 * kind, data }))). Throws `InvalidLogEntryError` on a malformed prevHash, `CanonicalJsonError` on non-JSON data.
 *
 * @example hashLogEntry({ index: 0, at: 1700000000000, kind: 'rejected', data, prevHash: LOG_GENESIS_HASH })
 */
export function hashLogEntry({ index, at, kind, data, prevHash }: HashLogEntryParameters): Hex {
  if (typeof prevHash !== 'string' || !BYTES32.test(prevHash))
    throw new InvalidLogEntryError({ field: 'prevHash', reason: 'must be 32 bytes as 0x-prefixed hex' })
  const json = canonicalJson({ index, at, kind, data })
  const digest = labelledHash(
    LABEL_LOG_ENTRY,
    Buffer.from(prevHash.slice(2), 'hex'),
    Buffer.from(json, 'utf8'),
  )
  return `0x${Buffer.from(digest).toString('hex')}`
}

/**
 * Checks that `entries` is a complete chain from index 0: entry i has `index` i, `prevHash` equal to entry
 * i-1's `hash` (zero for i = 0), a known kind, a safe-integer `at`, object `data`, and `hash` equal to
 * `hashLogEntry` of its fields. Stops at the first broken entry. With `head`, also checks that the chain
 * reaches that (e.g. anchored) head, which catches a truncated log. Never throws.
 *
 * @example const { ok, brokenAt } = verifyLogEntries(transcript.entries)
 */
export function verifyLogEntries(
  entries: readonly unknown[],
  { head }: { head?: { index: number; hash: Hex } | undefined } = {},
): ChainVerification {
  let prev = LOG_GENESIS_HASH
  for (let i = 0; i < entries.length; i++) {
    const problem = entryProblem(entries[i], i, prev)
    if (problem !== undefined) return { ok: false, brokenAt: i, reason: problem }
    prev = (entries[i] as LogEntry).hash
  }
  if (head !== undefined) {
    const at = entries[head.index] as LogEntry | undefined
    if (at === undefined)
      return {
        ok: false,
        brokenAt: entries.length,
        reason: `log ends before the expected head ${head.index}`,
      }
    if (at.hash.toLowerCase() !== head.hash.toLowerCase())
      return { ok: false, brokenAt: head.index, reason: 'hash differs from the expected head' }
  }
  return { ok: true }
}

/**
 * What is wrong with one entry at position `index` after an entry whose hash is `prevHash`, or undefined if it
 * is well-formed and its `hash` matches its contents (the per-entry step of {@link verifyLogEntries}).
 *
 * @example checkLogEntry(entries[3], { index: 3, prevHash: entries[2].hash }) // undefined when intact
 */
export function checkLogEntry(
  entry: unknown,
  { index, prevHash }: { index: number; prevHash: Hex },
): string | undefined {
  return entryProblem(entry, index, prevHash)
}

function entryProblem(entry: unknown, expectedIndex: number, expectedPrev: Hex): string | undefined {
  if (typeof entry !== 'object' || entry === null) return 'entry is not an object'
  const e = entry as Partial<Record<keyof LogEntry, unknown>>
  if (typeof e.index !== 'number' || !Number.isSafeInteger(e.index)) return 'index is not an integer'
  if (e.index > expectedIndex) return `entry ${expectedIndex} is missing (found index ${e.index} here)`
  if (e.index !== expectedIndex) return `index ${e.index} is out of order (expected ${expectedIndex})`
  if (typeof e.prevHash !== 'string' || !BYTES32.test(e.prevHash)) return 'prevHash is not 32 bytes of hex'
  if (e.prevHash.toLowerCase() !== expectedPrev.toLowerCase())
    return expectedIndex === 0
      ? 'prevHash of entry 0 is not zero'
      : "prevHash is not the previous entry's hash"
  if (typeof e.kind !== 'string' || !(LOG_KINDS as readonly string[]).includes(e.kind))
    return 'kind is not a known entry kind'
  if (typeof e.at !== 'number' || !Number.isSafeInteger(e.at) || e.at < 0)
    return 'at is not a non-negative integer'
  if (typeof e.data !== 'object' || e.data === null || Array.isArray(e.data)) return 'data is not an object'
  if (typeof e.hash !== 'string' || !BYTES32.test(e.hash)) return 'hash is not 32 bytes of hex'
  let computed: Hex
  try {
    computed = hashLogEntry({
      index: e.index,
      at: e.at,
      kind: e.kind as LogKind,
      data: e.data as JsonObject,
      prevHash: e.prevHash as Hex,
    })
  } catch {
    return 'data is not canonical-JSON encodable'
  }
  if (computed !== e.hash.toLowerCase()) return 'hash does not match the entry contents'
  return undefined
}

// ---------------------------------------------------------------------------------------------------------
// SQLite store

const SCHEMA = `
create table if not exists audit_log (
  idx integer primary key, at integer not null, kind text not null, data text not null,
  prev_hash text not null, hash text not null);
`

type Row = { idx: number; at: number; kind: string; data: string; prev_hash: string; hash: string }

/** Options of `new AuditLog`. @example const p: AuditLogParameters = { db: store.db } */
export type AuditLogParameters = {
  /** The device's SQLite database (e.g. `DeviceStore.db`); the `audit_log` table is created if missing. */
  db: Database.Database
  /** Clock for `at` when `append` is not given one (unix ms; default `Date.now`). */
  now?: (() => number) | undefined
  /**
   * Seals the `data` column at rest (entries hold message bodies). Hashes are computed over the plain canonical
   * JSON, so sealing changes nothing a verifier sees. `DeviceStore.seal`/`open` fit.
   */
  codec?:
    | { seal(index: number, json: string): string; open(index: number, stored: string): string }
    | undefined
}

/** Parameters of `AuditLog.append`. @example const p: AppendLogEntryParameters<'rejected'> = { kind: 'rejected', data } */
export type AppendLogEntryParameters<K extends LogKind = LogKind> = {
  kind: K
  data: LogDataByKind[K]
  /** Unix ms; defaults to the log's clock. */
  at?: number | undefined
}

/**
 * The append-only log in table `audit_log` of a device's SQLite. There is no update or delete API; edits
 * made to the file directly are found by `verifyChain`, and once a head is anchored on chain (a
 * `log-anchor` entry), rewriting history before it is detectable by anyone holding the receipt.
 *
 * @example
 * const log = new AuditLog({ db: store.db })
 * log.append({ kind: 'rejected', data: { envelopeId, code: 'SEALPOST_REPLAY', step: 'seq' } })
 * log.verifyChain() // { ok: true }
 */
export class AuditLog {
  readonly #db: Database.Database
  readonly #now: () => number
  readonly #insert: Database.Statement
  readonly #last: Database.Statement
  readonly #codec: AuditLogParameters['codec']

  constructor({ db, now = Date.now, codec }: AuditLogParameters) {
    this.#db = db
    this.#now = now
    this.#codec = codec
    db.exec(SCHEMA)
    this.#insert = db.prepare(
      'insert into audit_log (idx, at, kind, data, prev_hash, hash) values (?, ?, ?, ?, ?, ?)',
    )
    this.#last = db.prepare('select idx, hash from audit_log order by idx desc limit 1')
  }

  /**
   * Appends an entry and returns it, with `index`, `prevHash` and `hash` computed from the stored head in one
   * immediate transaction (safe with several connections to the same file). Throws `InvalidLogEntryError`
   * for an unknown kind or a bad `at`, `CanonicalJsonError` for data that is not JSON.
   *
   * @example const entry = log.append({ kind: 'sent', data: { envelopeId, conversation, statement, signature, leaf, body } })
   */
  append<K extends LogKind>({ kind, data, at }: AppendLogEntryParameters<K>): LogEntry<K> {
    if (!(LOG_KINDS as readonly string[]).includes(kind))
      throw new InvalidLogEntryError({ field: 'kind', reason: `must be one of ${LOG_KINDS.join(', ')}` })
    const time = at ?? this.#now()
    if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0)
      throw new InvalidLogEntryError({ field: 'at', reason: 'must be a non-negative integer (unix ms)' })
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw new InvalidLogEntryError({ field: 'data', reason: 'must be a JSON object' })
    const json = canonicalJson(data as CanonicalJsonInput)
    const stored = JSON.parse(json) as JsonObject
    return this.#db
      .transaction((): LogEntry<K> => {
        const last = this.#last.get() as { idx: number; hash: string } | undefined
        const index = last === undefined ? 0 : last.idx + 1
        const prevHash = last === undefined ? LOG_GENESIS_HASH : (last.hash as Hex)
        const hash = hashLogEntry({ index, at: time, kind, data: stored, prevHash })
        this.#insert.run(
          index,
          time,
          kind,
          this.#codec ? this.#codec.seal(index, json) : json,
          prevHash,
          hash,
        )
        return { index, at: time, kind, data: stored, prevHash, hash }
      })
      .immediate()
  }

  /**
   * Entries in index order from `from` (default 0), at most `limit` (default all), optionally only of `kind`.
   * Throws `AuditLogCorruptError` if a row was edited into something unreadable.
   *
   * @example const receipts = log.entries({ kind: 'receipt' })
   */
  entries({ from = 0, limit, kind }: { from?: number; limit?: number; kind?: LogKind } = {}): LogEntry[] {
    const sql = `select * from audit_log where idx >= ?${kind === undefined ? '' : ' and kind = ?'} order by idx${
      limit === undefined ? '' : ' limit ?'
    }`
    const args: (number | string)[] = [from]
    if (kind !== undefined) args.push(kind)
    if (limit !== undefined) args.push(limit)
    return (this.#db.prepare(sql).all(...args) as Row[]).map((row) => rowToEntry(row, this.#codec))
  }

  /**
   * The latest entry's index and hash, or undefined for an empty log. This is what gets anchored.
   *
   * @example const head = log.head() // { index: 41, hash: '0x…' }
   */
  head(): { index: number; hash: Hex } | undefined {
    const last = this.#last.get() as { idx: number; hash: string } | undefined
    return last === undefined ? undefined : { index: last.idx, hash: last.hash as Hex }
  }

  /**
   * Recomputes the whole chain from the stored rows (see {@link verifyLogEntries}) and reports the first
   * broken entry: edited data, time, kind, hash or prevHash, a deleted or reordered row. It also checks each
   * `log-anchor` entry's `head` against the entry it names. With `head`, also catches truncation.
   *
   * @example const { ok, brokenAt, reason } = log.verifyChain()
   */
  verifyChain({ head }: { head?: { index: number; hash: Hex } | undefined } = {}): ChainVerification {
    const rows = this.#db.prepare('select * from audit_log order by idx').all() as Row[]
    const entries: unknown[] = []
    for (const row of rows) {
      try {
        entries.push(rowToEntry(row, this.#codec))
      } catch (err) {
        const result = verifyLogEntries(entries)
        if (!result.ok) return result
        return {
          ok: false,
          brokenAt: entries.length,
          reason: err instanceof AuditLogCorruptError ? err.reason : 'row is unreadable',
        }
      }
    }
    const result = verifyLogEntries(entries, { head })
    if (!result.ok) return result
    for (const entry of entries as LogEntry[]) {
      if (entry.kind !== 'log-anchor') continue
      const anchored = entry.data as Partial<LogAnchorLogData>
      const target =
        typeof anchored.index === 'number' && anchored.index < entry.index
          ? (entries[anchored.index] as LogEntry)
          : undefined
      if (target === undefined || target.hash.toLowerCase() !== String(anchored.head).toLowerCase())
        return {
          ok: false,
          brokenAt: entry.index,
          reason: 'log-anchor head does not match the entry it names',
        }
      if (String(anchored.receipt?.leaf).toLowerCase() !== anchoredLeaf(anchored, target.hash))
        return { ok: false, brokenAt: entry.index, reason: 'log-anchor receipt is not for the anchored head' }
    }
    return { ok: true }
  }
}

// The leaf a log-anchor's receipt must be for: the signed log-head statement's leaf (the raw head for old entries).
function anchoredLeaf(data: Partial<LogAnchorLogData>, head: Hex): string | undefined {
  if (data.statement === undefined && data.signature === undefined) return head.toLowerCase()
  try {
    const bytes = new Uint8Array(Buffer.from(String(data.statement).slice(2), 'hex'))
    const statement = decodeLogHeadStatement(bytes)
    if (statement.logIndex !== data.index || statement.head !== head.toLowerCase()) return undefined
    return logHeadLeaf(bytes, data.signature as Hex)
  } catch {
    return undefined
  }
}

function rowToEntry(row: Row, codec?: AuditLogParameters['codec']): LogEntry {
  let data: unknown
  try {
    data = JSON.parse(codec ? codec.open(row.idx, row.data) : row.data)
  } catch {
    throw new AuditLogCorruptError({ index: row.idx, reason: 'data is not JSON' })
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new AuditLogCorruptError({ index: row.idx, reason: 'data is not a JSON object' })
  return {
    index: row.idx,
    at: row.at,
    kind: row.kind as LogKind,
    data: data as JsonObject,
    prevHash: row.prev_hash as Hex,
    hash: row.hash as Hex,
  }
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/
