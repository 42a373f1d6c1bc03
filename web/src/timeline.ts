/** Event history with pause and scrub: the model is a pure replay of the history up to a cursor. */
import type { DashboardEvent } from '../../src/dashboard/events.ts'
import { LIMITS, type Model } from './model.ts'
import { Ring } from './ring.ts'

/** Events that describe the world rather than traffic: kept (bounded) when they fall out of the history. */
const sticky = new Set<DashboardEvent['type']>([
  'hello',
  'participant',
  'device',
  'keyChange',
  'safetyNumber',
])

export class Timeline {
  readonly history = new Ring<DashboardEvent>(LIMITS.history)
  private readonly baseline: DashboardEvent[] = []
  /** Absolute index one past the last event applied to the model. */
  cursor = 0
  paused = false
  onChange: (() => void) | undefined

  constructor(private readonly model: Model) {}

  get live(): boolean {
    return !this.paused && this.cursor === this.history.end
  }

  /** Events received but not applied (paused or scrubbed back). */
  get buffered(): number {
    return this.history.end - this.cursor
  }

  ingest(event: DashboardEvent): void {
    const evicted = this.history.push(event)
    if (evicted && sticky.has(evicted.type)) {
      this.baseline.push(evicted)
      if (this.baseline.length > LIMITS.baseline) this.baseline.shift()
    }
    if (!this.paused) {
      this.model.apply(event, true)
      this.cursor = this.history.end
    }
    this.onChange?.()
  }

  setPaused(paused: boolean): void {
    if (this.paused === paused) return
    this.paused = paused
    if (!paused) this.seek(this.history.end)
    this.onChange?.()
  }

  /** Moves the view to `target` (absolute index, exclusive), replaying from scratch when going back. */
  seek(target: number): void {
    const end = Math.max(this.history.first, Math.min(target, this.history.end))
    if (end < this.cursor || this.cursor < this.history.first) {
      this.model.reset()
      for (const e of this.baseline) this.model.apply(e, false)
      this.cursor = this.history.first
    }
    for (let s = this.cursor; s < end; s++) {
      const e = this.history.at(s)
      if (e) this.model.apply(e, false)
    }
    this.cursor = end
    this.onChange?.()
  }
}
