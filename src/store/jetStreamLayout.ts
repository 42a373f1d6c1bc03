/** Relay store on JetStream: the names (stream, subjects, KV buckets and keys) and envelope headers it uses. */
import type { JetStreamClient, JetStreamManager, MsgRequest, StoredMsg } from '@nats-io/jetstream'
import type { KV, KvEntry } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Hex } from 'viem'
import { RelayStoreUsageError } from './relayStore.js'

/**
 * One namespace (`<ns>.` key prefix) of the store's single KV bucket: the KV calls the store makes, keys without
 * the prefix.
 *
 * @example await bucket.create(`${topic}.${device}`, '0')
 */
export type Bucket = {
  get(key: string): Promise<KvEntry | null>
  put(key: string, value: string | Uint8Array): Promise<number>
  create(key: string, value: string | Uint8Array): Promise<number>
  update(key: string, value: string | Uint8Array, revision: number): Promise<number>
  delete(key: string, opts?: { previousSeq: number }): Promise<void>
  /** Keys (without the prefix) matching `filter` (KV wildcards). */
  keys(filter: string): Promise<string[]>
}

/**
 * The namespace `ns` of `kv`.
 *
 * @example const acks = bucketOf(kv, 'acks')
 */
export function bucketOf(kv: KV, ns: string): Bucket {
  const k = (key: string) => `${ns}.${key}`
  return {
    get: (key) => kv.get(k(key)),
    put: (key, value) => kv.put(k(key), value),
    create: (key, value) => kv.create(k(key), value),
    update: (key, value, revision) => kv.update(k(key), value, revision),
    delete: (key, opts) => kv.delete(k(key), opts),
    async keys(filter) {
      const out: string[] = []
      for await (const key of await kv.keys(k(filter))) out.push(key.slice(ns.length + 1))
      return out
    },
  }
}

/**
 * Everything a JetStream relay store talks to: one stream of envelopes (a subject per topic) and one KV bucket
 * (`<prefix>_state`, same replicas) in namespaces.
 *
 * @example const subject = parts.subject(topic) // 'sealpost.env.11…11'
 */
export type JetStreamParts = {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  /** The envelope stream's name. */
  stream: string
  /** `<prefix>.env.<topic hex>`. */
  subject(topic: Hex): string
  /** `ids.<topic>.<envelope id>` → "seq at" (the existence check beyond the duplicate window; kept until retention). */
  ids: Bucket
  /** `heads.<topic>` → a topic's last seq, written by retention before it deletes messages (the head is the higher of it and the last stored message's seq). */
  heads: Bucket
  /** `acks.<topic>.<device>` → ack cursor (the topic's recorded recipients). */
  acks: Bucket
  /** `inboxes.<topic>` → owner device. */
  inboxes: Bucket
  /** `notices.<publisher>.<topic>.<seq>` → expiry notice (JSON). */
  notices: Bucket
  /** `kp.<device>.<order>` → one-time key package. */
  keyPackages: Bucket
  /** `lastresort.<device>` → last-resort key package. */
  lastResort: Bucket
}

/**
 * Envelope message headers: the topic seq, the envelope id, the publisher, the append time (unix ms) and the store
 * instance (relay) that appended it.
 */
export const HEADER = {
  seq: 'Sealpost-Seq',
  id: 'Sealpost-Id',
  publisher: 'Sealpost-Publisher',
  at: 'Sealpost-At',
  relay: 'Sealpost-Relay',
}

/**
 * The envelope fields a stored message carries in its headers.
 *
 * @example const { seq, id } = envelopeHeaders(msg.header)
 */
export function envelopeHeaders(h: { get(key: string): string }): {
  seq: bigint
  id: Hex
  publisher: Hex
  at: number
} {
  return {
    seq: BigInt(h.get(HEADER.seq)),
    id: h.get(HEADER.id) as Hex,
    publisher: h.get(HEADER.publisher) as Hex,
    at: Number(h.get(HEADER.at)),
  }
}

const BYTES32_HEX = /^0x[0-9a-f]{64}$/

/**
 * A 32-byte hex value as a subject or key token (64 lowercase hex digits); a malformed value is a usage error.
 *
 * @example token(topic, 'topic') // '11…11'
 */
export function token(value: Hex, field: string): string {
  const lower = typeof value === 'string' ? value.toLowerCase() : value
  if (typeof lower !== 'string' || !BYTES32_HEX.test(lower))
    throw new RelayStoreUsageError({ reason: `${field} must be 32 bytes of 0x-prefixed hex` })
  return lower.slice(2)
}

/**
 * A u64 sequence number argument; a negative or non-bigint one is a usage error.
 *
 * @example checkSeq(after)
 */
export function checkSeq(seq: bigint): bigint {
  if (typeof seq !== 'bigint' || seq < 0n) throw new RelayStoreUsageError({ reason: 'seq must be a u64' })
  return seq
}

/**
 * All keys of `kv` matching `filter` (KV wildcards), as an array.
 *
 * @example const devices = await keysOf(parts.acks, `${topic}.*`)
 */
export function keysOf(kv: Bucket, filter: string): Promise<string[]> {
  return kv.keys(filter)
}

/**
 * The current value of `key` in `kv` as a string, with its revision; undefined when absent or deleted.
 *
 * @example const head = await currentValue(parts.heads, topicToken)
 */
export async function currentValue(
  kv: Bucket,
  key: string,
): Promise<{ value: string; revision: number } | undefined> {
  const e = await kv.get(key)
  if (e?.operation !== 'PUT') return undefined
  return { value: e.string(), revision: e.revision }
}

/**
 * Raises the bigint stored at `key` to at least `value` (compare-and-set loop; never lowers it).
 *
 * @example await raiseTo(parts.heads, topicToken, 7n)
 */
export async function raiseTo(
  kv: Bucket,
  key: string,
  value: bigint,
  cap?: () => Promise<bigint>,
): Promise<void> {
  for (;;) {
    const current = await currentValue(kv, key)
    let target = value
    if (cap) {
      const limit = await cap()
      if (target > limit) target = limit
    }
    if (current && BigInt(current.value) >= target) return
    try {
      if (current) await kv.update(key, String(target), current.revision)
      else await kv.create(key, String(target))
      return
    } catch (err) {
      if (!isConflict(err)) throw err
    }
  }
}

/**
 * Whether `err` is a KV compare-and-set conflict (wrong last sequence, key exists) or an expected-last-sequence or
 * expected-last-msg-id miss.
 *
 * @example if (!isConflict(err)) throw err
 */
export function isConflict(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string }
  // `code` is the API error code of the client's JetStreamApiError.
  const code = e?.api_error?.err_code ?? (typeof e?.code === 'number' ? e.code : undefined)
  if (code === 10070 || code === 10071 || code === 10164) return true
  return /wrong last (sequence|msg ?id)|key exists/i.test(String(e?.message ?? ''))
}

/**
 * Whether `err` (or a cause) says JetStream could not be reached (timeout, no responders, no quorum), not that a
 * call was wrong.
 *
 * @example if (isUnavailable(err)) throw new RelayStoreUnavailableError({ operation, cause: err })
 */
export function isUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>()
  for (
    let e = err as { message?: string; code?: unknown; cause?: unknown } | undefined;
    e && !seen.has(e);
    e = e.cause as typeof e
  ) {
    seen.add(e)
    const text = `${e.message ?? ''} ${String(e.code ?? '')}`
    if (
      /timeout|no responders|503|disconnect|connection (closed|refused)|no suitable peers|temporarily unavailable|jetstream not enabled|CONNECTION_/i.test(
        text,
      )
    )
      return true
  }
  return false
}

/**
 * A stored envelope-stream message by stream seq, last by subject, or next by subject from a seq; null when there is
 * none.
 *
 * @example const last = await storedMessage(parts, { last_by_subj: parts.subject(topic) })
 */
export async function storedMessage(
  p: JetStreamParts,
  query: { seq?: number; next_by_subj?: string; last_by_subj?: string },
): Promise<StoredMsg | null> {
  try {
    return await p.jsm.streams.getMessage(p.stream, query as MsgRequest)
  } catch (err) {
    if ((err as { code?: unknown }).code === 10037) return null
    if (/no message found/i.test(String((err as Error).message))) return null
    throw err
  }
}
