/** Relay store on JetStream: each topic's queue depth, read from the stream at most once a second per topic. */

/**
 * Topic depths as a store last read them from the stream, plus the store's own appends since. A depth older than
 * `ttlMs` (wall clock) is read again, so other relays' appends count from then on: the queue limit is exact for a
 * relay's own traffic and at most `ttlMs` behind for the others'. A stream info with a subject filter per group
 * commit was most of the relay's and NATS's CPU at low rates.
 *
 * @example const depths = new TopicDepths(); depths.get(t) ?? depths.set(t, await readDepth(t))
 */
export class TopicDepths {
  readonly #depths = new Map<string, { depth: number; readAt: number }>()

  constructor(readonly ttlMs = 1_000) {}

  /** The depth of topic token `t`, if read less than `ttlMs` ago (with this store's appends since). @example depths.get(t) */
  get(t: string): number | undefined {
    const cached = this.#depths.get(t)
    return cached && Date.now() - cached.readAt < this.ttlMs ? cached.depth : undefined
  }

  /** Records a depth just read from the stream; returns it. @example return depths.set(t, 12) */
  set(t: string, depth: number): number {
    if (this.#depths.size >= 10_000) this.#depths.clear()
    this.#depths.set(t, { depth, readAt: Date.now() })
    return depth
  }

  /** Counts one envelope this store appended to `t`. @example depths.added(t) */
  added(t: string): void {
    const cached = this.#depths.get(t)
    if (cached) cached.depth++
  }

  /** Forgets every depth (retention deleted messages). @example depths.clear() */
  clear(): void {
    this.#depths.clear()
  }
}
