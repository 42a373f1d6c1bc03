/** A live IDS inside a running node: a buffered sink (O(1) emit), batch ingestion, the event stream and alert log on disk, state kept across restarts. */
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { AlertLog } from './alertLog.js'
import type { Alert } from './alerts.js'
import { type IdsConfig, IdsEngine } from './engine.js'
import type { IdsEvent, IdsEventSink } from './events.js'
import { loadIdsState, saveIdsState } from './state.js'

/** Names of the files a live IDS keeps in its directory. @example join(home, IDS_FILES.alerts) */
export const IDS_FILES = {
  events: 'ids-events.jsonl',
  alerts: 'ids-alerts.jsonl',
  state: 'ids-state.json',
} as const

/**
 * Options of `startLiveIds`.
 *
 * @example const o: LiveIdsOptions = { dir: '/home/me/.sealpost/relay', config: { knownAnchorers: ['0xA…'] } }
 */
export type LiveIdsOptions = {
  /** Where the event stream, the alert log and the saved state go (created if missing). */
  dir: string
  config?: Partial<IdsConfig> | undefined
  /** Events held between two drains; past it new events are dropped and counted (`dropped`). Default 100,000. */
  maxBuffered?: number | undefined
  /** Write every event as a JSON line to `ids-events.jsonl` (default true). */
  writeEvents?: boolean | undefined
  /** Wall clock, for closing a window nothing arrived in (default Date.now). */
  now?: (() => number) | undefined
  /** Hears each alert after it is in the log. */
  onAlert?: ((alert: Alert) => void) | undefined
}

/**
 * A running live IDS. `sink` is what taps get: `emit` only pushes onto a buffer and schedules a drain on the next
 * event-loop turn, so the caller's hot path pays one array push.
 *
 * @example const ids = startLiveIds({ dir }); relay = new RelayServer({ …, ids: ids.sink }); await ids.stop()
 */
export type LiveIds = {
  readonly sink: IdsEventSink
  readonly engine: IdsEngine
  readonly log: AlertLog
  /** Events refused because the buffer was full (the engine's own shedding counts the rest). */
  readonly dropped: number
  /** Alerts the alert log could not append (a failing disk); they are still in `engine.alerts()`. */
  readonly logFailures: number
  /** Hears each alert after it is in the log (the dashboard); returns the function that stops. */
  onAlert(listener: (alert: Alert) => void): () => void
  /** Ingests everything buffered now (tests and `stop` call it; a drain runs by itself otherwise). */
  drain(): void
  /** Drains, then closes the current window so its models score now (end of a test, or on stop). */
  closeWindow(): Alert[]
  /** Drains, saves the engine state to `ids-state.json` and closes the event stream (once; later calls do nothing). */
  stop(): Promise<void>
}

/**
 * Starts a live IDS over `dir`: restores `ids-state.json` when present (a restart continues the models), continues
 * the alert log `ids-alerts.jsonl` (checked on open) and appends the event stream to `ids-events.jsonl`. A timer
 * closes a window that wall-clock time has passed with no event to close it.
 *
 * @example const ids = startLiveIds({ dir: node.stateDir, config: { warmupMs: 0 } }); ids.sink.emit(event)
 */
export function startLiveIds(options: LiveIdsOptions): LiveIds {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 })
  const statePath = join(options.dir, IDS_FILES.state)
  let logFailures = 0
  const listeners = new Set<(a: Alert) => void>()
  const log = AlertLog.open(join(options.dir, IDS_FILES.alerts))
  const engine = new IdsEngine(options.config ?? {}, {
    ...(existsSync(statePath) ? { state: loadIdsState(statePath) } : {}),
    onAlert: (a) => {
      try {
        log.append(a)
      } catch {
        logFailures += 1 // a failing disk must not take the relay down; the count says alerts are missing
      }
      options.onAlert?.(a)
      for (const l of listeners) l(a)
    },
  })
  const now = options.now ?? Date.now
  const max = options.maxBuffered ?? 100_000
  const stream: WriteStream | undefined =
    options.writeEvents === false
      ? undefined
      : createWriteStream(join(options.dir, IDS_FILES.events), { flags: 'a', mode: 0o600 })
  // A failing disk stops the stream, not the relay: the engine and the alert log go on.
  let streamFailed = false
  stream?.on('error', () => {
    streamFailed = true
  })
  let buffer: IdsEvent[] = []
  let scheduled = false
  let dropped = 0
  let lastT: number | undefined
  let closedAfter: number | undefined
  let stopped = false
  const { windowMs, lateMs } = engine.config

  const drain = () => {
    scheduled = false
    if (buffer.length === 0) return
    const batch = buffer
    buffer = []
    let lines = ''
    for (const e of batch) {
      engine.ingest(e)
      if (lastT === undefined || e.t > lastT) lastT = e.t
      if (stream) lines += `${JSON.stringify(e)}\n`
    }
    if (stream && !streamFailed) stream.write(lines)
  }
  const sink: IdsEventSink = {
    emit(event) {
      if (stopped) return
      if (buffer.length >= max) {
        dropped += 1
        return
      }
      buffer.push(event)
      if (!scheduled) {
        scheduled = true
        setImmediate(drain)
      }
    },
  }
  // A window is scored when a later event arrives; on a quiet relay this closes it once its time has passed.
  const timer = setInterval(
    () => {
      drain()
      if (lastT === undefined) return
      const end = Math.floor(lastT / windowMs) * windowMs + windowMs
      if (now() >= end + lateMs && closedAfter !== lastT) {
        closedAfter = lastT
        engine.flush()
      }
    },
    Math.min(windowMs, 30_000),
  )
  timer.unref()

  return {
    sink,
    engine,
    log,
    get dropped() {
      return dropped
    },
    get logFailures() {
      return logFailures
    },
    drain,
    onAlert(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    closeWindow() {
      drain()
      return engine.flush()
    },
    async stop() {
      if (stopped) return
      stopped = true
      clearInterval(timer)
      drain()
      saveIdsState(statePath, engine.exportState())
      if (stream && !streamFailed) await new Promise<void>((resolve) => stream.end(resolve))
    },
  }
}
