import { describe, expect, it } from 'vitest'
import type { AnchorBatch } from '../store/anchorStore.js'
import { createScheduler, type NextStepParameters, nextStep, retryDelay } from './scheduler.js'

const batch: AnchorBatch = {
  id: 1,
  root: `0x${'11'.repeat(32)}`,
  leafCount: 2,
  salt: undefined,
  status: 'anchoring',
  attempts: 0,
  anchor: undefined,
  previous: undefined,
}
const idle: NextStepParameters = {
  openBatch: undefined,
  pending: { count: 0, firstSeq: undefined, oldestAt: undefined },
  retryAt: 0,
  flushUpTo: 0,
  now: 10_000,
  batchSize: 4,
  batchIntervalMs: 2000,
}
const pending = (count: number, oldestAt: number, firstSeq = 1) => ({ count, firstSeq, oldestAt })

describe('nextStep', () => {
  it('anchors the open batch, after its backoff', () => {
    expect(nextStep({ ...idle, openBatch: batch })).toEqual({ kind: 'anchor', batch })
    expect(nextStep({ ...idle, openBatch: batch, retryAt: 10_300, pending: pending(9, 0) })).toEqual({
      kind: 'wait',
      ms: 300,
    })
  })

  it('closes a batch when full, flushed or old enough, else waits for its age', () => {
    expect(nextStep(idle)).toEqual({ kind: 'idle' })
    expect(nextStep({ ...idle, pending: pending(4, 9_900) })).toEqual({ kind: 'close' })
    expect(nextStep({ ...idle, pending: pending(1, 9_900, 5), flushUpTo: 5 })).toEqual({ kind: 'close' })
    expect(nextStep({ ...idle, pending: pending(1, 8_000) })).toEqual({ kind: 'close' })
    expect(nextStep({ ...idle, pending: pending(3, 9_500, 6), flushUpTo: 5 })).toEqual({
      kind: 'wait',
      ms: 1500,
    })
  })
})

describe('retryDelay', () => {
  it('doubles from the initial delay up to the cap', () => {
    const s = { retryInitialMs: 50, retryMaxMs: 300, retryFactor: 2 }
    expect([1, 2, 3, 4, 5].map((a) => retryDelay(a, s))).toEqual([50, 100, 200, 300, 300])
  })
})

describe('createScheduler', () => {
  it('runs one pass at a time, once more when kicked meanwhile, nothing before start or after stop', async () => {
    let passes = 0
    let release: () => void = () => {}
    const worker = createScheduler({
      work: async () => {
        passes++
        await new Promise<void>((ok) => {
          release = ok
        })
      },
      onError: () => {},
    })
    worker.kick()
    worker.schedule(0)
    await new Promise((ok) => setTimeout(ok, 20))
    expect(passes).toBe(0)
    worker.start()
    worker.kick()
    worker.kick()
    expect(passes).toBe(1)
    release()
    await new Promise((ok) => setTimeout(ok, 10))
    expect(passes).toBe(2) // the kicks during pass 1 folded into one more pass
    const stopped = worker.stop()
    release()
    await stopped
    worker.kick()
    worker.schedule(0)
    await new Promise((ok) => setTimeout(ok, 20))
    expect(passes).toBe(2)
  })

  it('hands a failing pass to onError', async () => {
    const errors: unknown[] = []
    const worker = createScheduler({
      work: async () => {
        throw new Error('boom')
      },
      onError: (e) => errors.push(e),
    })
    worker.start()
    await worker.stop()
    expect(errors).toHaveLength(1)
  })
})
