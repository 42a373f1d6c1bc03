/**
 * Per-entity adaptive baselines of counts per window: hour-of-day seasonality, Huber-clipped EWMA, a decaying peak
 * envelope (for sparse bursts such as a daily history fetch), Poisson floor.
 */

const HOURS = 24

/** Serializable stats of one entity and feature. @example const s: BaselineStats = newStats() */
export type BaselineStats = {
  m: number[]
  d: number[]
  n: number[]
  M: number
  D: number
  N: number
  P: number
  /** Windows left in the cool-down after an outlier (absent in states saved before it existed: 0). */
  Q?: number
  /** When the entity last had a count above zero, if the caller said (evict.ts drops the longest quiet first). */
  T?: number
}

/**
 * Tuning of a baseline: how fast it rises and falls, the clip of a residual, samples before a bucket counts.
 *
 * @example const o: BaselineOptions = { up: 0.2, down: 0.05, clip: 3, minBucket: 3, minEntity: 12 }
 */
export type BaselineOptions = {
  up: number
  down: number
  clip: number
  minBucket: number
  minEntity: number
  /** Per-window decay of the peak envelope (half-life about three days of 10-minute windows). */
  peakDecay: number
  /**
   * Windows after an outlier that do not raise the peak envelope: the sliding sum's tail of an attack (half of it,
   * then a quarter) must not teach the baseline that half an attack is a normal burst.
   */
  coolDown: number
}

/** Defaults (docs/ids.md §4). @example DEFAULT_BASELINE_OPTIONS.clip // 3 */
export const DEFAULT_BASELINE_OPTIONS: BaselineOptions = {
  up: 0.2,
  down: 0.05,
  clip: 3,
  minBucket: 3,
  minEntity: 12,
  peakDecay: 0.5 ** (1 / 432),
  coolDown: 6,
}

/** A fresh stats record. @example newStats().N // 0 */
export function newStats(): BaselineStats {
  return {
    m: new Array(HOURS).fill(0),
    d: new Array(HOURS).fill(0),
    n: new Array(HOURS).fill(0),
    M: 0,
    D: 0,
    N: 0,
    P: 0,
  }
}

/**
 * Robust score of a count `x` against the expected `mean`, deviation `dev` and decayed `peak`:
 * (x − μ) / √(σ² + μ + 1 + ((peak − μ)/2)²), σ = 1.25·dev (mean absolute deviation to σ). The `μ + 1` is a Poisson
 * floor (a quiet entity's first events are not anomalies); the peak term widens the scale for entities whose
 * normal is bursty (one history fetch a day), so that only a burst well above their usual bursts scores high.
 *
 * @example robustScore(30, 2, 1, 2) // ≈ 15.6
 */
export function robustScore(x: number, mean: number, dev: number, peak = mean): number {
  const sigma = 1.25 * dev
  const burst = Math.max(0, peak - mean) / 2
  return (x - mean) / Math.sqrt(sigma * sigma + mean + 1 + burst * burst)
}

/**
 * Baselines for many entities of one feature. The expectation falls back from the entity's hour bucket to the
 * entity as a whole to the population's hour bucket, so a new entity (a new IP, a new device) is judged against
 * everyone.
 *
 * @example const b = new SeasonalBaseline(); const e = b.expected('device:d1', 9); b.update('device:d1', 9, 4)
 */
export class SeasonalBaseline {
  readonly stats = new Map<string, BaselineStats>()
  readonly population: BaselineStats = newStats()
  constructor(readonly options: BaselineOptions = DEFAULT_BASELINE_OPTIONS) {}

  /**
   * Expected mean, deviation and decayed peak for `key` at `hour` (0–23): the entity's hour bucket, else the entity
   * as a whole, else the population (a new IP, a new device).
   *
   * @example b.expected('ip:1.2.3.4', 3)
   */
  expected(key: string, hour: number): { mean: number; dev: number; peak: number } {
    const s = this.stats.get(key)
    const { minBucket, minEntity } = this.options
    const p = this.population
    if (s && s.N >= minEntity) {
      const seasonal = (s.n[hour] ?? 0) >= minBucket
      // An entity that never did this before (a new device's first sync) bursts like the population does.
      const peak = s.P > 0 ? s.P : p.P
      return seasonal ? { mean: s.m[hour] ?? 0, dev: s.d[hour] ?? 0, peak } : { mean: s.M, dev: s.D, peak }
    }
    if ((p.n[hour] ?? 0) >= minBucket) return { mean: p.m[hour] ?? 0, dev: p.d[hour] ?? 0, peak: p.P }
    return { mean: p.M, dev: p.D, peak: p.P }
  }

  /**
   * Scores `x` for `key` at `hour`, then learns it (clipped once `armed`, so an attack does not become normal);
   * `at`, when given and `x` is above zero, is remembered as the entity's last activity.
   *
   * @example b.observe('device:d1', 9, 3)
   */
  observe(
    key: string,
    hour: number,
    x: number,
    armed = true,
    at?: number,
  ): { score: number; mean: number; dev: number; peak: number } {
    const e = this.expected(key, hour)
    const score = robustScore(x, e.mean, e.dev, e.peak)
    let s = this.stats.get(key)
    // Re-inserted on every use: the map's order is least recently used first (evict.ts drops from the front).
    if (s) this.stats.delete(key)
    else s = newStats()
    this.stats.set(key, s)
    if (at !== undefined && x > 0) s.T = at
    this.learn(s, hour, x, undefined, armed)
    this.learn(this.population, hour, x, 0.01)
    this.population.P += 0.01 * (s.P - this.population.P)
    return { score, ...e }
  }

  private learn(s: BaselineStats, hour: number, x: number, rate?: number, armed = true): void {
    const { up, down, clip } = this.options
    const cooling = armed && rate === undefined && (s.Q ?? 0) > 0
    const step = (mean: number, dev: number, n: number) => {
      const limit = clip * Math.sqrt((1.25 * dev) ** 2 + mean + 1)
      const r = Math.max(-limit, Math.min(limit, x - mean))
      // An outlier (beyond the clip) teaches at 1% once armed: a long attack must not widen the baseline.
      const outlier = armed && Math.abs(x - mean) >= limit
      const a = n < 1 / up ? 1 / (n + 1) : Math.min(outlier ? 0.01 : 1, rate ?? (r > 0 ? up : down))
      return { mean: mean + a * r, dev: dev + a * (Math.abs(r) - dev) }
    }
    const b = step(s.m[hour] ?? 0, s.d[hour] ?? 0, s.n[hour] ?? 0)
    s.m[hour] = b.mean
    s.d[hour] = b.dev
    s.n[hour] = (s.n[hour] ?? 0) + 1
    const all = step(s.M, s.D, s.N)
    s.M = all.mean
    s.D = all.dev
    s.N += 1
    if (rate !== undefined) return
    // The peak envelope learns freely during warm-up; after it, a new peak is clipped like a residual.
    // After it, a value that scores as an outlier does not raise the peak (an attack must not become the norm).
    const outlier = armed && robustScore(x, s.M, s.D, s.P) >= clip
    s.P = Math.max(s.P * this.options.peakDecay, outlier || cooling ? 0 : x)
    if (outlier) s.Q = this.options.coolDown
    else if (cooling) s.Q = (s.Q ?? 0) - 1
  }
}
