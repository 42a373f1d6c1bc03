import { expect, test } from 'vitest'
import { DEFAULT_BACKOFF, reconnectDelayMs, retryDelayMs } from './backoff.js'

test('reconnect delay doubles from minMs, is capped at maxMs, and keeps a jitter in [0.5, 1)', () => {
  const bounds = { minMs: 100, maxMs: 1000 }
  expect([0, 1, 2, 3, 4, 40].map((a) => reconnectDelayMs(a, bounds, () => 0))).toEqual([
    50, 100, 200, 400, 500, 500,
  ])
  expect(reconnectDelayMs(0, bounds, () => 0.999)).toBeCloseTo(99.95)
  expect(reconnectDelayMs(2, DEFAULT_BACKOFF, () => 1)).toBe(400)
})

test('a refused request waits 40 ms doubling, at most 2 s', () => {
  expect([1, 2, 3, 6, 7, 50].map(retryDelayMs)).toEqual([40, 80, 160, 1280, 2000, 2000])
})
