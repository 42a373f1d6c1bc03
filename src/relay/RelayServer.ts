/** The WebSocket relay: authenticates registered devices, stores and fans out envelopes per topic, holds key packages. */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { Address, Hex } from 'viem'
import { type WebSocket, WebSocketServer } from 'ws'
import type { RegistryWatcher } from '../chain/registryWatcher.js'
import { verifyP256 } from '../crypto/p256.js'
import {
  decodeEnvelope,
  type Envelope,
  type EnvelopeKind,
  encodeEnvelope,
  MAX_PAYLOAD_BYTES,
} from '../protocol/envelope.js'
import {
  type ClientFrame,
  decodeClientFrame,
  encodeRelayFrame,
  type RelayErrorCode,
  type RelayFrame,
  RelayFrameError,
  relayAuthMessage,
} from '../protocol/relayFrames.js'
import { inboxTopic } from '../protocol/topics.js'
import type { RelayAppendEntry, RelayStore } from '../store/relayStore.js'
import { RelayInternalError, RelayOptionsError, RelayPublishError, RelayStartError } from './errors.js'

/**
 * Where the relay hands statement leaves for anchoring (the relay's `Anchorer` implements it).
 *
 * @example const sink: AnchorSink = { submit: ({ leaf, topic, submitter }) => anchorer.submit({ leaf, topic, submitter }) }
 */
export type AnchorSink = { submit(p: { leaf: Hex; topic: Hex; submitter: Hex }): void | Promise<void> }

/**
 * Relay limits. Every field has a default ({@link defaultRelayLimits}).
 *
 * @example new RelayServer({ ...options, limits: { ratePerSecond: 20, burst: 40 } })
 */
export type RelayLimits = {
  /** Largest frame handled; larger ones get ERROR RELAY_FRAME_TOO_LARGE (the connection stays). Default 1 MiB + 1 KiB. */
  maxFrameBytes: number
  /** Largest envelope payload accepted by PUBLISH / KP_PUT. Default 1 MiB. */
  maxPayloadBytes: number
  /** Token-bucket refill rate of frames per device (per connection before AUTH). Default 200. */
  ratePerSecond: number
  /** Token-bucket size. Default 400. */
  burst: number
  /**
   * Frames over the rate wait in a per-connection queue (the socket is paused meanwhile, so TCP pushes back on the
   * sender) and are handled in order as tokens refill. Only frames beyond this queue get RELAY_RATE_LIMITED.
   * Shaping instead of dropping keeps a sender's envelopes in the order it sent them. Default 1024.
   */
  maxThrottledFrames: number
  /** Stored (unpruned) envelopes per topic; beyond it PUBLISH gets RELAY_QUEUE_FULL. Default 10 000. */
  maxQueueDepth: number
  /** Open connections per remote IP; beyond it: ERROR RELAY_TOO_MANY_CONNECTIONS, then close. Default 32. */
  maxConnectionsPerIp: number
  /** Topics one connection may subscribe to; beyond it SUBSCRIBE gets RELAY_RATE_LIMITED. Default 4096. */
  maxSubscriptionsPerConnection: number
  /** Key packages stored per device; a KP_PUT beyond it gets RELAY_QUEUE_FULL. Default 256. */
  maxKeyPackagesPerDevice: number
  /** Outgoing bytes buffered for one connection before it is dropped as a slow consumer. Default 16 MiB. */
  maxBufferedBytes: number
  /** Lifetime of a CHALLENGE. Default 30 s. */
  challengeTtlMs: number
  /** Envelopes kept at most this long, acked or not. Default 7 days. */
  retentionMs: number
  /** How often pruning runs. Default 60 s. */
  pruneIntervalMs: number
  /** ACKS frames for one topic are sent at most this often. Default 20 ms. */
  acksThrottleMs: number
  /** Ping interval; a connection that misses one pong is dropped. Default 30 s. */
  heartbeatMs: number
}

/**
 * The default {@link RelayLimits}.
 *
 * @example defaultRelayLimits.maxFrameBytes // 1049600
 */
export const defaultRelayLimits: Readonly<RelayLimits> = Object.freeze({
  maxFrameBytes: MAX_PAYLOAD_BYTES + 1024,
  maxPayloadBytes: MAX_PAYLOAD_BYTES,
  ratePerSecond: 200,
  burst: 400,
  maxThrottledFrames: 1024,
  maxQueueDepth: 10_000,
  maxConnectionsPerIp: 32,
  maxSubscriptionsPerConnection: 4096,
  maxKeyPackagesPerDevice: 256,
  maxBufferedBytes: 16 * 1024 * 1024,
  challengeTtlMs: 30_000,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  pruneIntervalMs: 60_000,
  acksThrottleMs: 20,
  heartbeatMs: 30_000,
})

/**
 * Options of {@link RelayServer}.
 *
 * @example
 * new RelayServer({ store, watcher, chainId: 31337, registry: deployment.keyRegistry, port: 8787 })
 */
export type RelayServerOptions = {
  store: RelayStore
  /** A watcher of the KeyRegistry that has not synced yet (the relay must see every DeviceAdded event). */
  watcher: RegistryWatcher
  chainId: number
  /** KeyRegistry address (sent in CHALLENGE so clients can check they talk to the right deployment). */
  registry: Address
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number | undefined
  /** Default '127.0.0.1'. */
  host?: string | undefined
  limits?: Partial<RelayLimits> | undefined
  anchorer?: AnchorSink | undefined
  /** Clock (unix ms) for challenges, rate limits and retention; default `Date.now`. */
  now?: (() => number) | undefined
}

/**
 * Events a {@link RelayServer} emits (for the dashboard and logs). Payloads never carry envelope contents.
 *
 * @example server.on('published', ({ topic, seq, bytes }) => console.log(topic, seq, bytes))
 */
export type RelayServerEvents = {
  connection: [{ ip: string }]
  auth: [{ account: Address; deviceId: Hex; ok: boolean; code?: RelayErrorCode }]
  published: [{ topic: Hex; seq: bigint; id: Hex; kind: EnvelopeKind; bytes: number; publisher: Hex }]
  delivered: [{ topic: Hex; seq: bigint; deviceId: Hex }]
  acked: [{ topic: Hex; seq: bigint; deviceId: Hex }]
  rejected: [{ code: RelayErrorCode; deviceId?: Hex; reqId: number }]
  /** Internal failures (store, anchorer); only emitted when someone listens. */
  error: [RelayInternalError]
}

/** The publisher recorded for envelopes the relay produces itself. @example SYSTEM_PUBLISHER // 0x000…000 */
export const SYSTEM_PUBLISHER: Hex = `0x${'00'.repeat(32)}`

const REPLAY_PAGE = 256
const FAIL_CLOSE_DELAY_MS = 100
const CLOSE_POLICY = 1008
const CLOSE_TRY_AGAIN = 1013
// Frame types that carry a reqId at offset 1 (everything but AUTH and ACK); used to answer oversized frames.
const HAS_REQ_ID = new Set([0x02, 0x03, 0x04, 0x06, 0x07, 0x08, 0x09])

type Bucket = { tokens: number; at: number }
type Sub = { cursor: bigint; replaying: boolean; generation: number }
type Conn = {
  ws: WebSocket
  ip: string
  challenge: Buffer | undefined
  expiresAt: number
  account: Address | undefined
  deviceId: Hex | undefined
  /** Rate bucket before AUTH; afterwards the device's shared bucket is used. */
  bucket: Bucket | undefined
  subs: Map<Hex, Sub> | undefined
  closing: boolean
  /** Answered the last heartbeat ping. */
  alive: boolean
  /** Frames waiting for rate tokens, in arrival order. */
  throttled: { data: Buffer; isBinary: boolean }[]
  throttleTimer: NodeJS.Timeout | undefined
}
type DeviceEntry = { conns: Set<Conn>; bucket: Bucket }
type Pending = {
  conn: Conn | undefined
  reqId: number
  entry: RelayAppendEntry
  kind: EnvelopeKind
  resolve?: (seq: bigint) => void
  reject?: (err: unknown) => void
}

/**
 * The Sealpost relay (protocol: docs/relay.md). Binary frames from `relayFrames.ts` over `ws`; envelopes persist in a
 * {@link RelayStore} before they are acknowledged; PUBLISH frames that arrive in one event-loop turn are committed in
 * one transaction (group commit), then answered with OK and fanned out with DELIVER.
 *
 * The caller owns `store` and `watcher`: `stop()` closes neither. `start()` syncs the watcher once; keep it
 * polling (`watcher.start()`) so that revocations disconnect devices promptly.
 *
 * @example
 * const store = SqliteRelayStore.open({ path: 'relay.db' })
 * const watcher = new RegistryWatcher({ publicClient, registry, fromBlock })
 * const server = new RelayServer({ store, watcher, chainId, registry })
 * const { url } = await server.start()
 * await watcher.start()
 * server.on('published', (e) => console.log(e.topic, e.seq))
 * // ...
 * await server.stop()
 */
export class RelayServer extends EventEmitter<RelayServerEvents> {
  readonly limits: Readonly<RelayLimits>
  readonly chainId: number
  readonly registry: Address
  readonly #store: RelayStore
  readonly #watcher: RegistryWatcher
  readonly #anchorer: AnchorSink | undefined
  readonly #now: () => number
  readonly #port: number
  readonly #host: string
  readonly #conns = new Set<Conn>()
  readonly #perIp = new Map<string, number>()
  readonly #devices = new Map<Hex, DeviceEntry>()
  readonly #topics = new Map<Hex, Map<Conn, Sub>>()
  /** inbox topic → owning device id (lowercase), from the watcher's DeviceAdded events. */
  readonly #inboxes = new Map<Hex, Hex>()
  readonly #dirtyAcks = new Set<Hex>()
  #batch: Pending[] = []
  #batchDepth = new Map<Hex, number>()
  #flushScheduled = false
  #acksTimer: NodeJS.Timeout | undefined
  #pruneTimer: NodeJS.Timeout | undefined
  #sweepTimer: NodeJS.Timeout | undefined
  #heartbeatTimer: NodeJS.Timeout | undefined
  #wss: WebSocketServer | undefined
  #url: string | undefined
  #stopped = false
  #nextSync: Promise<void> | undefined
  #runningSync: Promise<void> = Promise.resolve()
  readonly #onDeviceAdded = (record: { deviceId: Hex }) => {
    const id = record.deviceId.toLowerCase() as Hex
    this.#inboxes.set(inboxTopic(id).toLowerCase() as Hex, id)
  }
  readonly #onDeviceRevoked = (record: { deviceId: Hex }) => {
    const entry = this.#devices.get(record.deviceId.toLowerCase() as Hex)
    if (!entry) return
    for (const conn of [...entry.conns]) this.#fail(conn, 0, 'RELAY_DEVICE_REVOKED')
  }

  constructor(options: RelayServerOptions) {
    super()
    this.limits = resolveLimits(options.limits)
    if (!Number.isSafeInteger(options.chainId) || options.chainId <= 0)
      throw new RelayOptionsError({ option: 'chainId', reason: 'must be a positive integer' })
    if (options.watcher.syncedTo >= options.watcher.fromBlock)
      throw new RelayOptionsError({
        option: 'watcher',
        reason: 'must not have synced yet (the relay must see every DeviceAdded event)',
      })
    this.chainId = options.chainId
    this.registry = options.registry
    this.#store = options.store
    this.#watcher = options.watcher
    this.#anchorer = options.anchorer
    this.#now = options.now ?? Date.now
    this.#port = options.port ?? 0
    this.#host = options.host ?? '127.0.0.1'
    this.#watcher.on('device-added', this.#onDeviceAdded)
    this.#watcher.on('device-revoked', this.#onDeviceRevoked)
  }

  /** `ws://host:port` once started. @example new WebSocket(server.url!) */
  get url(): string | undefined {
    return this.#url
  }

  /** Open connections (authenticated or not). @example server.connectionCount // 3 */
  get connectionCount(): number {
    return this.#conns.size
  }

  /**
   * Syncs the watcher once, then listens. Resolves with the URL clients connect to.
   *
   * @example const { url } = await server.start() // 'ws://127.0.0.1:41234'
   */
  async start(): Promise<{ url: string }> {
    if (this.#url) return { url: this.#url }
    if (this.#stopped)
      throw new RelayOptionsError({ option: 'start', reason: 'a stopped server cannot restart' })
    try {
      await this.#watcher.sync()
      const wss = new WebSocketServer({
        port: this.#port,
        host: this.#host,
        // Above maxFrameBytes, so an oversized frame reaches the handler and gets a clean ERROR.
        maxPayload: Math.max(2 * this.limits.maxFrameBytes, this.limits.maxFrameBytes + 64 * 1024),
        perMessageDeflate: false,
        clientTracking: false,
      })
      await new Promise<void>((resolve, reject) => {
        wss.once('listening', resolve)
        wss.once('error', reject)
      })
      wss.on('error', (err) => this.#internal('listen', err))
      wss.on('connection', (ws, req) => this.#onConnection(ws, req))
      this.#wss = wss
      const address = wss.address()
      if (address === null || typeof address === 'string') this.#url = address ?? ''
      else {
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
        this.#url = `ws://${host}:${address.port}`
      }
    } catch (err) {
      throw new RelayStartError({ cause: err })
    }
    this.#pruneTimer = setInterval(() => this.prune(), this.limits.pruneIntervalMs)
    this.#pruneTimer.unref()
    this.#sweepTimer = setInterval(() => this.#sweep(), Math.min(5_000, this.limits.challengeTtlMs))
    this.#sweepTimer.unref()
    this.#heartbeatTimer = setInterval(() => this.#heartbeat(), this.limits.heartbeatMs)
    this.#heartbeatTimer.unref()
    return { url: this.#url }
  }

  /**
   * Commits pending publishes, closes every connection and stops listening. Leaves the store and watcher open.
   *
   * @example await server.stop()
   */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#flush()
    this.#watcher.off('device-added', this.#onDeviceAdded)
    this.#watcher.off('device-revoked', this.#onDeviceRevoked)
    for (const t of [this.#pruneTimer, this.#sweepTimer, this.#heartbeatTimer, this.#acksTimer])
      if (t) clearInterval(t)
    for (const conn of this.#conns) conn.ws.terminate()
    const wss = this.#wss
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()))
    this.#conns.clear()
    this.#topics.clear()
    this.#devices.clear()
    this.#perIp.clear()
  }

  /**
   * Persists and delivers an envelope the relay produced itself (e.g. an anchoring receipt), with the publisher
   * recorded as 32 zero bytes. Resolves with its seq once committed. Not subject to rate or queue limits.
   *
   * @example anchorer.onReceipt = (receipt, topic) => server.publishSystem(createEnvelope({ kind: 'receipt', topic, payload: encodeReceipt(receipt) }))
   */
  publishSystem(envelope: Envelope): Promise<bigint> {
    if (this.#stopped) return Promise.reject(new RelayPublishError({ reason: 'server stopped' }))
    let bytes: Uint8Array
    try {
      bytes = encodeEnvelope(envelope)
    } catch (err) {
      return Promise.reject(new RelayPublishError({ reason: 'envelope does not encode', cause: err }))
    }
    return new Promise<bigint>((resolve, reject) => {
      this.#enqueue({
        conn: undefined,
        reqId: 0,
        entry: { topic: lower(envelope.topic), id: lower(envelope.id), bytes, publisher: SYSTEM_PUBLISHER },
        kind: envelope.kind,
        resolve,
        reject,
      })
    })
  }

  /**
   * Runs retention now (it also runs every `limits.pruneIntervalMs`); returns how many envelopes were removed.
   *
   * @example server.prune() // 12
   */
  prune(): number {
    try {
      return this.#store.prune(this.#now(), this.limits.retentionMs)
    } catch (err) {
      this.#internal('prune', err)
      return 0
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Connections

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    const ip = req.socket.remoteAddress ?? 'unknown'
    if (this.listenerCount('connection') > 0) this.emit('connection', { ip })
    const count = this.#perIp.get(ip) ?? 0
    if (count >= this.limits.maxConnectionsPerIp || this.#stopped) {
      this.#rejected('RELAY_TOO_MANY_CONNECTIONS', undefined, 0)
      ws.send(encodeRelayFrame({ type: 'error', reqId: 0, code: 'RELAY_TOO_MANY_CONNECTIONS' }))
      ws.close(CLOSE_TRY_AGAIN, 'RELAY_TOO_MANY_CONNECTIONS')
      ws.on('error', () => {})
      return
    }
    this.#perIp.set(ip, count + 1)
    const challenge = randomBytes(32)
    const conn: Conn = {
      ws,
      ip,
      challenge,
      expiresAt: this.#now() + this.limits.challengeTtlMs,
      account: undefined,
      deviceId: undefined,
      bucket: { tokens: this.limits.burst, at: this.#now() },
      subs: undefined,
      closing: false,
      alive: true,
      throttled: [],
      throttleTimer: undefined,
    }
    this.#conns.add(conn)
    ws.on('message', (data, isBinary) => this.#onMessage(conn, data as Buffer, isBinary))
    ws.on('close', () => this.#onClose(conn))
    ws.on('error', () => ws.terminate())
    ws.on('pong', () => {
      conn.alive = true
    })
    this.#send(conn, {
      type: 'challenge',
      challenge: `0x${challenge.toString('hex')}`,
      expiresAt: conn.expiresAt,
      chainId: this.chainId,
      registry: this.registry,
    })
  }

  #onClose(conn: Conn): void {
    if (conn.throttleTimer) clearTimeout(conn.throttleTimer)
    conn.throttled.length = 0
    if (!this.#conns.delete(conn)) return
    const left = (this.#perIp.get(conn.ip) ?? 1) - 1
    if (left > 0) this.#perIp.set(conn.ip, left)
    else this.#perIp.delete(conn.ip)
    this.#detach(conn)
  }

  /** Removes the connection from the topic and device indexes (on close, and as soon as it is failed). */
  #detach(conn: Conn): void {
    if (conn.subs) {
      for (const topic of conn.subs.keys()) {
        const subs = this.#topics.get(topic)
        subs?.delete(conn)
        if (subs?.size === 0) this.#topics.delete(topic)
      }
      conn.subs = undefined
    }
    if (conn.deviceId) {
      const entry = this.#devices.get(conn.deviceId)
      entry?.conns.delete(conn)
      if (entry?.conns.size === 0) this.#devices.delete(conn.deviceId)
    }
  }

  /** Pings every connection; terminates those that did not answer the previous ping (half-open TCP). */
  #heartbeat(): void {
    for (const conn of this.#conns) {
      if (!conn.alive) {
        conn.ws.terminate()
        continue
      }
      conn.alive = false
      if (conn.ws.readyState === conn.ws.OPEN) conn.ws.ping()
    }
  }

  /** Closes unauthenticated connections whose challenge has expired (one timer for all connections). */
  #sweep(): void {
    const now = this.#now()
    for (const conn of this.#conns)
      if (!conn.deviceId && !conn.closing && conn.expiresAt < now) this.#fail(conn, 0, 'RELAY_AUTH_FAILED')
  }

  // -------------------------------------------------------------------------------------------------------
  // Frames

  #onMessage(conn: Conn, data: Buffer, isBinary: boolean): void {
    if (conn.closing) return
    // Shape, don't drop: once a connection is over its rate, its frames queue up (in order) until tokens refill.
    if (conn.throttled.length > 0 || !this.#hasToken(conn)) {
      if (conn.throttled.length >= this.limits.maxThrottledFrames)
        return void this.#refuse(conn, data, 'RELAY_RATE_LIMITED')
      conn.throttled.push({ data, isBinary })
      this.#pauseSocket(conn, true)
      this.#scheduleDrain(conn)
      return
    }
    this.#handleFrame(conn, data, isBinary)
  }

  #drain(conn: Conn): void {
    conn.throttleTimer = undefined
    while (conn.throttled.length > 0 && !conn.closing && this.#hasToken(conn)) {
      const next = conn.throttled.shift() as { data: Buffer; isBinary: boolean }
      this.#handleFrame(conn, next.data, next.isBinary)
    }
    if (conn.throttled.length > 0 && !conn.closing) this.#scheduleDrain(conn)
    else this.#pauseSocket(conn, false)
  }

  #scheduleDrain(conn: Conn): void {
    if (conn.throttleTimer) return
    conn.throttleTimer = setTimeout(
      () => this.#drain(conn),
      Math.max(1, Math.ceil(1000 / this.limits.ratePerSecond)),
    )
  }

  #pauseSocket(conn: Conn, pause: boolean): void {
    const socket = (conn.ws as unknown as { _socket?: { pause(): void; resume(): void } })._socket
    if (pause) socket?.pause()
    else socket?.resume()
  }

  #refuse(conn: Conn, data: Buffer, code: RelayErrorCode): void {
    const type = data[0]
    const reqId = type !== undefined && HAS_REQ_ID.has(type) && data.length >= 5 ? data.readUInt32BE(1) : 0
    this.#error(conn, reqId, code)
  }

  #handleFrame(conn: Conn, data: Buffer, isBinary: boolean): void {
    if (conn.closing) return
    if (!isBinary) return void this.#error(conn, 0, 'RELAY_FRAME_MALFORMED')
    if (data.length > this.limits.maxFrameBytes) {
      const type = data[0]
      const reqId = type !== undefined && HAS_REQ_ID.has(type) && data.length >= 5 ? data.readUInt32BE(1) : 0
      return void this.#error(conn, reqId, 'RELAY_FRAME_TOO_LARGE')
    }
    let frame: ClientFrame
    try {
      frame = decodeClientFrame(data)
    } catch (err) {
      if (!(err instanceof RelayFrameError)) this.#internal('decode', err)
      const type = data[0]
      const reqId = type !== undefined && HAS_REQ_ID.has(type) && data.length >= 5 ? data.readUInt32BE(1) : 0
      return void this.#error(conn, reqId, 'RELAY_FRAME_MALFORMED')
    }
    const reqId = 'reqId' in frame ? frame.reqId : 0
    this.#take(conn)
    try {
      if (frame.type === 'auth') {
        this.#auth(conn, frame).catch((err: unknown) => {
          this.#internal('auth', err)
          this.#fail(conn, 0, 'RELAY_INTERNAL')
        })
        return
      }
      if (!conn.deviceId) return void this.#error(conn, reqId, 'RELAY_UNAUTHENTICATED')
      switch (frame.type) {
        case 'publish':
          return void this.#publish(conn, frame.reqId, frame.envelope)
        case 'subscribe':
          return void this.#subscribe(conn, frame.reqId, lower(frame.topic), frame.after)
        case 'unsubscribe':
          return void this.#unsubscribe(conn, frame.reqId, lower(frame.topic))
        case 'ack':
          return void this.#ack(conn, lower(frame.topic), frame.seq)
        case 'kp-put':
          return void this.#kpPut(conn, frame.reqId, frame.envelopes)
        case 'kp-take': {
          const envelope = this.#store.takeKeyPackage(lower(frame.deviceId))
          return void this.#send(conn, { type: 'kp', reqId: frame.reqId, envelope })
        }
        case 'kp-count': {
          const value = BigInt(this.#store.countKeyPackages(lower(frame.deviceId)))
          return void this.#send(conn, { type: 'ok', reqId: frame.reqId, value })
        }
        case 'leaf':
          this.#leaf(conn, frame.reqId, lower(frame.topic), lower(frame.leaf)).catch((err: unknown) => {
            this.#internal('leaf', err)
          })
          return
      }
    } catch (err) {
      this.#internal(frame.type, err)
      this.#error(conn, reqId, 'RELAY_INTERNAL')
    }
  }

  async #auth(conn: Conn, frame: Extract<ClientFrame, { type: 'auth' }>): Promise<void> {
    const deviceId = lower(frame.deviceId)
    const fail = (code: RelayErrorCode) => {
      if (this.listenerCount('auth') > 0)
        this.emit('auth', { account: frame.account, deviceId, ok: false, code })
      this.#fail(conn, 0, code)
    }
    if (conn.deviceId) return void this.#error(conn, 0, 'RELAY_AUTH_FAILED') // already authenticated
    const challenge = conn.challenge
    conn.challenge = undefined // single use, whatever happens next
    if (!challenge || this.#now() > conn.expiresAt) return fail('RELAY_AUTH_FAILED')
    let record = this.#watcher.device(deviceId)
    if (!record) {
      try {
        await this.#syncWatcher()
      } catch (err) {
        this.#internal('auth: registry sync', err)
        return fail('RELAY_INTERNAL')
      }
      if (conn.closing || this.#stopped) return
      record = this.#watcher.device(deviceId)
    }
    if (!record || record.account.toLowerCase() !== frame.account.toLowerCase())
      return fail('RELAY_UNKNOWN_DEVICE')
    if (record.revokedAt !== undefined) return fail('RELAY_DEVICE_REVOKED')
    const message = relayAuthMessage({
      challenge: `0x${challenge.toString('hex')}`,
      account: frame.account,
      deviceId,
    })
    const publicKey = `0x${record.p256X.slice(2)}${record.p256Y.slice(2)}` as Hex
    if (!verifyP256({ publicKey, message, signature: frame.signature })) return fail('RELAY_AUTH_FAILED')

    conn.account = frame.account
    conn.deviceId = deviceId
    conn.bucket = undefined
    let entry = this.#devices.get(deviceId)
    if (!entry) {
      entry = { conns: new Set(), bucket: { tokens: this.limits.burst, at: this.#now() } }
      this.#devices.set(deviceId, entry)
    }
    entry.conns.add(conn)
    this.#send(conn, { type: 'auth-ok', account: frame.account, deviceId })
    if (this.listenerCount('auth') > 0) this.emit('auth', { account: frame.account, deviceId, ok: true })
  }

  /** One watcher sync shared by every AUTH that arrives before it starts; later ones queue the next. */
  #syncWatcher(): Promise<void> {
    if (this.#nextSync) return this.#nextSync
    const next = this.#runningSync.then(() => {
      this.#nextSync = undefined
      const run = this.#watcher.sync().then(() => {})
      this.#runningSync = run.catch(() => {})
      return run
    })
    this.#nextSync = next
    return next
  }

  #publish(conn: Conn, reqId: number, bytes: Uint8Array): void {
    let envelope: Envelope
    try {
      envelope = decodeEnvelope(bytes, { maxPayloadBytes: this.limits.maxPayloadBytes })
    } catch {
      return void this.#error(conn, reqId, 'RELAY_ENVELOPE_INVALID')
    }
    const topic = envelope.topic
    const depth = this.#store.depth(topic) + (this.#batchDepth.get(topic) ?? 0)
    if (depth >= this.limits.maxQueueDepth) return void this.#error(conn, reqId, 'RELAY_QUEUE_FULL')
    this.#enqueue({
      conn,
      reqId,
      // A copy: `bytes` is a view into the ws receive buffer.
      entry: { topic, id: envelope.id, bytes: new Uint8Array(bytes), publisher: conn.deviceId! },
      kind: envelope.kind,
    })
  }

  #enqueue(pending: Pending): void {
    this.#batch.push(pending)
    this.#batchDepth.set(pending.entry.topic, (this.#batchDepth.get(pending.entry.topic) ?? 0) + 1)
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(() => this.#flush())
    }
  }

  /** Group commit: one transaction for every PUBLISH of this event-loop turn, then OK and DELIVER. */
  #flush(): void {
    this.#flushScheduled = false
    const batch = this.#batch
    if (batch.length === 0) return
    this.#batch = []
    this.#batchDepth = new Map()
    let results: { seq: bigint; duplicate: boolean }[]
    try {
      results = this.#store.append(batch.map((p) => p.entry))
    } catch (err) {
      this.#internal('append', err)
      for (const p of batch) {
        if (p.conn) this.#error(p.conn, p.reqId, 'RELAY_INTERNAL')
        p.reject?.(new RelayInternalError({ operation: 'append', cause: err }))
      }
      return
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!
      const { seq, duplicate } = results[i]!
      if (p.conn) this.#send(p.conn, { type: 'ok', reqId: p.reqId, value: seq })
      p.resolve?.(seq)
      if (duplicate) continue // replayed frames are dropped: OK(existing seq), no second DELIVER
      const { topic, id, bytes, publisher } = p.entry
      if (this.listenerCount('published') > 0)
        this.emit('published', { topic, seq, id, kind: p.kind, bytes: bytes.length, publisher })
      this.#deliver(topic, seq, bytes, p.conn)
    }
  }

  #deliver(topic: Hex, seq: bigint, bytes: Uint8Array, from: Conn | undefined): void {
    const subs = this.#topics.get(topic)
    if (!subs) return
    let frame: Uint8Array | undefined
    const notify = this.listenerCount('delivered') > 0
    for (const [conn, sub] of subs) {
      if (conn === from || sub.replaying || seq <= sub.cursor) continue
      frame ??= encodeRelayFrame({ type: 'deliver', topic, seq, envelope: bytes })
      sub.cursor = seq
      this.#sendRaw(conn, frame)
      if (notify) this.emit('delivered', { topic, seq, deviceId: conn.deviceId! })
    }
  }

  #subscribe(conn: Conn, reqId: number, topic: Hex, after: bigint): void {
    const owner = this.#inboxes.get(topic)
    if (owner !== undefined && owner !== conn.deviceId)
      return void this.#error(conn, reqId, 'RELAY_FORBIDDEN')
    conn.subs ??= new Map()
    let sub = conn.subs.get(topic)
    if (!sub && conn.subs.size >= this.limits.maxSubscriptionsPerConnection)
      return void this.#error(conn, reqId, 'RELAY_RATE_LIMITED')
    this.#store.subscribe(topic, conn.deviceId!)
    if (after > 0n) this.#store.ack(topic, conn.deviceId!, after) // resuming after a cursor: processed up to it
    if (!sub) {
      sub = { cursor: after, replaying: true, generation: 0 }
      conn.subs.set(topic, sub)
      let subs = this.#topics.get(topic)
      if (!subs) {
        subs = new Map()
        this.#topics.set(topic, subs)
      }
      subs.set(conn, sub)
    } else {
      sub.cursor = after
      sub.replaying = true
      sub.generation++
    }
    this.#replay(conn, reqId, topic, sub, sub.generation)
  }

  /** Sends stored envelopes after `sub.cursor` page by page (yielding between pages), then OK(head) and goes live. */
  #replay(conn: Conn, reqId: number, topic: Hex, sub: Sub, generation: number): void {
    if (conn.closing || this.#stopped || conn.subs?.get(topic) !== sub) return
    if (sub.generation !== generation) return void this.#send(conn, { type: 'ok', reqId, value: sub.cursor })
    if (conn.ws.bufferedAmount > this.limits.maxBufferedBytes / 2) {
      setTimeout(() => this.#replay(conn, reqId, topic, sub, generation), 10)
      return
    }
    let page: { seq: bigint; bytes: Uint8Array }[]
    try {
      page = this.#store.readAfter(topic, sub.cursor, REPLAY_PAGE)
    } catch (err) {
      this.#internal('readAfter', err)
      sub.replaying = false
      return void this.#error(conn, reqId, 'RELAY_INTERNAL')
    }
    const notify = this.listenerCount('delivered') > 0
    for (const { seq, bytes } of page) {
      this.#send(conn, { type: 'deliver', topic, seq, envelope: bytes })
      sub.cursor = seq
      if (notify) this.emit('delivered', { topic, seq, deviceId: conn.deviceId! })
    }
    if (page.length === REPLAY_PAGE) {
      setImmediate(() => this.#replay(conn, reqId, topic, sub, generation))
      return
    }
    // Caught up: everything committed is in the store and was sent; pruned envelopes leave gaps, so skip to head.
    const head = this.#store.head(topic)
    if (head > sub.cursor) sub.cursor = head
    sub.replaying = false
    this.#send(conn, { type: 'ok', reqId, value: head })
  }

  #unsubscribe(conn: Conn, reqId: number, topic: Hex): void {
    if (conn.subs?.delete(topic)) {
      const subs = this.#topics.get(topic)
      subs?.delete(conn)
      if (subs?.size === 0) this.#topics.delete(topic)
    }
    this.#send(conn, { type: 'ok', reqId, value: 0n })
  }

  #ack(conn: Conn, topic: Hex, seq: bigint): void {
    const owner = this.#inboxes.get(topic)
    if (owner !== undefined && owner !== conn.deviceId) return void this.#error(conn, 0, 'RELAY_FORBIDDEN')
    this.#store.ack(topic, conn.deviceId!, seq)
    if (this.listenerCount('acked') > 0) this.emit('acked', { topic, seq, deviceId: conn.deviceId! })
    this.#dirtyAcks.add(topic)
    if (!this.#acksTimer) {
      this.#acksTimer = setTimeout(() => this.#pushAcks(), this.limits.acksThrottleMs)
      this.#acksTimer.unref()
    }
  }

  #pushAcks(): void {
    this.#acksTimer = undefined
    const topics = [...this.#dirtyAcks]
    this.#dirtyAcks.clear()
    for (const topic of topics) {
      const subs = this.#topics.get(topic)
      if (!subs || subs.size === 0) continue
      let frame: Uint8Array
      try {
        const acks = this.#store.acks(topic).slice(0, 0xffff)
        frame = encodeRelayFrame({ type: 'acks', topic, acks })
      } catch (err) {
        this.#internal('acks', err)
        continue
      }
      for (const conn of subs.keys()) this.#sendRaw(conn, frame)
    }
  }

  #kpPut(conn: Conn, reqId: number, envelopes: Uint8Array[]): void {
    const own = inboxTopic(conn.deviceId!)
    const copies: Uint8Array[] = []
    for (const bytes of envelopes) {
      let envelope: Envelope
      try {
        envelope = decodeEnvelope(bytes, { maxPayloadBytes: this.limits.maxPayloadBytes })
      } catch {
        return void this.#error(conn, reqId, 'RELAY_ENVELOPE_INVALID')
      }
      if (envelope.kind !== 'key-package') return void this.#error(conn, reqId, 'RELAY_ENVELOPE_INVALID')
      if (envelope.topic !== own) return void this.#error(conn, reqId, 'RELAY_FORBIDDEN')
      copies.push(new Uint8Array(bytes))
    }
    const have = this.#store.countKeyPackages(conn.deviceId!)
    if (have + copies.length > this.limits.maxKeyPackagesPerDevice)
      return void this.#error(conn, reqId, 'RELAY_QUEUE_FULL')
    const count = this.#store.putKeyPackages(conn.deviceId!, copies)
    this.#send(conn, { type: 'ok', reqId, value: BigInt(count) })
  }

  async #leaf(conn: Conn, reqId: number, topic: Hex, leaf: Hex): Promise<void> {
    if (!this.#anchorer) return void this.#error(conn, reqId, 'RELAY_INTERNAL')
    try {
      await this.#anchorer.submit({ leaf, topic, submitter: conn.deviceId! })
    } catch (err) {
      this.#internal('anchor submit', err)
      return void this.#error(conn, reqId, 'RELAY_INTERNAL')
    }
    this.#send(conn, { type: 'ok', reqId, value: 0n })
  }

  // -------------------------------------------------------------------------------------------------------
  // Helpers

  /** Whether the device's bucket (or the connection's before AUTH) holds a token, after refilling it. */
  #hasToken(conn: Conn): boolean {
    const bucket = conn.deviceId ? this.#devices.get(conn.deviceId)?.bucket : conn.bucket
    if (!bucket) return true
    const now = this.#now()
    const { ratePerSecond, burst } = this.limits
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * ratePerSecond) / 1000)
    bucket.at = now
    return bucket.tokens >= 1
  }

  /** Takes one token from the device's bucket (or the connection's before AUTH). */
  #take(conn: Conn): boolean {
    if (!this.#hasToken(conn)) return false
    const bucket = conn.deviceId ? this.#devices.get(conn.deviceId)?.bucket : conn.bucket
    if (bucket) bucket.tokens -= 1
    return true
  }

  #send(conn: Conn, frame: RelayFrame): void {
    this.#sendRaw(conn, encodeRelayFrame(frame))
  }

  #sendRaw(conn: Conn, bytes: Uint8Array): void {
    if (conn.ws.readyState !== conn.ws.OPEN) return
    if (conn.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      // A slow consumer: drop it rather than buffer without bound; it resumes from its cursor.
      conn.closing = true
      conn.ws.terminate()
      return
    }
    conn.ws.send(bytes, { binary: true })
  }

  #error(conn: Conn, reqId: number, code: RelayErrorCode): void {
    this.#rejected(code, conn.deviceId, reqId)
    this.#send(conn, { type: 'error', reqId, code })
  }

  /** ERROR, then close after a short delay (so the frame is delivered first); later frames are ignored. */
  #fail(conn: Conn, reqId: number, code: RelayErrorCode): void {
    if (conn.closing) return
    this.#error(conn, reqId, code)
    conn.closing = true
    this.#detach(conn)
    setTimeout(() => conn.ws.close(CLOSE_POLICY, code), FAIL_CLOSE_DELAY_MS).unref()
  }

  #rejected(code: RelayErrorCode, deviceId: Hex | undefined, reqId: number): void {
    if (this.listenerCount('rejected') === 0) return
    this.emit('rejected', deviceId === undefined ? { code, reqId } : { code, deviceId, reqId })
  }

  #internal(operation: string, err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', new RelayInternalError({ operation, cause: err }))
  }
}

function lower(hex: Hex): Hex {
  return hex.toLowerCase() as Hex
}

function resolveLimits(limits: Partial<RelayLimits> | undefined): Readonly<RelayLimits> {
  const out = { ...defaultRelayLimits }
  for (const [key, value] of Object.entries(limits ?? {}) as [keyof RelayLimits, unknown][]) {
    if (value === undefined) continue
    if (!(key in defaultRelayLimits))
      throw new RelayOptionsError({ option: `limits.${key}`, reason: 'unknown limit' })
    const min = key === 'maxThrottledFrames' ? 0 : Number.MIN_VALUE
    if (typeof value !== 'number' || !(value >= min) || Number.isNaN(value))
      throw new RelayOptionsError({
        option: `limits.${key}`,
        reason: min === 0 ? 'must be a non-negative number' : 'must be a positive number',
      })
    out[key] = value
  }
  if (out.maxPayloadBytes > MAX_PAYLOAD_BYTES)
    throw new RelayOptionsError({ option: 'limits.maxPayloadBytes', reason: `at most ${MAX_PAYLOAD_BYTES}` })
  return Object.freeze(out)
}
