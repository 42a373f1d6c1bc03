/** One topic the relay transport follows: its preimage, listeners, unacked deliveries, last seq and the relay's head. */
import type { Hex } from 'viem'
import type { BaseError } from '../errors.js'
import { decodeEnvelope, type Envelope } from '../protocol/envelope.js'
import { inboxTopic, type TopicPreimage, topicOf } from '../protocol/topics.js'
import { TopicPreimageUnknownError } from './errors.js'
import type { Delivery } from './transport.js'

/** Deliveries kept per topic for `pull` (the oldest are dropped beyond it). @example SUBSCRIPTION_BUFFER // 10000 */
export const SUBSCRIPTION_BUFFER = 10_000

/**
 * A followed topic. `lastSeq` is what a resumed SUBSCRIBE asks after; `head` resolves when the relay has answered
 * the current SUBSCRIBE (after replaying what it stores).
 *
 * @example const sub: RelaySubscription = newSubscription(0n, { kind: 'inbox', deviceId })
 */
export type RelaySubscription = {
  /** What the topic is the hash of: every SUBSCRIBE for it carries this (protocol §9.4). */
  preimage: TopicPreimage
  listeners: Set<RelaySubscriptionListener>
  /** Deliveries not yet acked, for `pull`. */
  buffer: Delivery[]
  /** Highest seq received on this topic (deliveries at or below it are replays and dropped). */
  lastSeq: bigint
  /** Resolves when the relay has answered the current SUBSCRIBE, with its head. */
  head: Promise<bigint>
  setHead: (head: bigint) => void
  /** The relay's head when it answered the current SUBSCRIBE: deliveries after it are live. Unset while replaying. */
  liveAfter: bigint | undefined
  /** Consecutive transient refusals of the SUBSCRIBE (e.g. `RELAY_RATE_LIMITED`); reset by its OK. */
  refusals: number
}

/**
 * One listener of a followed topic: deliveries after `after`, and the error that ends the subscription, if any.
 *
 * @example sub.listeners.add({ after: 0n, onDelivery: (d) => handle(d), onError: (topic, err) => log(err.code) })
 */
export type RelaySubscriptionListener = {
  after: bigint
  onDelivery: (d: Delivery) => void
  onError?: ((topic: Hex, error: BaseError) => void) | undefined
}

/**
 * A subscription with `preimage` that starts after `from`, its head pending.
 *
 * @example const sub = newSubscription(store.getCursor(topic), preimage)
 */
export function newSubscription(from: bigint, preimage: TopicPreimage): RelaySubscription {
  const sub: RelaySubscription = {
    preimage,
    listeners: new Set(),
    buffer: [],
    lastSeq: from,
    head: Promise.resolve(from),
    setHead: () => undefined,
    liveAfter: undefined,
    refusals: 0,
  }
  resetHead(sub)
  return sub
}

/**
 * The preimage to subscribe to `topic` with: the caller's (`resolve`), else the device's own inbox when `topic` is
 * it. None, a resolver that throws, or a preimage that does not hash to `topic` is a `TopicPreimageUnknownError`.
 *
 * @example const preimage = subscriptionPreimage(topic, deviceId, (t) => preimages.get(t)!)
 */
export function subscriptionPreimage(
  topic: Hex,
  ownDeviceId: Hex,
  resolve: ((topic: Hex) => TopicPreimage) | undefined,
): TopicPreimage {
  const wanted = topic.toLowerCase()
  try {
    const preimage =
      resolve?.(topic) ??
      (wanted === inboxTopic(ownDeviceId) ? { kind: 'inbox', deviceId: ownDeviceId } : undefined)
    if (preimage && topicOf(preimage) === wanted) return preimage
  } catch (cause) {
    throw new TopicPreimageUnknownError({ topic, cause })
  }
  throw new TopicPreimageUnknownError({ topic })
}

/**
 * A fresh pending head, for a SUBSCRIBE about to be (re)sent.
 *
 * @example resetHead(sub); send({ type: 'subscribe', reqId, topic, after: sub.lastSeq, preimage: sub.preimage })
 */
export function resetHead(sub: RelaySubscription): void {
  let resolveHead!: (head: bigint) => void
  const head = new Promise<bigint>((resolve) => {
    resolveHead = resolve
  })
  sub.head = head
  sub.liveAfter = undefined // what the relay replays after a (re)subscribe is catch-up
  sub.setHead = (value) => {
    sub.liveAfter = value
    resolveHead(value)
  }
}

/**
 * Takes a DELIVER frame: drops replays (seq at or below `lastSeq`) and envelopes that do not decode, else
 * buffers the delivery (bounded), hands it to every listener it is new for, and returns it.
 *
 * @example acceptDelivery(sub, { topic, seq: 8n, bytes })
 */
export function acceptDelivery(
  sub: RelaySubscription,
  { topic, seq, bytes }: { topic: Hex; seq: bigint; bytes: Uint8Array },
): Delivery | undefined {
  if (seq <= sub.lastSeq) return undefined
  let envelope: Envelope
  try {
    envelope = decodeEnvelope(bytes)
  } catch {
    return undefined // the relay persisted garbage; skip it (the client would reject it anyway)
  }
  sub.lastSeq = seq
  const live = sub.liveAfter !== undefined && seq > sub.liveAfter
  const delivery: Delivery = { topic, cursor: seq, envelope, live }
  sub.buffer.push(delivery)
  if (sub.buffer.length > SUBSCRIPTION_BUFFER) sub.buffer.shift()
  for (const listener of sub.listeners) if (seq > listener.after) listener.onDelivery(delivery)
  return delivery
}

/**
 * Drops the buffered deliveries at or below an acked cursor.
 *
 * @example acknowledge(sub, 12n)
 */
export function acknowledge(sub: RelaySubscription, cursor: bigint): void {
  sub.buffer = sub.buffer.filter((d) => d.cursor > cursor)
}
