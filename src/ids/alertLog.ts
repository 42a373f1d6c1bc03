/** The hash-chained alert log: JSON lines, each entry bound to the previous one by SHA-256 (docs/protocol.md §16). */
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { canonicalJson } from '../protocol/canonicalJson.js'
import type { Alert } from './alerts.js'
import { IdsAlertLogTamperedError } from './errors.js'

/** Domain-separation label of alert-log entry hashes. @example LABEL_IDS_ALERT // 'sealpost/v1/ids-alert' */
export const LABEL_IDS_ALERT = 'sealpost/v1/ids-alert'

const ZERO = `0x${'00'.repeat(32)}`

/**
 * One alert-log entry: `hash` = SHA-256(label ‖ 0x00 ‖ prevHash(32) ‖ utf8(canonicalJson({ index, alert }))).
 *
 * @example const e: AlertLogEntry = { index: 0, alert, prevHash: '0x00…', hash: '0x…' }
 */
export type AlertLogEntry = { index: number; alert: Alert; prevHash: string; hash: string }

/**
 * The hash of an entry from its index, alert and predecessor's hash.
 *
 * @example alertEntryHash(0, alert, `0x${'00'.repeat(32)}`) // '0x…'
 */
export function alertEntryHash(index: number, alert: Alert, prevHash: string): string {
  const label = utf8ToBytes(LABEL_IDS_ALERT)
  const body = utf8ToBytes(canonicalJson({ index, alert }))
  const input = new Uint8Array(label.length + 1 + 32 + body.length)
  input.set(label, 0)
  input.set(hexToBytes(prevHash.slice(2)), label.length + 1)
  input.set(body, label.length + 33)
  return `0x${bytesToHex(sha256(input))}`
}

/**
 * An append-only alert log in a file (created on first append; an existing log is checked and continued).
 *
 * @example const log = AlertLog.open('alerts.jsonl'); log.append(alert); log.head // '0x…'
 */
export class AlertLog {
  private constructor(
    readonly path: string,
    private next: number,
    private last: string,
  ) {}

  /** Opens (and verifies) the log at `path`, or starts an empty one. @example AlertLog.open('/tmp/alerts.jsonl') */
  static open(path: string): AlertLog {
    if (!existsSync(path)) return new AlertLog(path, 0, ZERO)
    const entries = verifyAlertLog(readFileSync(path, 'utf8'))
    const tail = entries[entries.length - 1]
    return new AlertLog(path, entries.length, tail?.hash ?? ZERO)
  }

  /** The hash of the last entry (32 zero bytes when empty): what an anchor would commit to. @example log.head */
  get head(): string {
    return this.last
  }

  /** Number of entries. @example log.size */
  get size(): number {
    return this.next
  }

  /** Appends one alert and returns its entry. @example log.append(alert).index */
  append(alert: Alert): AlertLogEntry {
    const entry: AlertLogEntry = {
      index: this.next,
      alert,
      prevHash: this.last,
      hash: alertEntryHash(this.next, alert, this.last),
    }
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`)
    this.next += 1
    this.last = entry.hash
    return entry
  }
}

/**
 * Checks every entry of an alert log (JSON lines): index in order, `prevHash` the previous `hash`, `hash` recomputed.
 * Throws IdsAlertLogTamperedError naming the first bad entry.
 *
 * @example verifyAlertLog(readFileSync('alerts.jsonl', 'utf8')).length // number of entries
 */
export function verifyAlertLog(text: string): AlertLogEntry[] {
  const entries: AlertLogEntry[] = []
  let prev = ZERO
  const lines = text.split('\n').filter((l) => l.trim() !== '')
  for (let i = 0; i < lines.length; i++) {
    let e: AlertLogEntry
    try {
      e = JSON.parse(lines[i] as string) as AlertLogEntry
    } catch {
      throw new IdsAlertLogTamperedError({ index: i, problem: 'not JSON' })
    }
    if (typeof e !== 'object' || e === null || e.index !== i)
      throw new IdsAlertLogTamperedError({ index: i, problem: 'index out of order' })
    if (e.prevHash !== prev)
      throw new IdsAlertLogTamperedError({ index: i, problem: 'prevHash does not link' })
    let hash: string
    try {
      hash = alertEntryHash(i, e.alert, e.prevHash)
    } catch {
      throw new IdsAlertLogTamperedError({ index: i, problem: 'alert is not canonical JSON' })
    }
    if (hash !== e.hash) throw new IdsAlertLogTamperedError({ index: i, problem: 'hash mismatch' })
    entries.push(e)
    prev = e.hash
  }
  return entries
}
