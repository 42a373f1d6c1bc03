/** Relay cluster: a fenced lease (one holder at a time) and the holder's fenced records, in one JetStream KV bucket. */

import type { KV } from '@nats-io/kv'
import { Kvm } from '@nats-io/kv'
import { headers } from '@nats-io/transport-node'
import { checkStreamConfig } from './jetStreamConfig.js'
import { isConflict, type JetStreamParts } from './jetStreamLayout.js'

const LEASE_KEY = 'lease'

/**
 * A lease over one KV bucket (`<prefix>_<name>`, history 1) that only its holder writes. Every write (the lease's
 * renewal and each record) is a publish on the key's subject that expects the bucket stream's last sequence to be
 * the holder's last write (`Nats-Expected-Last-Sequence`, stream-wide: nats-server 2.9 counts in-flight proposals
 * there, not in the per-subject check that KV `update` and `create` use). Taking the lease over writes to the bucket
 * too, so the former holder's next write is refused: the stream seq of the holder's last write is its fencing token.
 * Expiry is measured by each contender on its own clock: a lease whose revision did not change for `ttlMs` since the
 * contender first saw it is free (no clock is compared across machines).
 *
 * @example
 * const lease = await JetStreamLease.open(store.parts, { prefix: 'sealpost', name: 'anchor', replicas: 3 })
 * if (await lease.tryAcquire('relay-a', 10_000)) await lease.put('batch.ab', '{...}')
 */
export class JetStreamLease {
  readonly #p: JetStreamParts
  readonly #kv: KV
  readonly #bucket: string
  /** The stream seq of this holder's last write; undefined when it does not hold the lease. */
  #token: number | undefined
  /** The lease revision a contender last saw, and since when (its own clock). */
  #seen: { revision: number; since: number } | undefined
  #writes: Promise<unknown> = Promise.resolve()

  private constructor(p: JetStreamParts, kv: KV, bucket: string) {
    this.#p = p
    this.#kv = kv
    this.#bucket = bucket
  }

  /**
   * Creates the bucket if missing (an existing one must have `replicas`: `RelayStoreMismatchError` otherwise).
   *
   * @example const lease = await JetStreamLease.open(parts, { prefix, name: 'anchor', replicas: 3 })
   */
  static async open(
    p: JetStreamParts,
    { prefix, name, replicas }: { prefix: string; name: string; replicas: number },
  ): Promise<JetStreamLease> {
    const bucket = `${prefix}_${name}`
    // Two relays starting at once both create it; the loser (or a slow reply) finds it there.
    const kv = await new Kvm(p.nc).create(bucket, { replicas, history: 1 }).catch(async (err: unknown) => {
      await new Promise((r) => setTimeout(r, 500))
      if (!(await p.jsm.streams.info(`KV_${bucket}`).catch(() => undefined))) throw err
      return new Kvm(p.nc).open(bucket)
    })
    checkStreamConfig((await p.jsm.streams.info(`KV_${bucket}`)).config, { name: `KV_${bucket}`, replicas })
    return new JetStreamLease(p, kv, bucket)
  }

  /** The fencing token (stream seq of the holder's last write), or undefined. @example lease.token // 42 */
  get token(): number | undefined {
    return this.#token
  }

  /**
   * Takes the lease for `holder` if it is free: never taken, released, or unchanged for `ttlMs` on this clock.
   * True when this call took it. At most one of concurrent contenders wins.
   *
   * @example if (await lease.tryAcquire(id, 10_000)) lead()
   */
  tryAcquire(holder: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    return this.#serial(async () => {
      if (this.#token !== undefined) return true
      const last = (await this.#p.jsm.streams.info(`KV_${this.#bucket}`)).state.last_seq
      const entry = await this.#kv.get(LEASE_KEY)
      if (entry?.operation === 'PUT') {
        if (this.#seen?.revision !== entry.revision) {
          this.#seen = { revision: entry.revision, since: now }
          return false
        }
        if (now - this.#seen.since < ttlMs) return false
      }
      const token = await this.#publish(LEASE_KEY, JSON.stringify({ holder, at: now }), last)
      if (token === undefined) return false
      this.#token = token
      this.#seen = undefined
      return true
    })
  }

  /**
   * Renews the lease (a fenced write); false when another holder took it meanwhile (this one is fenced out).
   *
   * @example if (!(await lease.renew(id))) stepDown()
   */
  renew(holder: string, now = Date.now()): Promise<boolean> {
    return this.put(LEASE_KEY, JSON.stringify({ holder, at: now }))
  }

  /**
   * Writes `key` (a fenced write): false, and nothing written, unless this instance still holds the lease.
   *
   * @example if (!(await lease.put(`batch.${root}`, record))) throw new AnchorLeaseLostError()
   */
  put(key: string, value: string): Promise<boolean> {
    return this.#serial(() => this.#fenced(key, value))
  }

  /**
   * Deletes `key` (a fenced write); false unless this instance still holds the lease.
   *
   * @example await lease.delete(`batch.${root}`)
   */
  delete(key: string): Promise<boolean> {
    return this.#serial(() => this.#fenced(key, undefined))
  }

  /**
   * Gives the lease up (a fenced delete), so another contender takes it at once.
   *
   * @example await lease.release()
   */
  release(): Promise<boolean> {
    return this.#serial(async () => {
      const ok = await this.#fenced(LEASE_KEY, undefined)
      this.#token = undefined
      return ok
    })
  }

  /**
   * The current values of the keys matching `filter` (KV wildcards), the lease itself left out.
   *
   * @example for (const [key, value] of await lease.entries('batch.*')) recover(JSON.parse(value))
   */
  async entries(filter: string): Promise<[string, string][]> {
    const out: [string, string][] = []
    for await (const key of await this.#kv.keys(filter)) {
      if (key === LEASE_KEY) continue
      const e = await this.#kv.get(key)
      if (e?.operation === 'PUT') out.push([key, e.string()])
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }

  async #fenced(key: string, value: string | undefined): Promise<boolean> {
    const token = this.#token
    if (token === undefined) return false
    const next = await this.#publish(key, value, token)
    this.#token = next
    return next !== undefined
  }

  /** Publishes on the key's subject expecting the bucket's last stream seq `last`; the new seq, or undefined. */
  async #publish(key: string, value: string | undefined, last: number): Promise<number | undefined> {
    const h = headers()
    if (value === undefined) h.set('KV-Operation', 'DEL')
    try {
      const ack = await this.#p.js.publish(`$KV.${this.#bucket}.${key}`, value ?? '', {
        headers: h,
        expect: { lastSequence: last },
      })
      return ack.seq
    } catch (err) {
      if (isConflict(err)) return undefined
      throw err
    }
  }

  /** Runs writes one at a time (the holder's own writes must not fence each other out). */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(fn, fn)
    this.#writes = run.catch(() => undefined)
    return run
  }
}
