/** The response log: throttles, quarantines and operators' lifts as JSON lines, folded into who is restricted now. */
import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs'
import { IdsQuarantineNotFoundError } from './errors.js'
import type { ResponseAction } from './response.js'

/**
 * An active quarantine: the device, since when, and what caused it.
 *
 * @example const q: Quarantine = { entity: 'device:0xab…', at: 0, alert: 'a-3', category: 'spam-fanout' }
 */
export type Quarantine = Omit<ResponseAction, 'action' | 'until'>

/**
 * An append-only file of {@link ResponseAction}s (`ids-responses.jsonl`), written by the live IDS and by operators
 * (`sealpost ids quarantine lift`): each line is appended whole, so both may write; `refresh()` reads what others
 * appended. The state is the fold of the lines: a quarantine holds until a `lift` of its device, a throttle until
 * its `until`.
 *
 * @example const log = ResponseLog.open(join(dir, 'ids-responses.jsonl')); log.isQuarantined('device:0xab…')
 */
export class ResponseLog {
  readonly #quarantines = new Map<string, Quarantine>()
  readonly #throttles = new Map<string, number>()
  #offset = 0

  private constructor(readonly path: string) {}

  /** Opens the log at `path` (an absent file is an empty log). @example ResponseLog.open('/tmp/ids-responses.jsonl') */
  static open(path: string): ResponseLog {
    const log = new ResponseLog(path)
    log.refresh()
    return log
  }

  /** Reads the lines appended since the last read (by this process or another). @example log.refresh() */
  refresh(): void {
    if (!existsSync(this.path)) return
    const fd = openSync(this.path, 'r')
    try {
      const size = fstatSync(fd).size
      if (size <= this.#offset) return
      const buf = Buffer.alloc(size - this.#offset)
      readSync(fd, buf, 0, buf.length, this.#offset)
      const end = buf.lastIndexOf(0x0a) + 1 // a line still being written waits for the next read
      this.#offset += end
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        if (line.trim() === '') continue
        try {
          this.#fold(JSON.parse(line) as ResponseAction)
        } catch {
          // A damaged line restricts nobody; the rest of the log still applies.
        }
      }
    } finally {
      closeSync(fd)
    }
  }

  /** Appends one action and applies it. @example log.record({ action: 'quarantine', entity: 'device:0xab…', at: Date.now(), by: 'alice' }) */
  record(action: ResponseAction): void {
    this.refresh()
    appendFileSync(this.path, `${JSON.stringify(action)}\n`, { mode: 0o600 })
    this.refresh()
  }

  /**
   * Lifts the quarantine of `device` (`device:0x…` or the bare id); throws IdsQuarantineNotFoundError if none holds.
   *
   * @example log.lift('0xab…', { by: 'operator', now: Date.now() })
   */
  lift(device: string, { by, now }: { by: string; now: number }): Quarantine {
    this.refresh()
    const entity = deviceEntity(device)
    const q = this.#quarantines.get(entity)
    if (!q) throw new IdsQuarantineNotFoundError({ device: entity })
    this.record({ action: 'lift', entity, at: now, by })
    return q
  }

  /** Active quarantines, oldest first. @example log.quarantines().map((q) => q.entity) */
  quarantines(): Quarantine[] {
    return [...this.#quarantines.values()].sort((a, b) => a.at - b.at)
  }

  /** Whether no quarantine or throttle is on record (the relay's per-frame check stops here). @example if (log.idle) return */
  get idle(): boolean {
    return this.#quarantines.size === 0 && this.#throttles.size === 0
  }

  /** Whether `entity` (`device:0x…`) is quarantined. @example log.isQuarantined('device:0xab…') */
  isQuarantined(entity: string): boolean {
    return this.#quarantines.has(entity)
  }

  /** When the throttle of `entity` (`ip:…` or `device:…`) ends, if one holds at `now`. @example log.throttledUntil('ip:10.0.0.9', Date.now()) */
  throttledUntil(entity: string, now: number): number | undefined {
    const until = this.#throttles.get(entity)
    if (until === undefined) return undefined
    if (until > now) return until
    this.#throttles.delete(entity)
    return undefined
  }

  #fold(a: ResponseAction): void {
    if (typeof a !== 'object' || a === null || typeof a.entity !== 'string') return
    if (a.action === 'quarantine' && !this.#quarantines.has(a.entity)) {
      const { action: _a, until: _u, ...q } = a
      this.#quarantines.set(a.entity, q)
    } else if (a.action === 'lift') {
      this.#quarantines.delete(a.entity)
      this.#throttles.delete(a.entity)
    } else if (a.action === 'throttle' && typeof a.until === 'number')
      this.#throttles.set(a.entity, Math.max(a.until, this.#throttles.get(a.entity) ?? 0))
  }
}

/**
 * The entity name of a device id (`device:` and lower case), accepting either form.
 *
 * @example deviceEntity('0xAB') // 'device:0xab'
 */
export function deviceEntity(device: string): string {
  const id = device.startsWith('device:') ? device.slice('device:'.length) : device
  return `device:${id.toLowerCase()}`
}
