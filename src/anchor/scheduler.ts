/** When the anchorer works: the next step (close a batch, anchor one, wait, idle), backoff, one serial worker. */
import type { AnchorBatch } from '../store/anchorStore.js'

/**
 * What the worker does next.
 *
 * @example const step: NextStep = { kind: 'wait', ms: 250 }
 */
export type NextStep =
  | { kind: 'anchor'; batch: AnchorBatch }
  | { kind: 'close' }
  | { kind: 'wait'; ms: number }
  | { kind: 'idle' }

/**
 * Parameters of {@link nextStep}: the store's state, the retry deadline and the batching rules.
 *
 * @example const p: NextStepParameters = { openBatch, pending, retryAt: 0, flushUpTo: 0, now: Date.now(), batchSize: 256, batchIntervalMs: 2000 }
 */
export type NextStepParameters = {
  /** The oldest batch still anchoring. */
  openBatch: AnchorBatch | undefined
  pending: { count: number; firstSeq: number | undefined; oldestAt: number | undefined }
  /** No anchoring attempt before this time (backoff after a failure). */
  retryAt: number
  /** `flush()` asked for every leaf up to this seq to be batched now. */
  flushUpTo: number
  now: number
  batchSize: number
  batchIntervalMs: number
}

/**
 * One batch in flight at a time: an open batch is anchored (once its backoff ran out); otherwise pending leaves
 * are closed into a batch when there are `batchSize` of them, when `flush()` covers the first one, or when the
 * oldest has waited `batchIntervalMs`; otherwise the worker waits for that moment.
 *
 * @example
 * nextStep({ openBatch: undefined, pending: { count: 3, firstSeq: 1, oldestAt: 0 }, retryAt: 0, flushUpTo: 0, now: 500, batchSize: 256, batchIntervalMs: 2000 })
 * // { kind: 'wait', ms: 1500 }
 */
export function nextStep(p: NextStepParameters): NextStep {
  if (p.openBatch) {
    const wait = p.retryAt - p.now
    return wait > 0 ? { kind: 'wait', ms: wait } : { kind: 'anchor', batch: p.openBatch }
  }
  const { count, firstSeq, oldestAt } = p.pending
  if (count === 0 || firstSeq === undefined || oldestAt === undefined) return { kind: 'idle' }
  const age = p.now - oldestAt
  if (count >= p.batchSize || firstSeq <= p.flushUpTo || age >= p.batchIntervalMs) return { kind: 'close' }
  return { kind: 'wait', ms: p.batchIntervalMs - age }
}

/**
 * Exponential backoff after the `attempts`-th failed attempt: `initialMs * factor^(attempts-1)`, capped at `maxMs`.
 *
 * @example retryDelay(3, { retryInitialMs: 500, retryMaxMs: 30_000, retryFactor: 2 }) // 2000
 */
export function retryDelay(
  attempts: number,
  {
    retryInitialMs,
    retryMaxMs,
    retryFactor,
  }: { retryInitialMs: number; retryMaxMs: number; retryFactor: number },
): number {
  return Math.min(retryMaxMs, retryInitialMs * retryFactor ** (attempts - 1))
}

/**
 * A serial worker: `kick()` runs `work` now (or once more right after the running pass), `schedule(ms)` runs it
 * later (keeping the earliest timer). Nothing runs before `start()` or after `stop()`.
 *
 * @example
 * const worker = createScheduler({ work: () => step(), onError: report })
 * worker.start(); worker.schedule(2000); await worker.stop()
 */
export type Scheduler = {
  start(): void
  kick(): void
  schedule(delayMs: number): void
  /** Stops the timers and waits for the running pass to end. */
  stop(): Promise<void>
}

/**
 * Creates a {@link Scheduler} around `work`; a pass that throws goes to `onError`.
 *
 * @example const worker = createScheduler({ work: async () => {}, onError: console.error })
 */
export function createScheduler({
  work,
  onError,
}: {
  work: () => Promise<void>
  onError: (err: unknown) => void
}): Scheduler {
  let running = false
  let stopped = false
  let busy: Promise<void> | undefined
  let again = false
  let timer: NodeJS.Timeout | undefined
  let timerAt = Number.POSITIVE_INFINITY

  const kick = (): void => {
    if (!running || stopped) return
    if (busy) {
      again = true
      return
    }
    busy = work()
      .catch(onError)
      .finally(() => {
        busy = undefined
        if (again) {
          again = false
          kick()
        }
      })
  }

  const schedule = (delayMs: number): void => {
    if (!running || stopped) return
    const at = Date.now() + Math.max(0, delayMs)
    if (timer && at >= timerAt) return
    if (timer) clearTimeout(timer)
    timerAt = at
    timer = setTimeout(
      () => {
        timer = undefined
        timerAt = Number.POSITIVE_INFINITY
        kick()
      },
      Math.max(0, delayMs),
    )
  }

  return {
    start() {
      if (stopped) return
      running = true
      kick()
    },
    kick,
    schedule,
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      try {
        await busy
      } catch {}
    },
  }
}
