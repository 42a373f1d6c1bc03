/** A push-to-pull bridge: events pushed in, consumed with `for await`; ends when closed. */

/**
 * An unbounded-by-design-but-bounded-in-practice queue behind an async iterator. `push` never blocks; if the
 * consumer falls more than `limit` items behind, the oldest are dropped and counted in `dropped` (the messages
 * themselves stay in the device store; only the live notification is lost).
 *
 * @example
 * const q = new AsyncQueue<number>(); q.push(1); q.close()
 * for await (const n of q) console.log(n)
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = []
  readonly #waiters: ((r: IteratorResult<T>) => void)[] = []
  readonly #limit: number
  #closed = false
  dropped = 0

  constructor(limit = 10_000) {
    this.#limit = limit
  }

  push(item: T): void {
    if (this.#closed) return
    const waiter = this.#waiters.shift()
    if (waiter) {
      waiter({ value: item, done: false })
      return
    }
    this.#items.push(item)
    if (this.#items.length > this.#limit) {
      this.#items.shift()
      this.dropped++
    }
  }

  close(): void {
    this.#closed = true
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true })
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.#items.shift()
    if (item !== undefined) return Promise.resolve({ value: item, done: false })
    if (this.#closed) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  return(): Promise<IteratorResult<T>> {
    this.close()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this
  }
}
