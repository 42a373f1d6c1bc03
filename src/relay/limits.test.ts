import { describe, expect, test } from 'vitest'
import { MAX_PAYLOAD_BYTES } from '../protocol/envelope.js'
import { RelayOptionsError } from './errors.js'
import { defaultRelayLimits, type RelayLimits, resolveLimits } from './limits.js'

describe('resolveLimits', () => {
  test('no overrides gives the frozen defaults', () => {
    const limits = resolveLimits(undefined)
    expect(limits).toEqual(defaultRelayLimits)
    expect(Object.isFrozen(limits)).toBe(true)
    expect(defaultRelayLimits.maxFrameBytes).toBe(MAX_PAYLOAD_BYTES + 1024)
  })

  test('overrides replace their field only; undefined keeps the default', () => {
    const limits = resolveLimits({
      burst: 40,
      ratePerSecond: 2.5,
      maxThrottledFrames: 0,
      heartbeatMs: undefined,
    } as unknown as Partial<RelayLimits>)
    expect(limits).toEqual({ ...defaultRelayLimits, burst: 40, ratePerSecond: 2.5, maxThrottledFrames: 0 })
    expect(defaultRelayLimits.burst).toBe(400)
  })

  test.each([
    [{ ratePerSecond: 0 }, 'limits.ratePerSecond', 'must be a positive number'],
    [{ burst: -1 }, 'limits.burst', 'must be a positive number'],
    [{ maxQueueDepth: Number.NaN }, 'limits.maxQueueDepth', 'must be a positive number'],
    [{ maxFrameBytes: '1024' as unknown as number }, 'limits.maxFrameBytes', 'must be a positive number'],
    [{ maxThrottledFrames: -1 }, 'limits.maxThrottledFrames', 'must be a non-negative number'],
    [{ bogus: 1 } as Partial<RelayLimits>, 'limits.bogus', 'unknown limit'],
    [{ maxPayloadBytes: MAX_PAYLOAD_BYTES + 1 }, 'limits.maxPayloadBytes', `at most ${MAX_PAYLOAD_BYTES}`],
  ])('%o is refused', (limits, option, reason) => {
    let error: unknown
    try {
      resolveLimits(limits)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(RelayOptionsError)
    expect((error as RelayOptionsError).code).toBe('SEALPOST_RELAY_BAD_OPTIONS')
    expect((error as RelayOptionsError).metaMessages).toEqual([`Option: ${option}`, `Reason: ${reason}`])
  })
})
