/** Fixed-capacity ring buffer addressed by absolute sequence numbers; pushing past capacity drops the oldest. */
export class Ring<T> {
  private readonly buf: (T | undefined)[]
  private startSeq = 0
  private count = 0

  constructor(readonly capacity: number) {
    this.buf = new Array<T | undefined>(capacity)
  }

  /** Absolute sequence number of the oldest retained item. */
  get first(): number {
    return this.startSeq
  }

  /** Absolute sequence number one past the newest item. */
  get end(): number {
    return this.startSeq + this.count
  }

  get length(): number {
    return this.count
  }

  /** Appends; returns the item that was dropped to make room, if any. */
  push(value: T): T | undefined {
    const slot = (this.startSeq + this.count) % this.capacity
    let evicted: T | undefined
    if (this.count === this.capacity) {
      evicted = this.buf[slot]
      this.startSeq++
    } else {
      this.count++
    }
    this.buf[slot] = value
    return evicted
  }

  /** Item at absolute sequence number `seq`, or undefined when it was dropped or does not exist yet. */
  at(seq: number): T | undefined {
    if (seq < this.startSeq || seq >= this.end) return undefined
    return this.buf[seq % this.capacity]
  }

  /** Item `i` positions from the newest (0 = newest). */
  fromNewest(i: number): T | undefined {
    return this.at(this.end - 1 - i)
  }

  clear(): void {
    this.buf.fill(undefined)
    this.startSeq = 0
    this.count = 0
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let s = this.startSeq; s < this.end; s++) yield this.buf[s % this.capacity] as T
  }

  toArray(): T[] {
    return [...this]
  }
}

/** Map that forgets its oldest insertions beyond `capacity`. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly capacity: number) {
    super()
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.capacity) {
      const oldest = this.keys().next()
      if (!oldest.done) this.delete(oldest.value)
    }
    return super.set(key, value)
  }
}
