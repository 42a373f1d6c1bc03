/** The relay transport's waits: reconnect backoff (doubling, with jitter), the pause before a refused request is re-sent, and the bounded retry of a refused SUBSCRIBE. */

/**
 * Reconnect backoff bounds, in ms.
 *
 * @example const bounds: BackoffBounds = { minMs: 100, maxMs: 5000 }
 */
export type BackoffBounds = { minMs: number; maxMs: number }

/** Default reconnect backoff: 100 ms to 5 s. @example reconnectDelayMs(0, DEFAULT_BACKOFF) */
export const DEFAULT_BACKOFF: BackoffBounds = { minMs: 100, maxMs: 5000 }

/**
 * Delay before reconnect number `attempt` (0 for the first): `minMs` doubling per attempt, capped at `maxMs`, then
 * scaled by a jitter in [0.5, 1) drawn from `random`.
 *
 * @example reconnectDelayMs(3, { minMs: 100, maxMs: 5000 }, () => 0.5) // 600
 */
export function reconnectDelayMs(
  attempt: number,
  { minMs, maxMs }: BackoffBounds,
  random: () => number = Math.random,
): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(attempt, 16)) * (0.5 + random() / 2)
}

/**
 * Pause before re-sending a request the relay refused with a transient code, after `attempts` refusals:
 * 40 ms doubling, at most 2 s.
 *
 * @example retryDelayMs(1) // 40
 */
export function retryDelayMs(attempts: number): number {
  return Math.min(2000, 20 * 2 ** Math.min(attempts, 7))
}

/**
 * Bounds of the retry of a SUBSCRIBE the relay refused transiently (a transient code such as `RELAY_RATE_LIMITED`,
 * protocol §9.8): the delay grows as {@link reconnectDelayMs} does, and after `attempts` refusals the subscription
 * fails.
 *
 * @example const retry: SubscribeRetryBounds = { minMs: 500, maxMs: 15_000, attempts: 8 }
 */
export type SubscribeRetryBounds = BackoffBounds & { attempts: number }

/**
 * Default SUBSCRIBE retry: 0.5 s doubling to 15 s, 8 refusals (about 30 to 60 s in all, long enough for a relay's
 * rate bucket to refill).
 *
 * @example reconnectDelayMs(sub.refusals, DEFAULT_SUBSCRIBE_RETRY)
 */
export const DEFAULT_SUBSCRIBE_RETRY: SubscribeRetryBounds = { minMs: 500, maxMs: 15_000, attempts: 8 }
