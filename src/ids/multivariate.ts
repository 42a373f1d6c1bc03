/** The multivariate model: robust Mahalanobis distance of a device's window residuals (log scale) to its baseline. */

/**
 * Serializable state: the running covariance of residuals and how many windows taught it.
 *
 * @example const s: MultivariateState = { dim: 2, cov: [1, 0, 0, 1], n: 0 }
 */
export type MultivariateState = { dim: number; cov: number[]; n: number }

/**
 * A covariance of per-feature residuals r = log1p(x) − log1p(expected), learned with an exponential window from
 * windows that are not outliers (d² below `cutoff`), so one attack does not widen it. A window's score is
 * d² = r⁺ᵀ Σ⁻¹ r⁺ over the positive parts (less activity than usual is no threat).
 *
 * @example const m = new RobustMahalanobis(3); const { d2, top } = m.score([0.1, 2.3, 0]); m.learn([0.1, 2.3, 0], d2)
 */
export class RobustMahalanobis {
  state: MultivariateState
  private inverse: number[] | undefined

  constructor(
    dim: number,
    readonly rate = 0.002,
    readonly cutoff = 30,
  ) {
    const cov = new Array(dim * dim).fill(0)
    for (let i = 0; i < dim; i++) cov[i * dim + i] = 0.25
    this.state = { dim, cov, n: 0 }
  }

  /** Score of a residual vector, and the index of the feature contributing most. @example m.score([0, 3]) */
  score(r: readonly number[]): { d2: number; top: number; contributions: number[] } {
    const { dim } = this.state
    this.inverse ??= invert(this.state.cov, dim)
    const inv = this.inverse
    const p = r.map((v) => Math.max(0, v))
    let d2 = 0
    const contributions: number[] = []
    for (let i = 0; i < dim; i++) {
      let s = 0
      for (let j = 0; j < dim; j++) s += (inv[i * dim + j] ?? 0) * (p[j] ?? 0)
      const c = (p[i] ?? 0) * s
      contributions.push(c)
      d2 += c
    }
    let top = 0
    for (let i = 1; i < dim; i++) if ((contributions[i] ?? 0) > (contributions[top] ?? 0)) top = i
    return { d2, top, contributions }
  }

  /** Learns a residual vector unless it was an outlier. @example m.learn([0.2, 0.1], 1.3) */
  learn(r: readonly number[], d2: number): void {
    if (d2 > this.cutoff && this.state.n > 100) return
    const { dim, cov } = this.state
    const a = Math.max(this.rate, 1 / (this.state.n + 2))
    for (let i = 0; i < dim; i++)
      for (let j = 0; j < dim; j++) {
        const k = i * dim + j
        cov[k] = (1 - a) * (cov[k] ?? 0) + a * (r[i] ?? 0) * (r[j] ?? 0)
      }
    this.state.n += 1
  }

  /** Recomputes Σ⁻¹ (once per window, not per device). @example m.refresh() */
  refresh(): void {
    this.inverse = undefined
  }
}

/** Gauss–Jordan inverse of a small symmetric matrix, with a ridge so that it always exists. */
function invert(cov: readonly number[], n: number): number[] {
  const a = cov.map((v, k) => v + (k % (n + 1) === 0 ? 0.01 : 0))
  const inv = new Array(n * n).fill(0)
  for (let i = 0; i < n; i++) inv[i * n + i] = 1
  for (let c = 0; c < n; c++) {
    let pivot = c
    for (let r = c + 1; r < n; r++)
      if (Math.abs(a[r * n + c] ?? 0) > Math.abs(a[pivot * n + c] ?? 0)) pivot = r
    for (let k = 0; k < n; k++) {
      ;[a[c * n + k], a[pivot * n + k]] = [a[pivot * n + k] ?? 0, a[c * n + k] ?? 0]
      ;[inv[c * n + k], inv[pivot * n + k]] = [inv[pivot * n + k] ?? 0, inv[c * n + k] ?? 0]
    }
    const p = a[c * n + c] ?? 1
    for (let k = 0; k < n; k++) {
      a[c * n + k] = (a[c * n + k] ?? 0) / p
      inv[c * n + k] = (inv[c * n + k] ?? 0) / p
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue
      const f = a[r * n + c] ?? 0
      if (f === 0) continue
      for (let k = 0; k < n; k++) {
        a[r * n + k] = (a[r * n + k] ?? 0) - f * (a[c * n + k] ?? 0)
        inv[r * n + k] = (inv[r * n + k] ?? 0) - f * (inv[c * n + k] ?? 0)
      }
    }
  }
  return inv
}
