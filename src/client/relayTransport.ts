/** The client side of the relay protocol: authenticates, reconnects with backoff, resumes from cursors, resends. */
import type { Hex } from 'viem'
import WebSocket from 'ws'
import type { BaseError } from '../errors.js'
import { decodeEnvelope, type Envelope, encodeEnvelope } from '../protocol/envelope.js'
import {
  type ClientFrame,
  decodeRelayFrame,
  encodeClientFrame,
  type RelayFrame,
} from '../protocol/relayFrames.js'
import type { TopicPreimage } from '../protocol/topics.js'
import { DEFAULT_BACKOFF, DEFAULT_SUBSCRIBE_RETRY, reconnectDelayMs, retryDelayMs } from './backoff.js'
import { deferred, settledWithin } from './deferred.js'
import { RelayAuthError, RelayRequestError, RelayUnreachableError, TransportClosedError } from './errors.js'
import { ExpiryNoticeBuffer } from './expiryNoticeBuffer.js'
import { answerChallenge } from './relayHandshake.js'
import {
  acceptDelivery,
  acknowledge,
  newSubscription,
  type RelaySubscription,
  resetHead,
  subscriptionPreimage,
} from './relaySubscription.js'
import type { RelayConnectionState, RelayTransportParameters } from './relayTransportOptions.js'
import { nextRelayIndex, relayUrlList } from './relayUrls.js'
import { type PendingRequest, relayErrorOutcome, requestsToSend } from './requestWindow.js'
import type { Delivery, ExpiryNotice, Transport } from './transport.js'

export { RelayAuthError, RelayRequestError, RelayUnreachableError, TransportClosedError } from './errors.js'

export type { RelayConnectionState, RelayTransportParameters } from './relayTransportOptions.js'

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/**
 * A `Transport` over one authenticated WebSocket to a relay (one of a list, in a cluster: a disconnect moves it to
 * the next relay, with the same backoff, where it authenticates again and resumes). Requests survive disconnects: they are re-sent after
 * the next authentication (publishes are idempotent by envelope id), subscriptions resume after the last
 * received sequence number, and acks are re-sent. An AUTH refused with `RELAY_LOOKUP_LIMITED` is transient: the
 * relay closes the connection and the transport reconnects with backoff. Every SUBSCRIBE (v2) carries the topic's
 * preimage: the caller's `preimage(topic)`, or the device's own inbox; without one the topic is refused at once
 * (`TopicPreimageUnknownError`, nothing is sent). A SUBSCRIBE refused transiently (a transient request code) is
 * re-sent with a growing delay, a bounded number of times; a SUBSCRIBE refused for good (`RELAY_FORBIDDEN`,
 * `RELAY_TOPIC_MISMATCH`, or out of retries) ends that subscription and is reported to its listeners' `onError`. EXPIRED frames become {@link ExpiryNotice}s (`onExpired`), once per envelope id.
 *
 * @example
 * const transport = await RelayTransport.connect({ url, account, deviceId, sign: (m) => key.sign(m), expect })
 * const client = await Client.create({ account, home, rpc, transport })
 */
export class RelayTransport implements Transport {
  /** Every relay URL this transport may use, in the order it tries them. */
  readonly urls: readonly string[]
  #urlIndex = 0
  readonly #params: RelayTransportParameters
  readonly #pending = new Map<number, PendingRequest>()
  /** Requests sent on the current connection and not answered yet (at most REQUEST_WINDOW). */
  readonly #inFlight = new Set<number>()
  readonly #subscriptions = new Map<Hex, RelaySubscription>()
  readonly #acks = new Map<Hex, bigint>()
  readonly #ackListeners = new Set<(topic: Hex, acks: { deviceId: Hex; seq: bigint }[]) => void>()
  readonly #expired = new ExpiryNoticeBuffer()
  readonly #subscribeRetries = new Map<Hex, NodeJS.Timeout>()
  #socket: WebSocket | undefined
  #state: RelayConnectionState = 'connecting'
  #nextReqId = 1
  #attempt = 0
  #reconnects = 0
  #closed = false
  #timer: NodeJS.Timeout | undefined
  #authenticated = false
  readonly #ready = deferred<void>()

  private constructor(params: RelayTransportParameters) {
    this.urls = relayUrlList(params.url)
    this.#params = params
  }

  /** URL of the relay this transport is connected (or connecting) to. */
  get url(): string {
    return this.urls[this.#urlIndex] ?? ''
  }

  /**
   * Connects and authenticates. Resolves once the relay accepted this device; rejects with `RelayAuthError` if it
   * refuses (or announces another deployment than `expect`), or `RelayUnreachableError` if it cannot be reached
   * within `connectTimeoutMs`. After that first success the transport reconnects on its own, forever, until `close()`.
   *
   * @example const transport = await RelayTransport.connect({ url, account, deviceId, sign, expect })
   */
  static async connect(params: RelayTransportParameters): Promise<RelayTransport> {
    const transport = new RelayTransport(params)
    const url = transport.urls.join(', ') || '(no relay URL given)'
    const timeout = setTimeout(
      () => transport.#ready.reject(new RelayUnreachableError({ url })),
      transport.urls.length === 0 ? 0 : (params.connectTimeoutMs ?? 10_000),
    )
    transport.#open()
    try {
      await transport.#ready.promise
      return transport
    } catch (err) {
      await transport.close()
      throw err
    } finally {
      clearTimeout(timeout)
    }
  }

  /** Current connection state. */
  get state(): RelayConnectionState {
    return this.#state
  }

  /** Counters for progress output and the dashboard. */
  stats(): {
    state: RelayConnectionState
    /** The relay in use. */
    url: string
    pending: number
    inFlight: number
    subscriptions: number
    reconnects: number
  } {
    return {
      state: this.#state,
      url: this.url,
      pending: this.#pending.size,
      inFlight: this.#inFlight.size,
      subscriptions: this.#subscriptions.size,
      reconnects: this.#reconnects,
    }
  }

  async publish(envelope: Envelope): Promise<{ cursor: bigint }> {
    const frame = await this.#request({ type: 'publish', envelope: encodeEnvelope(envelope) })
    return { cursor: frame.type === 'ok' ? frame.value : 0n }
  }

  async pull({
    topic,
    after,
    limit = 1000,
    preimage,
  }: {
    topic: Hex
    after: bigint
    limit?: number
    preimage?: ((topic: Hex) => TopicPreimage) | undefined
  }): Promise<Delivery[]> {
    const sub = this.#subscription(topic, after, preimage)
    // The relay answers SUBSCRIBE after it has replayed everything stored: once `head` resolves, the buffer holds
    // the topic up to the relay's head (pruned envelopes excepted).
    await settledWithin(sub.head, this.#params.replayTimeoutMs ?? 5000)
    return sub.buffer.filter((d) => d.cursor > after).slice(0, limit)
  }

  subscribe({
    topics,
    after,
    preimage,
    onDelivery,
    onError,
  }: {
    topics: Hex[]
    after?: ((topic: Hex) => bigint) | undefined
    preimage?: ((topic: Hex) => TopicPreimage) | undefined
    onDelivery: (d: Delivery) => void
    onError?: ((topic: Hex, error: BaseError) => void) | undefined
  }): () => void {
    const entries = topics.flatMap((topic) => {
      const from = after?.(topic) ?? 0n
      let sub: RelaySubscription
      try {
        sub = this.#subscription(topic, from, preimage)
      } catch (err) {
        queueMicrotask(() => onError?.(topic, err as BaseError))
        return []
      }
      const listener = { after: from, onDelivery, onError }
      sub.listeners.add(listener)
      for (const d of sub.buffer) if (d.cursor > from) queueMicrotask(() => onDelivery(d))
      return [{ sub, listener }]
    })
    return () => {
      for (const { sub, listener } of entries) sub.listeners.delete(listener)
    }
  }

  async ack({ topic, cursor }: { topic: Hex; cursor: bigint }): Promise<void> {
    const sub = this.#subscriptions.get(topic)
    if (sub) acknowledge(sub, cursor)
    if ((this.#acks.get(topic) ?? 0n) >= cursor) return
    this.#acks.set(topic, cursor)
    if (this.#state === 'ready') this.#send({ type: 'ack', topic, seq: cursor })
  }

  async putKeyPackages({ envelopes }: { deviceId: Hex; envelopes: Envelope[] }): Promise<void> {
    await this.#request({ type: 'kp-put', envelopes: envelopes.map((e) => encodeEnvelope(e)) })
  }

  async takeKeyPackage({ deviceId }: { deviceId: Hex }): Promise<Envelope | undefined> {
    const frame = await this.#request({ type: 'kp-take', deviceId })
    return frame.type === 'kp' && frame.envelope ? decodeEnvelope(frame.envelope) : undefined
  }

  async countKeyPackages({ deviceId }: { deviceId: Hex }): Promise<number> {
    const frame = await this.#request({ type: 'kp-count', deviceId })
    return frame.type === 'ok' ? Number(frame.value) : 0
  }

  async submitLeaf({ topic, leaf }: { topic: Hex; leaf: Hex }): Promise<void> {
    await this.#request({ type: 'leaf', topic, leaf })
  }

  onAcks(listener: (topic: Hex, acks: { deviceId: Hex; seq: bigint }[]) => void): () => void {
    this.#ackListeners.add(listener)
    return () => this.#ackListeners.delete(listener)
  }

  onExpired(listener: (notice: ExpiryNotice) => void): () => void {
    return this.#expired.listen(listener)
  }

  /** Closes the connection for good and fails every pending request with `TransportClosedError`. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#timer)
    for (const timer of this.#subscribeRetries.values()) clearTimeout(timer)
    this.#subscribeRetries.clear()
    this.#setState('closed')
    for (const request of this.#pending.values()) request.reject(new TransportClosedError())
    this.#pending.clear()
    const socket = this.#socket
    this.#socket = undefined
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve())
        socket.close()
        setTimeout(() => {
          socket.terminate()
          resolve()
        }, 500).unref()
      })
    }
  }

  // ---- connection ---------------------------------------------------------------------------------------

  #open(): void {
    if (this.#closed || this.urls.length === 0) return
    this.#setState('connecting')
    const socket = new WebSocket(this.url, { perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 })
    socket.binaryType = 'nodebuffer'
    this.#socket = socket
    socket.on('message', (data: Buffer) =>
      this.#onFrame(socket, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
    )
    socket.on('close', () => this.#onClose(socket))
    socket.on('error', () => {
      // 'close' follows; reconnecting happens there.
    })
  }

  #onClose(socket: WebSocket): void {
    if (this.#socket !== socket) return
    this.#socket = undefined
    this.#inFlight.clear()
    if (this.#closed) return
    this.#setState('disconnected')
    this.#urlIndex = nextRelayIndex(this.#urlIndex, this.urls.length)
    const delay = reconnectDelayMs(this.#attempt++, this.#params.backoff ?? DEFAULT_BACKOFF)
    this.#timer = setTimeout(() => this.#open(), delay)
    this.#timer.unref?.()
  }

  #onFrame(socket: WebSocket, bytes: Uint8Array): void {
    let frame: RelayFrame
    try {
      frame = decodeRelayFrame(bytes)
    } catch {
      return // a relay speaking another version; ignore the frame rather than crash
    }
    switch (frame.type) {
      case 'challenge': {
        const { account, deviceId, sign, expect } = this.#params
        const answer = answerChallenge({ challenge: frame, expect, account, deviceId, sign })
        if (answer.type === 'refuse') {
          this.#onError(0, answer.code)
          return
        }
        this.#setState('authenticating')
        this.#sendOn(socket, answer.frame)
        return
      }
      case 'auth-ok':
        if (this.#authenticated) this.#reconnects++
        this.#authenticated = true
        this.#attempt = 0
        this.#setState('ready')
        this.#resume()
        this.#ready.resolve()
        return
      case 'ok':
      case 'kp': {
        const request = this.#pending.get(frame.reqId)
        if (!request) return
        this.#pending.delete(frame.reqId)
        this.#inFlight.delete(frame.reqId)
        this.#pump()
        if (request.frame.type === 'subscribe') {
          const sub = this.#subscriptions.get(request.frame.topic)
          if (sub) sub.refusals = 0
          sub?.setHead(frame.type === 'ok' ? frame.value : 0n)
        }
        request.resolve(frame)
        return
      }
      case 'error':
        this.#onError(frame.reqId, frame.code)
        return
      case 'deliver': {
        const sub = this.#subscriptions.get(frame.topic)
        if (sub) acceptDelivery(sub, { topic: frame.topic, seq: frame.seq, bytes: frame.envelope })
        return
      }
      case 'acks':
        for (const listener of this.#ackListeners) listener(frame.topic, frame.acks)
        return
      case 'expired': {
        const { topic, seq, id, expiredAt, recipients } = frame
        this.#expired.add({ topic, seq, id, expiredAt, recipients })
        return
      }
    }
  }

  #onError(reqId: number, code: string): void {
    const request = this.#pending.get(reqId)
    if (request?.frame.type === 'subscribe')
      return void this.#onSubscribeRefused(reqId, request.frame.topic, code)
    const outcome = relayErrorOutcome({ reqId, code, attempts: request?.attempts ?? 0 })
    if (outcome === 'end-session') {
      const err = new RelayAuthError({ wireCode: code, url: this.url })
      this.#ready.reject(err)
      for (const pending of this.#pending.values()) pending.reject(err)
      this.#pending.clear()
      void this.close()
      return
    }
    if (!request) return
    this.#inFlight.delete(reqId)
    // Retried patiently: nothing may be lost (the client also re-submits leaves that stay unanchored).
    if (outcome === 'retry') {
      // Leave it pending and send it again after a pause; the relay stays the judge of when it fits.
      request.attempts++
      request.notBefore = Date.now() + retryDelayMs(request.attempts)
      setTimeout(() => this.#pump(), request.notBefore - Date.now() + 1).unref()
      return
    }
    this.#pending.delete(reqId)
    this.#pump()
    request.reject(new RelayRequestError({ wireCode: code, request: request.frame.type }))
  }

  /**
   * A SUBSCRIBE was refused. A transient refusal is retried after a growing delay, at most `subscribeRetry.attempts`
   * times in a row; any other (or one too many) ends the subscription: `pull` stops waiting for it, and its
   * listeners hear the `RelayRequestError`.
   */
  #onSubscribeRefused(reqId: number, topic: Hex, code: string): void {
    this.#pending.delete(reqId)
    this.#inFlight.delete(reqId)
    const sub = this.#subscriptions.get(topic)
    if (!sub) return
    const bounds = this.#params.subscribeRetry ?? DEFAULT_SUBSCRIBE_RETRY
    const transient = relayErrorOutcome({ reqId, code, attempts: 0 }) === 'retry'
    if (transient && sub.refusals < bounds.attempts) {
      const timer = setTimeout(
        () => {
          this.#subscribeRetries.delete(topic)
          if (this.#state === 'ready' && this.#subscriptions.get(topic) === sub)
            this.#sendSubscribe(topic, sub)
        },
        reconnectDelayMs(sub.refusals++, bounds),
      )
      timer.unref?.()
      this.#subscribeRetries.set(topic, timer)
      return
    }
    this.#subscriptions.delete(topic)
    sub.setHead(sub.lastSeq)
    const err = new RelayRequestError({ wireCode: code, request: 'subscribe' })
    for (const listener of sub.listeners) listener.onError?.(topic, err)
  }

  /** After (re)authentication: resubscribe from the last seen cursors, re-send acks and pending requests. */
  #resume(): void {
    this.#inFlight.clear()
    for (const timer of this.#subscribeRetries.values()) clearTimeout(timer)
    this.#subscribeRetries.clear()
    for (const [topic, sub] of this.#subscriptions) this.#sendSubscribe(topic, sub)
    for (const [topic, seq] of this.#acks) this.#send({ type: 'ack', topic, seq })
    this.#pump()
  }

  /** Sends what the request window lets out now (see `requestsToSend`). */
  #pump(): void {
    if (this.#state !== 'ready') return
    for (const reqId of requestsToSend({
      pending: this.#pending,
      inFlight: this.#inFlight,
      now: Date.now(),
    })) {
      this.#inFlight.add(reqId)
      this.#send(this.#pending.get(reqId)!.frame)
    }
  }

  /** The subscription to `topic`, made (and sent when ready) if new; throws `TopicPreimageUnknownError`. */
  #subscription(
    topic: Hex,
    from: bigint,
    preimage: ((topic: Hex) => TopicPreimage) | undefined,
  ): RelaySubscription {
    const existing = this.#subscriptions.get(topic)
    if (existing) return existing
    const sub = newSubscription(from, subscriptionPreimage(topic, this.#params.deviceId, preimage))
    this.#subscriptions.set(topic, sub)
    if (this.#state === 'ready') this.#sendSubscribe(topic, sub)
    return sub
  }

  #sendSubscribe(topic: Hex, sub: RelaySubscription): void {
    resetHead(sub)
    const reqId = this.#nextReqId++
    const frame: ClientFrame = { type: 'subscribe', reqId, topic, after: sub.lastSeq, preimage: sub.preimage }
    this.#pending.set(reqId, { frame, resolve: () => undefined, reject: () => undefined, attempts: 0 })
    this.#send(frame)
  }

  #request(
    frame: DistributiveOmit<Exclude<ClientFrame, { type: 'auth' | 'ack' }>, 'reqId'>,
  ): Promise<RelayFrame> {
    if (this.#closed) return Promise.reject(new TransportClosedError())
    const reqId = this.#nextReqId++
    const full = { ...frame, reqId } as ClientFrame
    return new Promise((resolve, reject) => {
      this.#pending.set(reqId, { frame: full, resolve, reject, attempts: 0 })
      this.#pump()
    })
  }

  #send(frame: ClientFrame): void {
    if (this.#socket) this.#sendOn(this.#socket, frame)
  }

  #sendOn(socket: WebSocket, frame: ClientFrame): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(encodeClientFrame(frame))
  }

  #setState(state: RelayConnectionState): void {
    if (this.#state === state) return
    this.#state = state
    this.#params.onState?.(state)
  }
}
