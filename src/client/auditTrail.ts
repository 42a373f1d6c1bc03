/** The device's tamper-evident log as the client writes it: entries, and anchoring its head every few entries. */
import type { Hex } from 'viem'
import type { Receipt } from '../protocol/receipt.js'
import { receiptToJson } from '../protocol/receipt.js'
import { AuditLog, type LogDataByKind, type LogKind } from '../store/auditLog.js'
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
 * Appends log entries and anchors the log's head every `every` entries. A head submitted for anchoring is stored
 * as pending (it survives restarts, and several can be in flight) until its receipt arrives.
 *
 * @example
 * const trail = new AuditTrail({ log, store, every: 32, submitHead: (hash) => leaves.submitLogHead(hash) })
 * trail.append('rejected', { envelopeId, code, step })
 */
export class AuditTrail {
  readonly log: AuditLog
  readonly #store: DeviceStore
  readonly #every: number
  readonly #submitHead: ((hash: Hex) => Promise<void>) | undefined

  constructor(p: {
    log: AuditLog
    /** Keeps the pending anchors. */
    store: DeviceStore
    /** Anchor every this many entries (0 disables). */
    every: number
    /** Submits a head for anchoring; undefined when the transport cannot anchor. */
    submitHead: ((hash: Hex) => Promise<void>) | undefined
  }) {
    this.log = p.log
    this.#store = p.store
    this.#every = p.every
    this.#submitHead = p.submitHead
  }

  /**
   * Appends an entry; every `every`-th entry's hash is submitted for anchoring (in the background).
   *
   * @example trail.append('sent', { envelopeId, conversation, statement, signature, leaf, body })
   */
  append<K extends LogKind>(kind: K, data: LogDataByKind[K]): void {
    const entry = this.log.append({ kind, data })
    if (this.#every > 0 && (entry.index + 1) % this.#every === 0 && this.#submitHead) {
      this.#store.putPendingLogAnchor(entry)
      this.#submitHead(entry.hash).catch(() => undefined)
    }
  }

  /**
   * Anchors the current head now; resolves with its hash once submitted (undefined for an empty log, or a transport
   * that cannot anchor).
   *
   * @example const head = await trail.anchorHead()
   */
  async anchorHead(): Promise<Hex | undefined> {
    const head = this.log.head()
    if (!head || !this.#submitHead) return undefined
    this.#store.putPendingLogAnchor(head)
    await this.#submitHead(head.hash)
    return head.hash
  }

  /**
   * Log heads submitted for anchoring whose receipts have not arrived yet, oldest first.
   *
   * @example for (const head of trail.pending()) leaves.submit(inbox, head.hash)
   */
  pending(): { index: number; hash: Hex }[] {
    return this.#store.pendingLogAnchors().map((a) => ({ index: a.index, hash: a.hash as Hex }))
  }

  /**
   * Logs a verified receipt for a pending log head (`log-anchor` entry) and forgets it; false if `receipt` is for no
   * pending head. Call inside the transaction that records the receipt.
   *
   * @example if (!trail.anchored(receipt)) …
   */
  anchored(receipt: Receipt): boolean {
    const pending = this.#store.pendingLogAnchor(receipt.leaf)
    if (!pending) return false
    this.append('log-anchor', { index: pending.index, head: receipt.leaf, receipt: receiptToJson(receipt) })
    this.#store.deletePendingLogAnchor(receipt.leaf)
    return true
  }
}
