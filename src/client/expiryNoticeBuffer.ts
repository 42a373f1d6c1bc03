/** The relay transport's expiry notices: each envelope id once (bounded), handed to listeners, replayed to late ones. */
import type { Hex } from 'viem'
import type { ExpiryNotice } from './transport.js'

/** Expiry notices remembered (to replay to late listeners, and to report each envelope once). @example EXPIRY_NOTICES_KEPT // 10000 */
export const EXPIRY_NOTICES_KEPT = 10_000

/**
 * The EXPIRED frames a transport received, as {@link ExpiryNotice}s: the relay repeats a notice after every AUTH, so
 * a notice whose envelope id was seen is dropped; a listener added later gets every notice kept so far.
 *
 * @example const notices = new ExpiryNoticeBuffer(); notices.listen((n) => log(n.id)); notices.add(notice)
 */
export class ExpiryNoticeBuffer {
  readonly #notices = new Map<Hex, ExpiryNotice>()
  readonly #listeners = new Set<(notice: ExpiryNotice) => void>()

  /** Adds `listener` and replays the notices kept so far to it (in a microtask). Returns the unsubscribe. */
  listen(listener: (notice: ExpiryNotice) => void): () => void {
    this.#listeners.add(listener)
    for (const notice of this.#notices.values())
      queueMicrotask(() => {
        if (this.#listeners.has(listener)) listener(notice)
      })
    return () => this.#listeners.delete(listener)
  }

  /** Keeps `notice` and hands it to the listeners, unless its envelope id was seen; returns whether it was new. */
  add(notice: ExpiryNotice): boolean {
    const id = notice.id.toLowerCase() as Hex
    if (this.#notices.has(id)) return false
    this.#notices.set(id, notice)
    if (this.#notices.size > EXPIRY_NOTICES_KEPT)
      this.#notices.delete(this.#notices.keys().next().value as Hex)
    for (const listener of this.#listeners) listener(notice)
    return true
  }
}
