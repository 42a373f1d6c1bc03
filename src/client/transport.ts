/** The transport a client talks to: topics with ordered cursors, acks, and a key-package directory. */
import type { Hex } from 'viem'
import { type BaseError, UsageError } from '../errors.js'
import type { Envelope } from '../protocol/envelope.js'
import type { TopicPreimage } from '../protocol/topics.js'

/** An envelope as delivered on a topic, with the transport's sequence number for it. */
export type Delivery = {
  topic: Hex
  cursor: bigint
  envelope: Envelope
  /**
   * The envelope was published while this subscription was live, not replayed from storage (catch-up, `pull`).
   * Only live deliveries are held to the live freshness window (protocol §11.1); catch-up is bounded by the
   * anchor window instead. Absent means catch-up.
   */
  live?: boolean | undefined
}

/**
 * The relay deleted an envelope this device published before `recipients` had acked it (retention, protocol §9.4):
 * `id` (seq `seq` on `topic`) expired at `expiredAt` (unix ms). The relay may report one expiry more than once.
 *
 * @example transport.onExpired?.((n: ExpiryNotice) => console.log(n.id, n.recipients.length))
 */
export type ExpiryNotice = { topic: Hex; seq: bigint; id: Hex; expiredAt: number; recipients: Hex[] }

/**
 * What a Sealpost client needs from the network. The in-process `MemoryTransport` implements it now;
 * the WebSocket relay client implements the same interface.
 */
export interface Transport {
  /** Publishes an envelope on its topic; resolves once the transport has durably accepted it. */
  publish(envelope: Envelope): Promise<{ cursor: bigint }>
  /**
   * Envelopes of `topic` with a cursor greater than `after`, in order. `preimage` gives what the topic is the hash of
   * (a relay asks for it when it subscribes, protocol §9.4; a transport may default the device's own inbox).
   */
  pull(parameters: {
    topic: Hex
    after: bigint
    limit?: number
    preimage?: ((topic: Hex) => TopicPreimage) | undefined
  }): Promise<Delivery[]>
  /**
   * Live deliveries on `topics`. A transport that stores envelopes first replays those after `after(topic)` (the
   * caller's cursor), in order. Returns the unsubscribe function. `onError` hears a topic the transport refused for
   * good (the relay's `RelayRequestError`, e.g. `RELAY_FORBIDDEN`); its deliveries stop. `preimage` as for `pull`.
   */
  subscribe(parameters: {
    topics: Hex[]
    after?: ((topic: Hex) => bigint) | undefined
    preimage?: ((topic: Hex) => TopicPreimage) | undefined
    onDelivery: (delivery: Delivery) => void
    onError?: ((topic: Hex, error: BaseError) => void) | undefined
  }): () => void
  /** Confirms that everything on `topic` up to `cursor` was processed. */
  ack(parameters: { topic: Hex; cursor: bigint }): Promise<void>
  /** Publishes key packages so peers can add this device while it is offline. */
  putKeyPackages(parameters: { deviceId: Hex; envelopes: Envelope[] }): Promise<void>
  /** Takes (consumes) one key package of `deviceId`, or `undefined` when none is left. */
  takeKeyPackage(parameters: { deviceId: Hex }): Promise<Envelope | undefined>
  /** How many key packages of `deviceId` are left. */
  countKeyPackages(parameters: { deviceId: Hex }): Promise<number>
  /**
   * Optional: submits a statement leaf to the transport's anchorer. The receipt comes back as an envelope of kind
   * `receipt` on `topic`.
   */
  submitLeaf?(parameters: { topic: Hex; leaf: Hex }): Promise<void>
  /** Optional: ack cursors of the other devices on a topic, as the relay reports them. Returns the unsubscribe. */
  onAcks?(listener: (topic: Hex, acks: { deviceId: Hex; seq: bigint }[]) => void): () => void
  /**
   * Optional: expiry notices for envelopes this device published (each notice received so far is replayed to a new
   * listener, once per envelope id). Returns the unsubscribe.
   */
  onExpired?(listener: (notice: ExpiryNotice) => void): () => void
  /** Optional: releases the transport (closes sockets). */
  close?(): Promise<void>
}

type Listener = { topics: Set<Hex>; onDelivery: (delivery: Delivery) => void }

/**
 * An in-process hub that many `MemoryTransport`s share: the same ordering, cursor and key-package semantics
 * as the relay, without sockets. For tests and the single-process demo.
 *
 * @example
 * const hub = new MemoryHub()
 * const alice = await Client.create({ ..., transport: hub.connect() })
 */
export class MemoryHub {
  readonly #topics = new Map<Hex, Delivery[]>()
  readonly #keyPackages = new Map<Hex, Envelope[]>()
  readonly #listeners = new Set<Listener>()
  readonly #acks = new Map<Hex, bigint>()

  /** A transport handle on this hub. */
  connect(): Transport {
    return new MemoryTransport(this)
  }

  /** @internal */ publish(envelope: Envelope): { cursor: bigint } {
    const log = this.#topics.get(envelope.topic) ?? []
    const existing = log.find((d) => d.envelope.id === envelope.id)
    if (existing) return { cursor: existing.cursor }
    const delivery = { topic: envelope.topic, cursor: BigInt(log.length + 1), envelope }
    log.push(delivery)
    this.#topics.set(envelope.topic, log)
    const live = { ...delivery, live: true }
    for (const l of this.#listeners)
      if (l.topics.has(envelope.topic)) queueMicrotask(() => l.onDelivery(live))
    return { cursor: delivery.cursor }
  }

  /** @internal */ pull(topic: Hex, after: bigint, limit: number): Delivery[] {
    return (this.#topics.get(topic) ?? []).filter((d) => d.cursor > after).slice(0, limit)
  }

  /** @internal */ listen(listener: Listener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** @internal */ ack(topic: Hex, cursor: bigint): void {
    if (cursor > (this.#acks.get(topic) ?? 0n)) this.#acks.set(topic, cursor)
  }

  /** @internal */ keyPackages(deviceId: Hex): Envelope[] {
    const list = this.#keyPackages.get(deviceId) ?? []
    this.#keyPackages.set(deviceId, list)
    return list
  }

  /** Every delivery on a topic (for tests and the demo's tampering steps). */
  deliveries(topic: Hex): readonly Delivery[] {
    return this.#topics.get(topic) ?? []
  }
}

class MemoryTransport implements Transport {
  readonly #hub: MemoryHub
  constructor(hub: MemoryHub) {
    this.#hub = hub
  }
  async publish(envelope: Envelope) {
    return this.#hub.publish(envelope)
  }
  async pull({ topic, after, limit = 1000 }: { topic: Hex; after: bigint; limit?: number }) {
    return this.#hub.pull(topic, after, limit)
  }
  subscribe({
    topics,
    after,
    onDelivery,
  }: {
    topics: Hex[]
    after?: ((topic: Hex) => bigint) | undefined
    onDelivery: (d: Delivery) => void
  }) {
    const stop = this.#hub.listen({ topics: new Set(topics), onDelivery })
    if (after)
      for (const topic of topics)
        for (const d of this.#hub.pull(topic, after(topic), Number.MAX_SAFE_INTEGER))
          queueMicrotask(() => onDelivery(d))
    return stop
  }
  async ack({ topic, cursor }: { topic: Hex; cursor: bigint }) {
    this.#hub.ack(topic, cursor)
  }
  async putKeyPackages({ deviceId, envelopes }: { deviceId: Hex; envelopes: Envelope[] }) {
    this.#hub.keyPackages(deviceId).push(...envelopes)
  }
  async takeKeyPackage({ deviceId }: { deviceId: Hex }) {
    return this.#hub.keyPackages(deviceId).shift()
  }
  async countKeyPackages({ deviceId }: { deviceId: Hex }) {
    return this.#hub.keyPackages(deviceId).length
  }
}

/**
 * A transport for commands that only talk to the chain (registering or revoking a device). Any message
 * operation fails with `NoTransportError`.
 *
 * @example const client = await Client.create({ ..., transport: offlineTransport })
 */
export const offlineTransport: Transport = {
  publish: () => Promise.reject(new NoTransportError()),
  pull: () => Promise.reject(new NoTransportError()),
  subscribe: () => {
    throw new NoTransportError()
  },
  ack: () => Promise.reject(new NoTransportError()),
  putKeyPackages: () => Promise.reject(new NoTransportError()),
  takeKeyPackage: () => Promise.reject(new NoTransportError()),
  countKeyPackages: () => Promise.reject(new NoTransportError()),
}

/** A message operation was attempted on a client created without a transport. */
export class NoTransportError extends UsageError {
  override name = 'NoTransportError' as const
  constructor() {
    super('No message transport is configured for this client.', { code: 'SEALPOST_NO_TRANSPORT' })
  }
}
