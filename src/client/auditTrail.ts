/** The device's tamper-evident log as the client writes it: entries, signed log heads anchored every few entries, and the signed export. */
import type { Address, Hex } from 'viem'
import type { DeviceSigningKey } from '../crypto/p256.js'
import { signLogHeadStatement } from '../crypto/statementSignature.js'
import { type LogHeadStatement, logHeadLeaf, type SignedLogHead } from '../protocol/logHeadStatement.js'
import type { Receipt } from '../protocol/receipt.js'
import { receiptToJson } from '../protocol/receipt.js'
import { AuditLog, type LogDataByKind, type LogEntry, type LogKind } from '../store/auditLog.js'
import type { DeviceStore } from '../store/deviceStore.js'

/**
 * Opens the audit log in the device store, its entries sealed at rest like every other secret row (they carry
 * message bodies).
 *
 * @example const log = openAuditLog(store)
 */
export function openAuditLog(store: DeviceStore): AuditLog {
  return new AuditLog({
    db: store.db,
    codec: {
      seal: (index, json) =>
        `sealed:${Buffer.from(store.seal('audit_log', String(index), new TextEncoder().encode(json))).toString('base64')}`,
      open: (index, stored) =>
        stored.startsWith('sealed:')
          ? new TextDecoder().decode(
              store.open('audit_log', String(index), Buffer.from(stored.slice(7), 'base64')),
            )
          : stored,
    },
  })
}

/**
 * Who signs the log's heads: the log's own device, for its deployment, with a recent block.
 *
 * @example const signer: LogSigner = { chainId, registry, account, deviceId, key, recentBlock: () => chain.recentBlock() }
 */
export type LogSigner = {
  chainId: number
  registry: Address
  account: Address
  deviceId: Hex
  key: DeviceSigningKey
  recentBlock(): Promise<{ number: bigint; hash: Hex }>
}

/**
 * A signed log head or export as it travels in a log entry or a transcript: the statement's bytes and the signature,
 * both hex.
 *
 * @example const { statement, signature }: SignedLogHeadHex = signLogExport({ last: log.head(), signer, block })
 */
export type SignedLogHeadHex = { statement: Hex; signature: Hex }

/**
 * Signs a log-head (`kind: 'head'`) or export (`kind: 'export'`) statement for entry `head` of the log.
 *
 * @example const signed = signLogHead({ kind: 'head', head: log.head()!, prev: undefined, signer, block })
 */
export function signLogHead({
  kind,
  head,
  prev,
  signer,
  block,
}: {
  kind: LogHeadStatement['kind']
  head: { index: number; hash: Hex }
  prev: { index: number; head: Hex } | undefined
  signer: Omit<LogSigner, 'recentBlock'>
  block: { number: bigint; hash: Hex }
}): SignedLogHead {
  return signLogHeadStatement({
    key: signer.key,
    statement: {
      kind,
      chainId: signer.chainId,
      registry: signer.registry,
      account: signer.account,
      device: signer.deviceId,
      logIndex: head.index,
      head: head.hash,
      prev: prev === undefined || prev.index >= head.index ? undefined : prev,
      block,
    },
  })
}

/**
 * Signs the export of a whole log: a log-export statement (type 3) over its last entry's index and hash, by the
 * log's own device, so a transcript truncated after export no longer matches it (see `verifyLogExport` in
 * `checkLogExport.ts`). `last` is the last exported entry (undefined for an empty log: nothing to sign); `prev` is the
 * last log head the device signed for anchoring, if any.
 *
 * @example const { statement, signature } = signLogExport({ last: log.head(), signer, block: await chain.recentBlock() })
 */
export function signLogExport({
  last,
  signer,
  block,
  prev,
}: {
  last: Pick<LogEntry, 'index' | 'hash'> | undefined
  signer: Omit<LogSigner, 'recentBlock'>
  block: { number: bigint; hash: Hex }
  prev?: { index: number; head: Hex } | undefined
}): SignedLogHeadHex | undefined {
  if (!last) return undefined
  const signed = signLogHead({ kind: 'export', head: last, prev, signer, block })
  return { statement: toHex(signed.bytes), signature: signed.signature }
}

const SCHEMA = `create table if not exists log_head_statements (
  leaf text primary key, idx integer not null, head text not null, statement text not null, signature text not null,
  anchored integer not null default 0)`

/**
 * Appends log entries and anchors the log's head every `every` entries. Each head is first signed by the log's own
 * device as a log-head statement naming the head it signed before (`prev`), and the leaf of that signed statement is
 * what gets anchored, so nobody else can anchor a head for this log. Signed heads are kept in the device store (they
 * survive restarts, and several can be in flight) until their receipt arrives.
 *
 * @example
 * const trail = new AuditTrail({ log, store, every: 32, submitHead: (leaf) => leaves.submitLogHead(leaf), signer })
 * trail.append('rejected', { envelopeId, code, step })
 */
export class AuditTrail {
  readonly log: AuditLog
  readonly #store: DeviceStore
  readonly #every: number
  readonly #submitHead: ((leaf: Hex) => Promise<void>) | undefined
  readonly #signer: LogSigner | undefined
  #signing: Promise<unknown> = Promise.resolve()

  constructor(p: {
    log: AuditLog
    /** Keeps the pending anchors and the signed heads. */
    store: DeviceStore
    /** Anchor every this many entries (0 disables). */
    every: number
    /** Submits a signed head's leaf for anchoring; undefined when the transport cannot anchor. */
    submitHead: ((leaf: Hex) => Promise<void>) | undefined
    /** Signs heads; without it nothing is anchored. */
    signer?: LogSigner | undefined
  }) {
    this.log = p.log
    this.#store = p.store
    this.#every = p.every
    this.#submitHead = p.submitHead
    this.#signer = p.signer
    p.store.db.exec(SCHEMA)
  }

  /**
   * Appends an entry; every `every`-th entry's head is signed and submitted for anchoring (in the background).
   *
   * @example trail.append('sent', { envelopeId, conversation, statement, signature, leaf, body })
   */
  append<K extends LogKind>(kind: K, data: LogDataByKind[K]): void {
    const entry = this.log.append({ kind, data })
    if (this.#every > 0 && (entry.index + 1) % this.#every === 0) this.#anchor(entry).catch(() => undefined)
  }

  /**
   * Signs and anchors the current head now; resolves with its hash once submitted (undefined for an empty log, or
   * when the trail cannot anchor).
   *
   * @example const head = await trail.anchorHead()
   */
  async anchorHead(): Promise<Hex | undefined> {
    const head = this.log.head()
    if (!head) return undefined
    return (await this.#anchor(head)) ? head.hash : undefined
  }

  /**
   * The last head this device signed for anchoring (what the next one names as `prev`), if any.
   *
   * @example const prev = trail.lastSignedHead()
   */
  lastSignedHead(): { index: number; head: Hex } | undefined {
    const row = this.#store.db
      .prepare('select idx, head from log_head_statements order by idx desc limit 1')
      .get() as { idx: number; head: string } | undefined
    return row && { index: row.idx, head: row.head as Hex }
  }

  /**
   * Signed log heads submitted for anchoring whose receipts have not arrived yet, oldest first (`hash` is the leaf).
   *
   * @example for (const head of trail.pending()) leaves.submit(inbox, head.hash)
   */
  pending(): { index: number; hash: Hex }[] {
    return this.#store.pendingLogAnchors().map((a) => ({ index: a.index, hash: a.hash as Hex }))
  }

  /**
   * Logs a verified receipt for a pending signed head (`log-anchor` entry with the statement and its signature) and
   * forgets it; false if `receipt` is for no pending head. Call inside the transaction that records the receipt.
   *
   * @example if (!trail.anchored(receipt)) …
   */
  anchored(receipt: Receipt): boolean {
    const pending = this.#store.pendingLogAnchor(receipt.leaf)
    if (!pending) return false
    const row = this.#store.db
      .prepare('select idx, head, statement, signature from log_head_statements where leaf = ?')
      .get(receipt.leaf.toLowerCase()) as
      | { idx: number; head: string; statement: string; signature: string }
      | undefined
    if (row)
      this.append('log-anchor', {
        index: row.idx,
        head: row.head as Hex,
        statement: row.statement as Hex,
        signature: row.signature as Hex,
        receipt: receiptToJson(receipt),
      })
    this.#store.db
      .prepare('update log_head_statements set anchored = 1 where leaf = ?')
      .run(receipt.leaf.toLowerCase())
    this.#store.deletePendingLogAnchor(receipt.leaf)
    return row !== undefined
  }

  // Signs `head` (after any signing in flight, so `prev` is the head signed just before), stores it as pending, and
  // submits its leaf. False when this trail cannot anchor.
  async #anchor(head: Pick<LogEntry, 'index' | 'hash'>): Promise<boolean> {
    const signer = this.#signer
    const submit = this.#submitHead
    if (!signer || !submit) return false
    const run = this.#signing.then(async () => {
      const prev = this.lastSignedHead()
      if (prev && prev.index >= head.index)
        return prev.index === head.index ? this.#leafOf(head.index) : undefined
      const signed = signLogHead({ kind: 'head', head, prev, signer, block: await signer.recentBlock() })
      const leaf = logHeadLeaf(signed.bytes, signed.signature)
      this.#store.transaction(() => {
        this.#store.db
          .prepare(
            'insert or ignore into log_head_statements (leaf, idx, head, statement, signature) values (?, ?, ?, ?, ?)',
          )
          .run(leaf, head.index, head.hash.toLowerCase(), toHex(signed.bytes), signed.signature)
        this.#store.putPendingLogAnchor({ index: head.index, hash: leaf })
      })
      return leaf
    })
    this.#signing = run.catch(() => undefined)
    const leaf = await run
    if (leaf === undefined) return false
    await submit(leaf)
    return true
  }

  #leafOf(index: number): Hex | undefined {
    const row = this.#store.db.prepare('select leaf from log_head_statements where idx = ?').get(index) as
      | { leaf: string }
      | undefined
    return row?.leaf as Hex | undefined
  }
}

function toHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes).toString('hex')}`
}
