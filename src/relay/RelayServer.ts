/** The WebSocket relay: authenticates registered devices, stores and fans out envelopes per topic, holds key packages. */
import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Address, Hex } from 'viem'
import { type WebSocket, WebSocketServer } from 'ws'
import type { RegistryWatcher } from '../chain/registryWatcher.js'
import { type Envelope, encodeEnvelope } from '../protocol/envelope.js'
import { encodeRelayFrame } from '../protocol/relayFrames.js'
import type { RelayStore } from '../store/relayStore.js'
import { cancelAcksPush, createAckPushState } from './acks.js'
import { followRegistry, sendChallenge, sweepExpiredChallenges } from './auth.js'
import {
  CLOSE_TRY_AGAIN,
  createConnection,
  detachConnection,
  reportInternal,
  reportRejected,
} from './connection.js'
import type { AnchorSink, RelayConnection, RelayContext, RelayServerEvents } from './context.js'
import { dispatchFrame } from './dispatch.js'
import { RelayOptionsError, RelayPublishError, RelayStartError } from './errors.js'
import { type RelayLimits, resolveLimits } from './limits.js'
import { createPublishQueueState, enqueuePublish, flushPublishes, SYSTEM_PUBLISHER } from './publishQueue.js'
import { clearThrottled, shapeFrame } from './rateShaping.js'
import { sharedRegistrySync, sweepRegistryLookups } from './registryLookup.js'
import { runRetention } from './retention.js'
import { deliver } from './topics.js'

export type { AnchorSink, RelayServerEvents } from './context.js'
export { defaultRelayLimits, type RelayLimits } from './limits.js'
export { SYSTEM_PUBLISHER } from './publishQueue.js'

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
  /** Plain HTTP requests on the same port (the sponsor endpoint, `sponsorHttp.ts`); default: 404 for all. */
  http?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  /** Clock (unix ms) for challenges, rate limits and retention; default `Date.now`. */
  now?: (() => number) | undefined
  /**
   * Takes committed envelopes instead of delivering them at once (a relay cluster, `cluster.ts`, delivers what it
   * reads back from the shared stream through {@link RelayServer.deliverCommitted}).
   */
  fanout?: RelayContext['fanout']
  /** Where the relay's IDS events go (`idsTap.ts`, docs/ids.md §2); absent, none are built. */
  ids?: RelayContext['ids']
  /** The IDS's response: quarantines and throttles (`idsPolicy.ts`, docs/ids.md §4a); absent, none. */
  idsPolicy?: RelayContext['idsPolicy']
}

/**
 * The Sealpost relay (protocol: docs/protocol.md §9). Binary frames from `relayFrames.ts` over `ws`; envelopes
 * persist in a {@link RelayStore} before they are acknowledged; PUBLISH frames that arrive in one event-loop turn
 * (or while the previous commit is in flight) are committed in one append (group commit), then answered with OK and
 * fanned out with DELIVER.
 *
 * This class owns the WebSocket server, the connections and the timers; each frame type is handled by a part in
 * this folder (`dispatch.ts` maps types to handlers: `auth.ts`, `topics.ts`, `publishQueue.ts`, `acks.ts`,
 * `keyPackages.ts`, `leaf.ts`; `rateShaping.ts` paces them; `registryLookup.ts` budgets and shares registry syncs;
 * `retention.ts` prunes and sends EXPIRED).
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
  readonly #ctx: RelayContext
  readonly #port: number
  readonly #host: string
  readonly #conns = new Set<RelayConnection>()
  readonly #perIp = new Map<string, number>()
  readonly #unfollowRegistry: () => void
  readonly #handle = (conn: RelayConnection, data: Buffer, isBinary: boolean) =>
    dispatchFrame(this.#ctx, conn, data, isBinary)
  #timers: NodeJS.Timeout[] = []
  /** The retention pass running now, if any. */
  #pruning: Promise<number> | undefined
  readonly #http: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  #wss: WebSocketServer | undefined
  #httpServer: Server | undefined
  #url: string | undefined
  #stopped = false

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
    this.#port = options.port ?? 0
    this.#host = options.host ?? '127.0.0.1'
    this.#http = options.http
    const syncRegistry = sharedRegistrySync(options.watcher, {
      minIntervalMs: this.limits.registrySyncIntervalMs,
      isStopped: () => this.#stopped,
    })
    this.#ctx = {
      limits: this.limits,
      store: options.store,
      watcher: options.watcher,
      anchorer: options.anchorer,
      fanout: options.fanout,
      chainId: options.chainId,
      registry: options.registry,
      now: options.now ?? Date.now,
      events: this,
      devices: new Map(),
      topics: new Map(),
      inboxes: new Map(),
      lookups: new Map(),
      publishes: createPublishQueueState(),
      acks: createAckPushState(),
      syncRegistry,
      isStopped: () => this.#stopped,
      ids: options.ids,
      idsPolicy: options.idsPolicy,
    }
    this.#unfollowRegistry = followRegistry(this.#ctx)
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
      await this.#ctx.watcher.sync()
      const httpServer = createServer(
        this.#http ??
          ((_req, res) => {
            res.writeHead(404).end()
          }),
      )
      this.#httpServer = httpServer
      const wss = new WebSocketServer({
        server: httpServer,
        // Above maxFrameBytes, so an oversized frame reaches the handler and gets a clean ERROR.
        maxPayload: Math.max(2 * this.limits.maxFrameBytes, this.limits.maxFrameBytes + 64 * 1024),
        perMessageDeflate: false,
        clientTracking: false,
      })
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject)
        httpServer.listen(this.#port, this.#host, () => {
          httpServer.off('error', reject)
          resolve()
        })
      })
      httpServer.on('error', (err) => reportInternal(this.#ctx, 'listen', err))
      wss.on('error', (err) => reportInternal(this.#ctx, 'listen', err))
      wss.on('connection', (ws, req) => this.#onConnection(ws, req))
      this.#wss = wss
      const address = httpServer.address()
      if (address === null || typeof address === 'string') this.#url = address ?? ''
      else {
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
        this.#url = `ws://${host}:${address.port}`
      }
    } catch (err) {
      throw new RelayStartError({ cause: err })
    }
    const every = (ms: number, fn: () => void) => this.#timers.push(setInterval(fn, ms).unref())
    // A tick that finds the previous pass still running skips: passes never pile up.
    every(this.limits.pruneIntervalMs, () => {
      if (!this.#pruning) void this.prune()
    })
    every(Math.min(5_000, this.limits.challengeTtlMs), () => {
      sweepExpiredChallenges(this.#ctx, this.#conns)
      sweepRegistryLookups(this.#ctx)
    })
    every(this.limits.heartbeatMs, () => this.#heartbeat())
    return { url: this.#url }
  }

  /**
   * Commits pending publishes, closes every connection (WebSocket and HTTP, idle or not) and stops listening.
   * Leaves the store and watcher open.
   *
   * @example await server.stop()
   */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    await flushPublishes(this.#ctx)
    this.#unfollowRegistry()
    for (const t of this.#timers) clearInterval(t)
    this.#timers = []
    cancelAcksPush(this.#ctx)
    for (const conn of this.#conns) conn.ws.terminate()
    const wss = this.#wss
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()))
    // Idle keep-alive and in-flight HTTP requests (a sponsor call waiting for its block) must not hold the port.
    const httpServer = this.#httpServer
    if (httpServer?.listening) {
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()))
      httpServer.closeAllConnections()
      await closed
    }
    this.#conns.clear()
    this.#ctx.topics.clear()
    this.#ctx.devices.clear()
    this.#perIp.clear()
    this.#ctx.lookups.clear()
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
    const topic = envelope.topic.toLowerCase() as Hex
    const id = envelope.id.toLowerCase() as Hex
    return new Promise<bigint>((resolve, reject) => {
      enqueuePublish(this.#ctx, {
        conn: undefined,
        reqId: 0,
        entry: { topic, id, bytes, publisher: SYSTEM_PUBLISHER },
        kind: envelope.kind,
        resolve,
        reject,
      })
    })
  }

  /**
   * Hands a committed envelope to the live subscribers of its topic but `from` (the publishing connection), in
   * seq order, as the server does itself without a `fanout`. Call it in each topic's seq order.
   *
   * @example server.deliverCommitted({ topic, seq, bytes, from: undefined })
   */
  deliverCommitted(e: {
    topic: Hex
    seq: bigint
    bytes: Uint8Array
    from: RelayConnection | undefined
  }): void {
    if (!this.#stopped) deliver(this.#ctx, e)
  }

  /**
   * Whether a connection of this relay follows `topic` live.
   *
   * @example if (server.hasSubscribers(topic)) server.deliverCommitted(e)
   */
  hasSubscribers(topic: Hex): boolean {
    return this.#ctx.topics.has(topic)
  }

  /**
   * Runs retention now (it also runs every `limits.pruneIntervalMs`; rule: docs/protocol.md §9.4) and sends EXPIRED
   * to the connected publishers of envelopes that expired unacked; returns how many envelopes were removed.
   *
   * @example await server.prune() // 12
   */
  prune(): Promise<number> {
    // One pass at a time: a call during a pass runs after it (a pass over a large JetStream store can outlast the
    // interval, and overlapping passes each held the whole scan in memory).
    const previous = this.#pruning
    const pass = (async () => {
      if (previous) await previous
      return runRetention(this.#ctx)
    })()
    this.#pruning = pass
    const done = () => {
      if (this.#pruning === pass) this.#pruning = undefined
    }
    pass.then(done, done) // the caller sees a failure; this bookkeeping adds no unhandled rejection
    return pass
  }

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    const ip = req.socket.remoteAddress ?? 'unknown'
    if (this.listenerCount('connection') > 0) this.emit('connection', { ip })
    const count = this.#perIp.get(ip) ?? 0
    if (count >= this.limits.maxConnectionsPerIp || this.#stopped) {
      reportRejected(this.#ctx, 'RELAY_TOO_MANY_CONNECTIONS', undefined, 0)
      ws.send(encodeRelayFrame({ type: 'error', reqId: 0, code: 'RELAY_TOO_MANY_CONNECTIONS' }))
      ws.close(CLOSE_TRY_AGAIN, 'RELAY_TOO_MANY_CONNECTIONS')
      ws.on('error', () => {})
      return
    }
    this.#perIp.set(ip, count + 1)
    const conn = createConnection(this.#ctx, { ws, ip })
    this.#conns.add(conn)
    ws.on('message', (data, isBinary) => shapeFrame(this.#ctx, conn, data as Buffer, isBinary, this.#handle))
    ws.on('close', () => this.#onClose(conn))
    ws.on('error', () => ws.terminate())
    ws.on('pong', () => {
      conn.alive = true
    })
    sendChallenge(this.#ctx, conn)
  }

  #onClose(conn: RelayConnection): void {
    clearThrottled(conn)
    if (!this.#conns.delete(conn)) return
    const left = (this.#perIp.get(conn.ip) ?? 1) - 1
    if (left > 0) this.#perIp.set(conn.ip, left)
    else this.#perIp.delete(conn.ip)
    detachConnection(this.#ctx, conn)
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
}
