/** Anchoring the alert-log head: its leaf, the anchor records kept beside the log, and their check (protocol §16.1). */
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import type { Hex } from 'viem'
import { type Receipt, type ReceiptJson, receiptFromJson, receiptToJson } from '../protocol/receipt.js'
import type { AlertLogEntry } from './alertLog.js'
import { IdsAlertLogAnchorError, IdsAlertLogTamperedError, IdsAlertLogTruncatedError } from './errors.js'

/** Domain-separation label of an alert-log head leaf. @example LABEL_IDS_ALERT_HEAD // 'sealpost/v1/ids-alert-head' */
export const LABEL_IDS_ALERT_HEAD = 'sealpost/v1/ids-alert-head'

/**
 * The topic an anchorer publishes alert-head receipts on: SHA-256 of the label (no device subscribes to it; the
 * receipts that matter are in the anchor records).
 *
 * @example anchorer.submit({ leaf, topic: IDS_ALERT_HEAD_TOPIC, submitter: ZERO })
 */
export const IDS_ALERT_HEAD_TOPIC: Hex = `0x${bytesToHex(sha256(utf8ToBytes(LABEL_IDS_ALERT_HEAD)))}`

/**
 * The 32-byte leaf that commits to an alert log of `size` entries whose last hash is `head`:
 * SHA-256("sealpost/v1/ids-alert-head" ‖ 0x00 ‖ size (u64 big-endian) ‖ head (32)).
 *
 * @example alertHeadLeaf(3, log.head) // '0x…'
 */
export function alertHeadLeaf(size: number, head: string): Hex {
  const label = utf8ToBytes(LABEL_IDS_ALERT_HEAD)
  const input = new Uint8Array(label.length + 1 + 8 + 32)
  input.set(label, 0)
  new DataView(input.buffer).setBigUint64(label.length + 1, BigInt(size))
  input.set(hexToBytes(head.slice(2)), label.length + 9)
  return `0x${bytesToHex(sha256(input))}`
}

/**
 * One anchored head: the log had `size` entries ending in `head`, and `receipt` proves `leaf` anchored on chain.
 *
 * @example const r: AlertAnchorRecord = { size: 3, head: '0x…', leaf: alertHeadLeaf(3, head), receipt }
 */
export type AlertAnchorRecord = { size: number; head: string; leaf: Hex; receipt: Receipt }

/**
 * Where the anchor records of an alert log live: beside it, `<log>.anchors.jsonl`.
 *
 * @example alertAnchorsPath('ids-alerts.jsonl') // 'ids-alerts.anchors.jsonl'
 */
export function alertAnchorsPath(logPath: string): string {
  return `${logPath.replace(/\.jsonl$/, '')}.anchors.jsonl`
}

/** Appends one anchor record (JSON line, receipt in its JSON form). @example appendAlertAnchor(path, record) */
export function appendAlertAnchor(path: string, record: AlertAnchorRecord): void {
  const line = { ...record, receipt: receiptToJson(record.receipt) }
  appendFileSync(path, `${JSON.stringify(line)}\n`, { mode: 0o600 })
}

/**
 * Reads anchor records (none when the file is absent); a line that does not parse is an IdsAlertLogAnchorError.
 *
 * @example readAlertAnchors(alertAnchorsPath('ids-alerts.jsonl')).length
 */
export function readAlertAnchors(path: string): AlertAnchorRecord[] {
  if (!existsSync(path)) return []
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
  return lines.map((line, i) => {
    try {
      const r = JSON.parse(line) as Omit<AlertAnchorRecord, 'receipt'> & { receipt: ReceiptJson }
      if (!Number.isSafeInteger(r.size) || r.size < 1 || typeof r.head !== 'string') throw new Error('shape')
      return { size: r.size, head: r.head, leaf: r.leaf, receipt: receiptFromJson(r.receipt) }
    } catch {
      throw new IdsAlertLogAnchorError({ size: 0, problem: `anchor record ${i} does not parse` })
    }
  })
}

/**
 * Checks a verified chain of entries against anchored heads, without the chain: each record's leaf is the leaf of
 * its size and head and the receipt's leaf; the log holds at least `size` entries (else IdsAlertLogTruncatedError);
 * entry `size − 1` has hash `head` (else IdsAlertLogTamperedError: an entry at or before it was changed and the
 * chain recomputed). Returns the largest anchored size (0 without records). The receipts' on-chain check is the
 * caller's (`verifyReceipt`).
 *
 * @example const anchored = checkAlertAnchors(verifyAlertLog(text), readAlertAnchors(path))
 */
export function checkAlertAnchors(
  entries: readonly AlertLogEntry[],
  records: readonly AlertAnchorRecord[],
): number {
  let anchored = 0
  for (const r of records) {
    if (
      alertHeadLeaf(r.size, r.head) !== r.leaf.toLowerCase() ||
      r.receipt.leaf.toLowerCase() !== r.leaf.toLowerCase()
    )
      throw new IdsAlertLogAnchorError({ size: r.size, problem: 'leaf is not that of the size and head' })
    if (entries.length < r.size)
      throw new IdsAlertLogTruncatedError({ entries: entries.length, anchored: r.size })
    if (entries[r.size - 1]?.hash !== r.head)
      throw new IdsAlertLogTamperedError({
        index: r.size - 1,
        problem: 'hash differs from the anchored head',
      })
    anchored = Math.max(anchored, r.size)
  }
  return anchored
}
