/** A live IDS inside a running node: a buffered sink (O(1) emit), batch ingestion, the event stream and alert log on disk, state kept across restarts, responses and anchored heads. */
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import type { Hex } from 'viem'
import type { Receipt } from '../protocol/receipt.js'
import { alertHeadLeaf, appendAlertAnchor, IDS_ALERT_HEAD_TOPIC } from './alertAnchor.js'
import { AlertLog } from './alertLog.js'
import type { Alert } from './alerts.js'
import { type IdsConfig, IdsEngine } from './engine.js'
import type { IdsEvent, IdsEventSink } from './events.js'
import { DEFAULT_RESPONSE_POLICY, decideResponse, type ResponsePolicy } from './response.js'
import { ResponseLog } from './responseLog.js'
import { loadIdsState, saveIdsState } from './state.js'

/** Names of the files a live IDS keeps in its directory. @example join(home, IDS_FILES.alerts) */
export const IDS_FILES = {
  events: 'ids-events.jsonl',
  alerts: 'ids-alerts.jsonl',
  state: 'ids-state.json',
  responses: 'ids-responses.jsonl',
  anchors: 'ids-alerts.anchors.jsonl',
} as const

/**
 * What the live IDS needs of an anchorer to anchor its alert-log head (the relay's `Anchorer` is one).
 *
 * @example ids.anchorHeads(anchorer)
 */
export type HeadAnchorer = {
  submit(submission: { leaf: Hex; topic: Hex; submitter: Hex }): void
  on(event: 'receipt', listener: (e: { receipt: Receipt; topic: Hex }) => void): unknown
  off(event: 'receipt', listener: (e: { receipt: Receipt; topic: Hex }) => void): unknown
}

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
  /** What alerts make the relay do (docs/ids.md §4a); default {@link DEFAULT_RESPONSE_POLICY}. */
  response?: Partial<ResponsePolicy> | undefined
  /** With an anchorer (`anchorHeads`): submit the alert-log head at most this often when it changed (default 60 s). */
  anchorEveryMs?: number | undefined
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
  /** Throttles and quarantines the alerts caused and operators lifted (`ids-responses.jsonl`). */
  readonly responses: ResponseLog
  readonly responsePolicy: ResponsePolicy
  /** Events refused because the buffer was full (the engine's own shedding counts the rest). */
  readonly dropped: number
  /** Alerts the alert log could not append (a failing disk); they are still in `engine.alerts()`. */
  readonly logFailures: number
  /** Hears each alert after it is in the log (the dashboard); returns the function that stops. */
  onAlert(listener: (alert: Alert) => void): () => void
  /**
   * Anchors the alert-log head through `anchorer` from now on (when it changed, at most every `anchorEveryMs`, and
   * once more on stop); each receipt becomes a line of `ids-alerts.anchors.jsonl`. Returns the function that stops.
   */
  anchorHeads(anchorer: HeadAnchorer): () => void
  /** Submits the current head now (if it has entries and was not submitted yet); returns its leaf. */
  anchorHead(): Hex | undefined
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
  const responses = ResponseLog.open(join(options.dir, IDS_FILES.responses))
  const responsePolicy: ResponsePolicy = { ...DEFAULT_RESPONSE_POLICY, ...options.response }
  const now = options.now ?? Date.now
  const engine = new IdsEngine(options.config ?? {}, {
    ...(existsSync(statePath) ? { state: loadIdsState(statePath) } : {}),
    onAlert: (a) => {
      try {
        log.append(a)
        for (const action of decideResponse(a, responsePolicy, now())) responses.record(action)
      } catch {
        logFailures += 1 // a failing disk must not take the relay down; the count says alerts are missing
      }
      options.onAlert?.(a)
      for (const l of listeners) l(a)
    },
  })
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
  // An operator's lift (another process appending to the response log) applies within a second.
  const refresh = setInterval(() => responses.refresh(), 1000)
  refresh.unref()

  // Anchoring the head: leaves submitted and not yet receipted, and the anchorer in use.
  const anchorsPath = join(options.dir, IDS_FILES.anchors)
  const submitted = new Map<string, { size: number; head: string }>()
  let anchorer: HeadAnchorer | undefined
  let lastSubmittedSize = 0
  // The first head goes out one period after start, not at the first tick: at most one anchoring per period.
  let lastSubmitAt = now()
  const anchorEveryMs = options.anchorEveryMs ?? 60_000
  const anchorHead = (): Hex | undefined => {
    if (!anchorer || log.size === 0 || log.size === lastSubmittedSize) return undefined
    const leaf = alertHeadLeaf(log.size, log.head)
    submitted.set(leaf, { size: log.size, head: log.head })
    lastSubmittedSize = log.size
    lastSubmitAt = now()
    try {
      anchorer.submit({ leaf, topic: IDS_ALERT_HEAD_TOPIC, submitter: `0x${'00'.repeat(32)}` })
    } catch {
      return undefined // a stopped anchorer (the node stops it first): the head waits for the next run
    }
    return leaf
  }
  const onReceipt = ({ receipt }: { receipt: Receipt }) => {
    const head = submitted.get(receipt.leaf.toLowerCase())
    if (!head) return
    submitted.delete(receipt.leaf.toLowerCase())
    try {
      appendAlertAnchor(anchorsPath, { ...head, leaf: receipt.leaf, receipt })
    } catch {
      logFailures += 1
    }
  }
  const anchorTimer = setInterval(
    () => {
      if (now() - lastSubmitAt >= anchorEveryMs) anchorHead()
    },
    Math.min(anchorEveryMs, 5_000),
  )
  anchorTimer.unref()

  return {
    sink,
    engine,
    log,
    responses,
    responsePolicy,
    get dropped() {
      return dropped
    },
    get logFailures() {
      return logFailures
    },
    drain,
    anchorHeads(a) {
      anchorer = a
      a.on('receipt', onReceipt)
      return () => {
        a.off('receipt', onReceipt)
        if (anchorer === a) anchorer = undefined
      }
    },
    anchorHead,
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
      clearInterval(refresh)
      clearInterval(anchorTimer)
      drain()
      anchorHead()
      saveIdsState(statePath, engine.exportState())
      if (stream && !streamFailed) await new Promise<void>((resolve) => stream.end(resolve))
    },
  }
}
