import { describe, expect, test } from 'vitest'
import { tick } from '../../test/utils/relayContext.js'
import { sharedRegistrySync } from './registryLookup.js'

describe('sharedRegistrySync', () => {
  test('a sync starts at least minIntervalMs after the previous one; none once stopped', async () => {
    let syncs = 0
    let stopped = false
    const sync = sharedRegistrySync(
      { sync: async () => void syncs++ },
      { minIntervalMs: 200, isStopped: () => stopped },
    )
    const started = performance.now()
    await sync()
    await Promise.all([sync(), sync(), sync()])
    expect(syncs).toBe(2)
    expect(performance.now() - started).toBeGreaterThanOrEqual(190)
    stopped = true
    await sync()
    expect(syncs).toBe(2)
  })

  test('callers that arrive before a sync starts share it; one arriving during a sync queues the next', async () => {
    let syncs = 0
    let release: (() => void) | undefined
    const sync = sharedRegistrySync({
      sync: () => {
        syncs++
        return new Promise<void>((resolve) => {
          release = resolve
        })
      },
    })
    const a = sync()
    const b = sync() // before it starts: joins it
    expect(a).toBe(b)
    await tick()
    expect(syncs).toBe(1)
    const c = sync() // the first one is running: this one waits for a second sync
    expect(c).not.toBe(a)
    release!()
    await a
    await tick()
    expect(syncs).toBe(2)
    release!()
    await c
  })
})
