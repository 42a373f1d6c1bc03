/** Relay cluster, live delivery: each relay follows the shared JetStream stream and fans out what any relay stored. */
import type { Hex } from 'viem'
import type { FollowedEnvelope, StreamFollower } from '../store/jetStreamFollow.js'
import type { RelayConnection } from './context.js'

/**
 * The part of a JetStream relay store live delivery uses.
 *
 * @example const source: ClusterSource = jetStreamRelayStore
 */
export type ClusterSource = {
  readonly instanceId: string
  follow(
    onEnvelope: (e: FollowedEnvelope) => void | Promise<void>,
    options?: { onError?: ((err: unknown) => void) | undefined },
  ): Promise<StreamFollower>
}

/**
 * The part of a `RelayServer` live delivery uses.
 *
 * @example const sink: ClusterSink = server
 */
export type ClusterSink = {
  hasSubscribers(topic: Hex): boolean
  deliverCommitted(e: { topic: Hex; seq: bigint; bytes: Uint8Array; from: RelayConnection | undefined }): void
}

type Committed = { topic: Hex; seq: bigint; bytes: Uint8Array; from: RelayConnection | undefined }

/**
 * Live delivery across relays (docs/architecture.md §5a). Each relay runs one ordered consumer over the envelope
 * stream from the moment it starts and hands every envelope of a locally followed topic to its subscribers: its own
 * commits too (the server's `fanout` goes here instead of delivering at once), because the stream is the only place
 * where the envelopes of all relays have one order; delivering a local commit first could send seq 5 before
 * another relay's seq 4 had arrived. The stream order is each topic's seq order (every append expects the stream's
 * last sequence), so subscribers get each topic in order, without gaps, once. For its own envelopes the relay
 * waits for the commit to name the publishing connection (which never gets its own envelope back), at most
 * `originWaitMs` (a batch whose append failed halfway never reports). The consumer resumes after the last stream
 * seq handed over when it is lost (a NATS node died, the connection dropped).
 *
 * @example
 * const cluster = new ClusterDelivery(store)
 * const server = new RelayServer({ ...options, store, fanout: cluster.fanout })
 * await cluster.start(server)
 */
export class ClusterDelivery {
  readonly #source: ClusterSource
  readonly #originWaitMs: number
  /** `topic:seq` → the publishing connection, for own commits the consumer has not reached yet. */
  readonly #origins = new Map<string, RelayConnection | undefined>()
  /** `topic:seq` → the consumer waiting for that own commit's connection. */
  readonly #waiting = new Map<string, (from: RelayConnection | undefined) => void>()
  #follower: StreamFollower | undefined
  #onError: (err: unknown) => void = () => {}

  constructor(source: ClusterSource, { originWaitMs = 2_000 }: { originWaitMs?: number | undefined } = {}) {
    this.#source = source
    this.#originWaitMs = originWaitMs
  }

  /** The server's `fanout`: records which connection published a commit of this relay. */
  readonly fanout = (e: Committed): void => {
    const key = `${e.topic}:${e.seq}`
    const waiter = this.#waiting.get(key)
    if (waiter) {
      this.#waiting.delete(key)
      waiter(e.from)
      return
    }
    if (this.#origins.size >= 100_000) this.#origins.clear()
    this.#origins.set(key, e.from)
  }

  /**
   * Starts following the stream and delivering to `sink`; `onError` hears consumer failures (it resumes by itself).
   *
   * @example await cluster.start(server, { onError: (err) => log(err) })
   */
  async start(
    sink: ClusterSink,
    { onError }: { onError?: ((err: unknown) => void) | undefined } = {},
  ): Promise<void> {
    if (onError) this.#onError = onError
    this.#follower = await this.#source.follow((e) => this.#handle(sink, e), {
      onError: (err) => this.#onError(err),
    })
  }

  /**
   * Stops following (idempotent).
   *
   * @example await cluster.stop()
   */
  async stop(): Promise<void> {
    const follower = this.#follower
    this.#follower = undefined
    for (const [key, resolve] of this.#waiting) {
      this.#waiting.delete(key)
      resolve(undefined)
    }
    await follower?.stop()
  }

  async #handle(sink: ClusterSink, e: FollowedEnvelope): Promise<void> {
    const from =
      e.origin === this.#source.instanceId ? await this.#originOf(`${e.topic}:${e.seq}`) : undefined
    if (sink.hasSubscribers(e.topic))
      sink.deliverCommitted({ topic: e.topic, seq: e.seq, bytes: e.bytes, from })
  }

  #originOf(key: string): RelayConnection | undefined | Promise<RelayConnection | undefined> {
    if (this.#origins.has(key)) {
      const from = this.#origins.get(key)
      this.#origins.delete(key)
      return from
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key)
        resolve(undefined)
      }, this.#originWaitMs)
      this.#waiting.set(key, (from) => {
        clearTimeout(timer)
        resolve(from)
      })
    })
  }
}
