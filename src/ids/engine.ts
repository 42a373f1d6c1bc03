/** IdsEngine: events in, alerts out. Windows of event time, rules per event, models per window, load shedding. */
import { type Alert, type Incident, SEVERITIES } from './alerts.js'
import { correlate } from './correlate.js'
import { type IdsThresholds, newModels, scoreWindow } from './detectors.js'
import { type IdsEventMalformedError, IdsEventOutOfOrderError } from './errors.js'
import { decodeIdsEvent, type IdsEvent, type IdsEventSink } from './events.js'
import { evictEntities } from './evict.js'
import { type AlertDraft, type RuleContext, ruleAlerts } from './rules.js'
import { type EngineInternals, type IdsState, restoreInternals, snapshotInternals } from './state.js'
import { DEFAULT_THRESHOLDS } from './thresholds.js'
import { accumulate, newWindow } from './window.js'

/**
 * Engine settings; every field has a default (docs/ids.md §4).
 *
 * @example new IdsEngine({ warmupMs: 0, knownAnchorers: ['0xA…'] })
 */
export type IdsConfig = {
  /** Window of event time the models score (default 10 min). */
  windowMs: number
  /** No anomaly alerts before this much event time has been seen (rules fire at once; default 24 h). */
  warmupMs: number
  /** An event older than the current window start minus this is out of order (default 60 s). */
  lateMs: number
  /** A forward jump larger than this skips the empty windows in between and says so (default 6 h). */
  maxJumpMs: number
  /** Events per window before shedding: past it only rule events are processed (default 50,000). */
  maxEventsPerWindow: number
  /**
   * Entries per entity table (known devices, relays, each model's baselines and sliding sums, accounts' peers,
   * revoked devices) before the least recently active are dropped at a window's close (default 100,000).
   */
  maxEntities: number
  knownAnchorers: string[]
  thresholds: IdsThresholds
  /** Also run the fixed-threshold baseline detector (for the evaluation). */
  fixedBaseline: boolean
}

/** Defaults. @example DEFAULT_IDS_CONFIG.windowMs // 600000 */
export const DEFAULT_IDS_CONFIG: IdsConfig = {
  windowMs: 600_000,
  warmupMs: 24 * 3600_000,
  lateMs: 60_000,
  maxJumpMs: 6 * 3600_000,
  maxEventsPerWindow: 50_000,
  maxEntities: 100_000,
  knownAnchorers: [],
  thresholds: DEFAULT_THRESHOLDS,
  fixedBaseline: false,
}

/**
 * Counters an operator reads: what came in, what was refused or shed, and why.
 *
 * @example engine.stats.shed // events dropped under load
 */
export type IdsStats = {
  ingested: number
  malformed: number
  outOfOrder: number
  shed: number
  clockJumps: number
  /** Entity-table entries dropped to stay within `maxEntities` (absent in states saved before it: 0). */
  evicted?: number
  windows: number
  alerts: number
}

/** What ingesting an untrusted value gave. @example const r: IngestResult = engine.ingestUnknown(JSON.parse(line)) */
export type IngestResult =
  | { ok: true; alerts: Alert[] }
  | { ok: false; error: IdsEventMalformedError | IdsEventOutOfOrderError }

const RULE_KINDS = new Set([
  'verify-fail',
  'anchor',
  'auth',
  'device-added',
  'device-revoked',
  'welcome',
  'config',
])

/**
 * The IDS. Taps call `ingest` (or use it as an `IdsEventSink`); `onAlert` sees every alert as it fires (the CLI
 * writes them to the alert log). Deterministic: the same events give the same alerts.
 *
 * @example const ids = new IdsEngine({}, { onAlert: (a) => log.append(a) }); for (const e of events) ids.ingest(e); ids.flush()
 */
export class IdsEngine implements IdsEventSink {
  readonly config: IdsConfig
  readonly stats: IdsStats
  private s: EngineInternals
  private readonly kept: Alert[] = []
  private readonly onAlert: ((a: Alert) => void) | undefined

  constructor(
    config: Partial<IdsConfig> = {},
    options: { onAlert?: (a: Alert) => void; state?: IdsState } = {},
  ) {
    this.config = { ...DEFAULT_IDS_CONFIG, ...config }
    this.onAlert = options.onAlert
    this.s = options.state
      ? restoreInternals(options.state)
      : {
          window: undefined,
          firstAt: undefined,
          models: newModels(),
          peers: new Map(),
          revoked: new Set(),
          oddLinked: new Map(),
          anchorers: new Set(this.config.knownAnchorers),
          dedupe: new Set(),
          seq: 0,
          shedInWindow: 0,
          stats: { ingested: 0, malformed: 0, outOfOrder: 0, shed: 0, clockJumps: 0, windows: 0, alerts: 0 },
        }
    for (const a of this.config.knownAnchorers) this.s.anchorers.add(a)
    this.stats = this.s.stats
  }

  /** `IdsEventSink`: same as `ingest`. @example tap.sink = engine */
  emit(event: IdsEvent): void {
    this.ingest(event)
  }

  /**
   * Decodes an untrusted value and ingests it; a malformed or out-of-order event is counted and returned as a typed
   * error, never thrown.
   *
   * @example const r = engine.ingestUnknown(JSON.parse(line)); if (!r.ok) console.warn(r.error.code)
   */
  ingestUnknown(value: unknown, line?: number): IngestResult {
    let e: IdsEvent
    try {
      e = decodeIdsEvent(value, line)
    } catch (error) {
      this.s.stats.malformed += 1
      return { ok: false, error: error as IdsEventMalformedError }
    }
    return this.ingestChecked(e)
  }

  /** Ingests a typed event; returns the alerts it caused (out-of-order events are counted and skipped). @example engine.ingest(e) */
  ingest(e: IdsEvent): Alert[] {
    const r = this.ingestChecked(e)
    return r.ok ? r.alerts : []
  }

  private ingestChecked(e: IdsEvent): IngestResult {
    const out: Alert[] = []
    const { windowMs, lateMs, maxJumpMs } = this.config
    const s = this.s
    if (s.window === undefined) s.window = newWindow(Math.floor(e.t / windowMs) * windowMs)
    const w = s.window
    if (e.t < w.start - lateMs) {
      s.stats.outOfOrder += 1
      return { ok: false, error: new IdsEventOutOfOrderError({ at: e.t, clock: w.start, lateness: lateMs }) }
    }
    s.firstAt ??= e.t
    if (e.t >= w.start + windowMs) {
      if (e.t - (w.start + windowMs) > maxJumpMs) {
        out.push(...this.closeWindow())
        s.stats.clockJumps += 1
        out.push(
          this.record({
            at: e.t,
            severity: 'info',
            category: 'clock-jump',
            detector: { type: 'engine', name: 'clock-jump' },
            score: e.t - w.start,
            entities: ['ids'],
            summary: `event time jumped ${Math.round((e.t - w.start) / 60_000)} min ahead; the windows between were skipped`,
            evidence: { from: w.start, to: e.t },
          }),
        )
        s.window = newWindow(Math.floor(e.t / windowMs) * windowMs)
      } else
        while (e.t >= (s.window as NonNullable<typeof s.window>).start + windowMs) {
          const next = (s.window as NonNullable<typeof s.window>).start + windowMs
          out.push(...this.closeWindow())
          s.window = newWindow(next)
        }
    }
    const cur = s.window as NonNullable<typeof s.window>
    s.stats.ingested += 1
    if (cur.events >= this.config.maxEventsPerWindow && !RULE_KINDS.has(e.kind)) {
      s.stats.shed += 1
      s.shedInWindow += 1
      return { ok: true, alerts: out }
    }
    if (e.kind === 'config') for (const a of e.knownAnchorers) s.anchorers.add(a)
    if (e.kind === 'device-revoked') s.revoked.add(e.device)
    for (const d of ruleAlerts(e, this.ruleContext())) {
      if (d.dedupe !== undefined) {
        if (s.dedupe.has(d.dedupe)) continue
        s.dedupe.add(d.dedupe)
      }
      if (d.detector.name === 'odd-hour-link' && e.kind === 'device-added') s.oddLinked.set(e.device, e.t)
      out.push(this.record(d))
    }
    accumulate(cur, e, s.peers)
    return { ok: true, alerts: out }
  }

  /** Closes the current window (at the end of a file, or before saving at a window boundary). @example engine.flush() */
  flush(): Alert[] {
    const out = this.closeWindow()
    if (this.s.window) this.s.window = newWindow(this.s.window.start + this.config.windowMs)
    return out
  }

  private closeWindow(): Alert[] {
    const s = this.s
    const w = s.window
    if (!w) return []
    const end = w.start + this.config.windowMs
    s.stats.windows += 1
    for (const [d, t] of s.oddLinked) if (end - t > 24 * 3600_000) s.oddLinked.delete(d)
    const drafts = scoreWindow(w, s.models, {
      thresholds: this.config.thresholds,
      armed: s.firstAt !== undefined && end - s.firstAt >= this.config.warmupMs,
      oddLinked: s.oddLinked,
      fixed: this.config.fixedBaseline,
      end,
    })
    if (s.shedInWindow > 0)
      drafts.push({
        at: end,
        severity: 'medium',
        category: 'load-shedding',
        detector: { type: 'engine', name: 'load-shedding' },
        score: s.shedInWindow,
        entities: ['ids'],
        summary: `shed ${s.shedInWindow} of ${w.events + s.shedInWindow} events in a window (limit ${this.config.maxEventsPerWindow}); only rules ran on the rest`,
        evidence: { shed: s.shedInWindow, processed: w.events, windowFrom: w.start, windowTo: end },
      })
    s.shedInWindow = 0
    const dropped = evictEntities(s.models, s.peers, s.revoked, this.config.maxEntities)
    if (dropped > 0) s.stats.evicted = (s.stats.evicted ?? 0) + dropped
    s.dedupe.clear()
    return drafts.map((d) => this.record(d))
  }

  private ruleContext(): RuleContext {
    const b = this.s.models.baselines['device.publishes'].population
    return {
      knownAnchorers: this.s.anchorers,
      revoked: this.s.revoked,
      isOddHour: (t) => {
        const h = new Date(t).getUTCHours()
        if (b.n.some((n) => n < 6)) return false
        const peak = Math.max(...b.m)
        return (b.m[h] ?? 0) < 0.1 * peak
      },
    }
  }

  private record(d: AlertDraft): Alert {
    const { dedupe: _, ...rest } = d
    const alert: Alert = { id: `a-${++this.s.seq}`, ...rest }
    this.s.stats.alerts += 1
    if (this.kept.length < 200_000) this.kept.push(alert)
    this.onAlert?.(alert)
    return alert
  }

  /** The alerts of this run (since construction or restore). @example engine.alerts().length */
  alerts(): readonly Alert[] {
    return this.kept
  }

  /**
   * Incidents of this run's alerts, optionally only those at or above `minSeverity`.
   *
   * @example engine.incidents().map((i) => `${i.kind} ${i.entities.join(',')}`)
   */
  incidents(minSeverity: (typeof SEVERITIES)[number] = 'low'): Incident[] {
    const min = SEVERITIES.indexOf(minSeverity)
    return correlate(this.kept).filter((i) => SEVERITIES.indexOf(i.severity) >= min)
  }

  /** The model state as plain JSON (restore with `new IdsEngine(config, { state })`). @example writeFileSync(p, JSON.stringify(engine.exportState())) */
  exportState(): IdsState {
    return snapshotInternals(this.s)
  }
}
