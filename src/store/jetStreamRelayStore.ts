/** {@link RelayStore} on NATS JetStream: envelopes in one replicated stream (a subject per topic), the rest in KV. */
import { jetstream, jetstreamManager, PubHeaders } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { connect, headers } from '@nats-io/transport-node'
import type { Hex } from 'viem'
import { checkStreamConfig, type JetStreamRelayStoreOptions } from './jetStreamConfig.js'
import { TopicDepths } from './jetStreamDepths.js'
import { type FollowedEnvelope, followStream, type StreamFollower } from './jetStreamFollow.js'
import { countKeyPackagesOn, putKeyPackagesOn, takeKeyPackageOn } from './jetStreamKeyPackages.js'
import {
  bucketOf,
  checkSeq,
  currentValue,
  envelopeHeaders,
  HEADER,
  isConflict,
  isUnavailable,
  type JetStreamParts,
  raiseTo,
  storedMessage,
  token,
} from './jetStreamLayout.js'
import { JetStreamPipeline } from './jetStreamPipeline.js'
import { acksOn, claimInboxOn, noticesOf, pruneOn } from './jetStreamRetention.js'
import {
  type RelayAppendEntry,
  type RelayAppendResult,
  type RelayExpiryNotice,
  type RelayPruneResult,
  type RelayStore,
  type RelayStoredEnvelope,
  RelayStoreError,
  RelayStoreMismatchError,
  RelayStoreUnavailableError,
  RelayStoreUsageError,
} from './relayStore.js'

export type { JetStreamRelayStoreOptions } from './jetStreamConfig.js'

const MAX_APPEND_RETRIES = 500

/**
 * A relay store shared by any number of relays through a JetStream cluster. A topic's envelopes are the messages on
 * its subject; each carries its topic seq in a header. `append` takes the next seq after the topic's last one and
 * publishes with JetStream's expected last (stream) sequence, so two relays cannot both get the same seq (the loser
 * retries); the seq lives in the stream, so cursors mean the same on every relay.
 * Deduplication: `Nats-Msg-Id` = topic + envelope id inside the duplicate window, and the `ids` bucket beyond it.
 *
 * @example
 * const store = await JetStreamRelayStore.open({ servers: ['nats://127.0.0.1:4222'], replicas: 1 })
 * const [{ seq }] = await store.append([{ topic, id, bytes, publisher }])
 * await store.close()
 */
export class JetStreamRelayStore implements RelayStore {
  readonly #p: JetStreamParts
  readonly #now: () => number
  /** The hot path's requests (publishes, id look-ups and writes), pipelined. */
  readonly #pipeline: JetStreamPipeline
  /** The state bucket's stream and its key subjects, for the pipelined id look-ups and writes. */
  readonly #kv: { stream: string; subject: (key: string) => string }
  /** topic → its last seq as this store last saw it; valid while `#streamLast` is (no other writer since). */
  readonly #last = new Map<string, bigint>()
  /** The stream's last sequence as of this store's last publish (undefined: read it again). */
  #streamLast: number | undefined
  /** `topic:seq` → stream seq, so a replay's next page starts where the previous one ended. */
  readonly #where = new Map<string, number>()
  /** Topic depths, read from the stream at most once a second (the queue limit's check). */
  readonly #depths = new TopicDepths()
  #closed = false
  /** False while the client is disconnected from every NATS node: calls fail at once as unavailable. */
  #connected = true
  /**
   * This store's id, in the `Sealpost-Relay` header of what it appends (so a relay following the stream knows its
   * own envelopes).
   */
  readonly instanceId: string = crypto.randomUUID().replaceAll('-', '')

  private constructor(parts: JetStreamParts, now: () => number, bucket: string) {
    this.#p = parts
    this.#now = now
    this.#pipeline = new JetStreamPipeline(parts.nc)
    this.#kv = { stream: `KV_${bucket}`, subject: (key) => `$KV.${bucket}.${key}` }
    void (async () => {
      for await (const s of parts.nc.status()) {
        if (s.type === 'disconnect') this.#connected = false
        else if (s.type === 'reconnect') this.#connected = true
      }
    })().catch(() => undefined)
  }

  /**
   * The stream, bucket and connection this store uses (for the relay cluster's live delivery and anchor lease).
   *
   * @example const { nc, stream } = store.parts
   */
  get parts(): JetStreamParts {
    return this.#p
  }

  /**
   * Follows the stream from now: every envelope appended after this call (by any relay), in stream order; see
   * `followStream`.
   *
   * @example const follower = await store.follow((e) => fanOut(e))
   */
  follow(
    onEnvelope: (e: FollowedEnvelope) => void | Promise<void>,
    options?: { onError?: ((err: unknown) => void) | undefined },
  ): Promise<StreamFollower> {
    return followStream(this.#p, onEnvelope, options)
  }

  /**
   * Connects, creates the stream and buckets if missing (an existing one keeps its configuration) and returns the store.
   *
   * @example const store = await JetStreamRelayStore.open({ servers: cluster.urls })
   */
  static async open({
    servers,
    prefix = 'sealpost',
    replicas = 3,
    duplicateWindowMs = 120_000,
    now = Date.now,
    deployment,
  }: JetStreamRelayStoreOptions): Promise<JetStreamRelayStore> {
    if (!/^[a-z0-9_-]+$/i.test(prefix))
      throw new RelayStoreUsageError({ reason: 'prefix must be [A-Za-z0-9_-]+' })
    let nc: Awaited<ReturnType<typeof connect>> | undefined
    try {
      nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 250 })
      const jsm = await jetstreamManager(nc)
      const stream = `${prefix.toUpperCase()}_ENVELOPES`
      const subjects = [`${prefix}.env.*`, `${prefix}.meta`]
      const description = deployment === undefined ? undefined : `sealpost relay store: ${deployment}`
      const existing = await jsm.streams.info(stream).catch(() => undefined)
      const wanted = { name: stream, subjects, replicas, description }
      if (existing) checkStreamConfig(existing.config, wanted)
      else
        await jsm.streams
          .add({
            name: stream,
            subjects,
            num_replicas: replicas,
            duplicate_window: duplicateWindowMs * 1_000_000,
            ...(description === undefined ? {} : { description }),
          })
          .catch(async (err: unknown) => {
            // Another relay starting at the same time created it first.
            const created = await jsm.streams.info(stream).catch(() => undefined)
            if (!created) throw err
            checkStreamConfig(created.config, wanted)
          })
      // A marker, so the stream is never empty: an expected last sequence of 0 is not enforced by nats-server 2.9.
      // Retried briefly: a stream just created (by another relay) may not listen on every node yet.
      for (let attempt = 0; ; attempt++) {
        try {
          await jetstream(nc).publish(`${prefix}.meta`, 'sealpost relay store', {
            msgID: `${prefix}-created`,
          })
          break
        } catch (err) {
          if (attempt >= 50) throw err
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      // Direct gets answer the hot path's id look-ups from any replica (JetStreamPipeline.lastOf).
      const kv = await new Kvm(nc).create(`${prefix}_state`, { replicas, history: 1, allow_direct: true })
      const bucket = await jsm.streams.info(`KV_${prefix}_state`)
      checkStreamConfig(bucket.config, { name: `KV_${prefix}_state`, replicas })
      const parts: JetStreamParts = {
        nc,
        js: jetstream(nc),
        jsm,
        stream,
        subject: (topic) => `${prefix}.env.${token(topic, 'topic')}`,
        ids: bucketOf(kv, 'ids'),
        heads: bucketOf(kv, 'heads'),
        acks: bucketOf(kv, 'acks'),
        inboxes: bucketOf(kv, 'inboxes'),
        notices: bucketOf(kv, 'notices'),
        keyPackages: bucketOf(kv, 'kp'),
        lastResort: bucketOf(kv, 'lastresort'),
      }
      return new JetStreamRelayStore(parts, now, `${prefix}_state`)
    } catch (err) {
      await nc?.close().catch(() => undefined)
      if (err instanceof RelayStoreUsageError || err instanceof RelayStoreMismatchError) throw err
      throw new RelayStoreError({ operation: 'open', cause: err })
    }
  }

  async append(entries: RelayAppendEntry[]): Promise<RelayAppendResult[]> {
    // Check every entry first: a malformed one fails the batch before anything is published.
    const checked = entries.map((e) => {
      const t = token(e.topic, 'topic')
      const idToken = token(e.id, 'id')
      token(e.publisher, 'publisher')
      if (!(e.bytes instanceof Uint8Array))
        throw new RelayStoreUsageError({ reason: 'bytes must be a Uint8Array' })
      return { ...e, t, idToken, idKey: `${t}.${idToken}` }
    })
    return this.#run('append', () => this.#appendBatch(checked))
  }

  /**
   * Appends a batch in a few round trips, whatever its size: the id look-ups at once, then every new envelope
   * published back to back (pipelined) and the acks awaited together, then the ids written at once. Each publish is
   * guarded: the first expects the stream's last sequence, each next one also the message id of the one before
   * (`Nats-Expected-Last-Msg-Id`), so if any message was stored in between (another relay) or one of the chain
   * failed, JetStream refuses every later one too: a topic's seqs stay gap-free and in batch order. (nats-server
   * 2.9 does not count in-flight proposals in its per-subject check, so two relays could both pass an
   * expected-last-subject-sequence; the stream-wide checks are applied in log order and count them.) Entries
   * refused that way are retried with positions read again. While this store is the only writer, positions are
   * known from its own acks and cost nothing. The topic head is not written per envelope: it is the last stored
   * message's seq, and `heads` keeps it only when retention deletes messages (see `pruneOn`).
   */
  async #appendBatch(checked: Checked[]): Promise<RelayAppendResult[]> {
    const at = this.#now()
    const results: (RelayAppendResult | undefined)[] = new Array(checked.length)
    // A repeated (topic, id) in the batch is a duplicate of its first occurrence.
    const first = new Map<string, number>()
    let todo: number[] = []
    checked.forEach((e, i) => {
      if (!first.has(e.idKey)) {
        first.set(e.idKey, i)
        todo.push(i)
      }
    })
    for (let attempt = 0; todo.length > 0; attempt++) {
      if (attempt >= MAX_APPEND_RETRIES)
        throw new RelayStoreError({
          operation: 'append',
          cause: new Error('stream contended past the retry limit'),
        })
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)))
      // Ids stored before (beyond JetStream's duplicate window): one look-up each, all at once.
      const known = await Promise.all(todo.map((i) => this.#knownId(checked[i]!.idKey)))
      const fresh: number[] = []
      todo.forEach((i, k) => {
        const v = known[k]
        if (v) results[i] = { seq: BigInt(v.split(' ')[0]!), duplicate: true }
        else fresh.push(i)
      })
      todo = await this.#publishChain(checked, fresh, at, results)
    }
    checked.forEach((e, i) => {
      if (results[i] === undefined) results[i] = { seq: results[first.get(e.idKey)!]!.seq, duplicate: true }
    })
    return results as RelayAppendResult[]
  }

  /** Publishes `indices` of `checked` as one guarded chain; fills `results` and returns the indices to retry. */
  async #publishChain(
    checked: Checked[],
    indices: number[],
    at: number,
    results: (RelayAppendResult | undefined)[],
  ): Promise<number[]> {
    if (indices.length === 0) return []
    this.#streamLast ??= (await this.#p.jsm.streams.info(this.#p.stream)).state.last_seq
    const streamLast = this.#streamLast
    const topics = [...new Map(indices.map((i) => [checked[i]!.t, checked[i]!.topic])).entries()]
    const lasts = await Promise.all(topics.map(([t, topic]) => this.#lastOf(topic, t)))
    const next = new Map(topics.map(([t], k) => [t, lasts[k]!]))
    const seqs: bigint[] = []
    let previousId: string | undefined
    const acks = indices.map((i, k) => {
      const e = checked[i]!
      const seq = next.get(e.t)! + 1n
      next.set(e.t, seq)
      seqs.push(seq)
      const h = headers()
      h.set(HEADER.seq, String(seq))
      h.set(HEADER.id, e.id.toLowerCase())
      h.set(HEADER.publisher, e.publisher.toLowerCase())
      h.set(HEADER.at, String(at))
      h.set(HEADER.relay, this.instanceId)
      const msgID = `${e.t}${e.idToken}`
      h.set(PubHeaders.MsgIdHdr, msgID)
      h.set(PubHeaders.ExpectedLastSeqHdr, String(streamLast + k))
      if (previousId !== undefined) h.set(PubHeaders.ExpectedLastMsgIdHdr, previousId)
      previousId = msgID
      // Sent in call order on the one connection; the acks are awaited together below.
      return this.#pipeline.publish(this.#p.subject(e.topic), e.bytes, h)
    })
    const settled = await Promise.allSettled(acks)
    const retry: number[] = []
    const stored: number[] = []
    let clean = true
    let failure: unknown
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!
      const s = settled[k]!
      if (s.status === 'rejected') {
        clean = false
        if (!isConflict(s.reason)) failure ??= s.reason
        retry.push(i)
      } else if (s.value.duplicate) {
        clean = false
        const original = await storedMessage(this.#p, { seq: s.value.seq })
        if (original) results[i] = { seq: envelopeHeaders(original.header).seq, duplicate: true }
        else retry.push(i)
      } else {
        results[i] = { seq: seqs[k]!, duplicate: false }
        this.#remember(checked[i]!.t, seqs[k]!, s.value.seq)
        this.#depths.added(checked[i]!.t)
        stored.push(i)
        if (clean) {
          this.#streamLast = s.value.seq
          this.#last.set(checked[i]!.t, seqs[k]!)
        }
      }
    }
    // Another relay stored something (or an outcome is unknown): forget every cached position.
    if (!clean) {
      this.#last.clear()
      this.#streamLast = undefined
    }
    // The ids, for deduplication beyond JetStream's duplicate window: written at once.
    await Promise.all(
      stored.map((i) =>
        this.#pipeline.publish(this.#kv.subject(`ids.${checked[i]!.idKey}`), `${results[i]!.seq} ${at}`),
      ),
    )
    if (failure !== undefined) throw failure
    return retry
  }

  /** The "seq at" recorded for an envelope id (`topic.id` tokens), if any: a direct get of its key in the bucket. */
  async #knownId(idKey: string): Promise<string | undefined> {
    const msg = await this.#pipeline.lastOf(this.#kv.stream, this.#kv.subject(`ids.${idKey}`))
    const operation = msg?.headers?.get('KV-Operation')
    return msg && operation !== 'DEL' && operation !== 'PURGE' ? msg.string() : undefined
  }

  /** The topic's last seq: its last stored message's, or `heads` when that is higher (pruned messages). */
  async #lastOf(topic: Hex, t: string): Promise<bigint> {
    const cached = this.#last.get(t)
    if (cached !== undefined) return cached
    const seq = await this.#headOf(topic, t)
    this.#last.set(t, seq)
    return seq
  }

  /** The highest seq the topic ever had: its last stored message's, or `heads` when retention deleted that one. */
  async #headOf(topic: Hex, t: string): Promise<bigint> {
    const [msg, head] = await Promise.all([
      storedMessage(this.#p, { last_by_subj: this.#p.subject(topic) }),
      currentValue(this.#p.heads, t),
    ])
    let seq = msg ? envelopeHeaders(msg.header).seq : 0n
    if (head && BigInt(head.value) > seq) seq = BigInt(head.value)
    return seq
  }

  async readAfter(topic: Hex, after: bigint, limit: number): Promise<RelayStoredEnvelope[]> {
    const t = token(topic, 'topic')
    checkSeq(after)
    if (!Number.isSafeInteger(limit) || limit <= 0) return []
    return this.#run('readAfter', async () => {
      const subject = this.#p.subject(topic)
      const out: RelayStoredEnvelope[] = []
      let from = after > 0n ? (this.#where.get(`${t}:${after}`) ?? 0) + 1 : 1
      while (out.length < limit) {
        const msg = await storedMessage(this.#p, { seq: from, next_by_subj: subject })
        if (!msg) break
        const { seq } = envelopeHeaders(msg.header)
        from = msg.seq + 1
        if (seq <= after) continue
        this.#remember(t, seq, msg.seq)
        out.push({ seq, bytes: msg.data })
      }
      return out
    })
  }

  async head(topic: Hex): Promise<bigint> {
    const t = token(topic, 'topic')
    return this.#run('head', () => this.#headOf(topic, t))
  }

  async depth(topic: Hex): Promise<number> {
    const t = token(topic, 'topic')
    const known = this.#depths.get(t)
    if (known !== undefined) return known
    const subject = this.#p.subject(topic)
    return this.#run('depth', async () => {
      const info = await this.#p.jsm.streams.info(this.#p.stream, { subjects_filter: subject })
      return this.#depths.set(t, (info.state.subjects as Record<string, number> | undefined)?.[subject] ?? 0)
    })
  }

  async subscribe(topic: Hex, deviceId: Hex): Promise<void> {
    const key = `${token(topic, 'topic')}.${token(deviceId, 'deviceId')}`
    await this.#run('subscribe', async () => {
      try {
        await this.#p.acks.create(key, '0')
      } catch (err) {
        if (!isConflict(err)) throw err
      }
    })
  }

  async ack(topic: Hex, deviceId: Hex, seq: bigint): Promise<void> {
    const t = token(topic, 'topic')
    const key = `${t}.${token(deviceId, 'deviceId')}`
    checkSeq(seq)
    await this.#run('ack', () => raiseTo(this.#p.acks, key, seq, () => this.head(topic)))
  }

  async acks(topic: Hex): Promise<{ deviceId: Hex; seq: bigint }[]> {
    const t = token(topic, 'topic')
    return this.#run('acks', async () =>
      (await acksOn(this.#p, t)).map(({ device, acked }) => ({ deviceId: device, seq: acked })),
    )
  }

  async claimInbox(topic: Hex, owner: Hex): Promise<Hex[]> {
    const t = token(topic, 'topic')
    const o = token(owner, 'owner')
    return this.#run('claimInbox', () => claimInboxOn(this.#p, t, o))
  }

  async prune(now: number, retentionMs: number): Promise<RelayPruneResult> {
    return this.#run('prune', async () => {
      const result = await pruneOn(this.#p, now, retentionMs)
      this.#where.clear()
      this.#depths.clear()
      return result
    })
  }

  async expiryNotices(publisher: Hex): Promise<RelayExpiryNotice[]> {
    const d = token(publisher, 'publisher')
    return this.#run('expiryNotices', () => noticesOf(this.#p, d))
  }

  async putKeyPackages(deviceId: Hex, envelopes: Uint8Array[], lastResort?: Uint8Array): Promise<number> {
    const d = token(deviceId, 'deviceId')
    for (const e of [...envelopes, ...(lastResort ? [lastResort] : [])])
      if (!(e instanceof Uint8Array)) throw new RelayStoreUsageError({ reason: 'bytes must be a Uint8Array' })
    return this.#run('putKeyPackages', () => putKeyPackagesOn(this.#p, d, envelopes, lastResort))
  }

  async takeKeyPackage(deviceId: Hex): Promise<Uint8Array | undefined> {
    const d = token(deviceId, 'deviceId')
    return this.#run('takeKeyPackage', () => takeKeyPackageOn(this.#p, d))
  }

  async countKeyPackages(deviceId: Hex): Promise<number> {
    const d = token(deviceId, 'deviceId')
    return this.#run('countKeyPackages', () => countKeyPackagesOn(this.#p, d))
  }

  /**
   * Closes the connection (idempotent); the stream and buckets stay.
   *
   * @example await store.close()
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#pipeline.close()
    await this.#p.nc.close()
  }

  #remember(t: string, seq: bigint, streamSeq: number): void {
    if (this.#where.size > 100_000) this.#where.clear()
    this.#where.set(`${t}:${seq}`, streamSeq)
  }

  async #run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new RelayStoreUsageError({ reason: `${operation} after close()` })
    if (!this.#connected) throw new RelayStoreUnavailableError({ operation })
    try {
      return await fn()
    } catch (err) {
      if (err instanceof RelayStoreUsageError) throw err
      if (!this.#connected || isUnavailable(err))
        throw new RelayStoreUnavailableError({ operation, cause: err })
      if (err instanceof RelayStoreError) throw err
      throw new RelayStoreError({ operation, cause: err })
    }
  }
}

type Checked = RelayAppendEntry & { t: string; idToken: string; idKey: string }
