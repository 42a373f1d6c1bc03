/** The shapes every relay part shares (hono's Context): connections, the server's indexes and its event types. */
import type { EventEmitter } from 'node:events'
import type { Address, Hex } from 'viem'
import type { WebSocket } from 'ws'
import type { DeviceRecord } from '../chain/registryWatcher.js'
import type { IdsEventSink } from '../ids/events.js'
import type { EnvelopeKind } from '../protocol/envelope.js'
import type { RelayErrorCode } from '../protocol/relayFrames.js'
import type { RelayAppendEntry, RelayStore } from '../store/relayStore.js'
import type { RelayInternalError } from './errors.js'
import type { RelayIdsPolicy } from './idsPolicy.js'
import type { RelayLimits } from './limits.js'

/**
 * Where the relay hands statement leaves for anchoring (the relay's `Anchorer` implements it).
 *
 * @example const sink: AnchorSink = { submit: ({ leaf, topic, submitter }) => anchorer.submit({ leaf, topic, submitter }) }
 */
export type AnchorSink = { submit(p: { leaf: Hex; topic: Hex; submitter: Hex }): void | Promise<void> }

/**
 * Events a `RelayServer` emits (for the dashboard and logs). Payloads never carry envelope contents.
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
  /** Retention deleted an envelope before `recipients` acked it; its publisher gets an EXPIRED frame. */
  expired: [{ topic: Hex; seq: bigint; id: Hex; publisher: Hex; recipients: Hex[] }]
  /** Internal failures (store, anchorer); only emitted when someone listens. */
  error: [RelayInternalError]
}

/**
 * The registry as the relay reads it: a `RegistryWatcher`, narrowed to what the relay uses.
 *
 * @example const registry: RelayRegistry = new RegistryWatcher({ publicClient, registry, fromBlock })
 */
export type RelayRegistry = {
  device(deviceId: Hex): DeviceRecord | undefined
  sync(): Promise<unknown>
  on(event: 'device-added' | 'device-revoked', listener: (record: DeviceRecord) => void): unknown
  off(event: 'device-added' | 'device-revoked', listener: (record: DeviceRecord) => void): unknown
}

/**
 * The part of a `ws` socket the relay uses (so parts can be exercised with a recording stand-in).
 *
 * @example const socket: RelaySocket = ws
 */
export type RelaySocket = Pick<
  WebSocket,
  'send' | 'close' | 'terminate' | 'ping' | 'readyState' | 'bufferedAmount' | 'OPEN'
>

/**
 * A token bucket: `tokens` as of `at` (unix ms). See `rateShaping.ts`.
 *
 * @example const bucket: TokenBucket = { tokens: limits.burst, at: now() }
 */
export type TokenBucket = { tokens: number; at: number }

/**
 * One connection's subscription to a topic: the last seq it was sent, and whether a replay is still running
 * (`generation` tells a re-SUBSCRIBE's replay from the one it replaced). While it replays, commits on the topic are
 * held (at most `REPLAY_PAGE`; `overflowed` past that, and the replay reads them from the store instead), so that
 * nothing committed during a replay's store reads is skipped when it goes live.
 *
 * @example const sub: Subscription = { cursor: 0n, replaying: true, generation: 0, held: [], overflowed: false }
 */
export type Subscription = {
  cursor: bigint
  replaying: boolean
  generation: number
  held: { seq: bigint; bytes: Uint8Array }[]
  overflowed: boolean
}

/**
 * The relay's state for one WebSocket connection.
 *
 * @example if (conn.deviceId === undefined) replyError(ctx, conn, reqId, 'RELAY_UNAUTHENTICATED')
 */
export type RelayConnection = {
  ws: RelaySocket
  ip: string
  /** The CHALLENGE sent on connect; cleared by the first AUTH, whatever its outcome. */
  challenge: Buffer | undefined
  expiresAt: number
  account: Address | undefined
  /** Set (lowercase) once AUTH succeeded. */
  deviceId: Hex | undefined
  /** Rate bucket before AUTH; afterwards the device's shared bucket is used. */
  bucket: TokenBucket | undefined
  subs: Map<Hex, Subscription> | undefined
  /** Failed or dropped: later frames are ignored. */
  closing: boolean
  /** Answered the last heartbeat ping. */
  alive: boolean
  /** Frames waiting for rate tokens, in arrival order. */
  throttled: { data: Buffer; isBinary: boolean }[]
  throttleTimer: NodeJS.Timeout | undefined
}

/**
 * An authenticated device: its open connections and the rate bucket they share.
 *
 * @example ctx.devices.get(deviceId)?.conns.size
 */
export type DeviceEntry = { conns: Set<RelayConnection>; bucket: TokenBucket }

/**
 * A publish waiting for the next group commit; `conn` is undefined for the relay's own envelopes.
 *
 * @example const p: PendingPublish = { conn, reqId, entry, kind: envelope.kind }
 */
export type PendingPublish = {
  conn: RelayConnection | undefined
  reqId: number
  entry: RelayAppendEntry
  kind: EnvelopeKind
  resolve?: (seq: bigint) => void
  reject?: (err: unknown) => void
}

/**
 * The publishes of the current event-loop turn (see `publishQueue.ts`).
 *
 * @example ctx.publishes.pending.length
 */
export type PublishQueueState = {
  pending: PendingPublish[]
  scheduled: boolean
  /** The group commit in flight (one at a time, so appends never reorder). */
  committing: Promise<void> | undefined
}

/**
 * Topics whose ack cursors moved since the last ACKS push (see `acks.ts`).
 *
 * @example ctx.acks.dirty.add(topic)
 */
export type AckPushState = { dirty: Set<Hex>; timer: NodeJS.Timeout | undefined }

/**
 * What every relay part gets: the server's configuration, its indexes and its event sink. The `RelayServer`
 * builds one and owns it; parts read and update it.
 *
 * @example handlers.publish(ctx, conn, frame)
 */
export type RelayContext = {
  readonly limits: Readonly<RelayLimits>
  readonly store: RelayStore
  readonly watcher: RelayRegistry
  readonly anchorer: AnchorSink | undefined
  readonly chainId: number
  readonly registry: Address
  /** Clock (unix ms) for challenges, rate limits and retention. */
  readonly now: () => number
  readonly events: EventEmitter<RelayServerEvents>
  /** Authenticated devices by id (lowercase). */
  readonly devices: Map<Hex, DeviceEntry>
  /** Live subscribers per topic. */
  readonly topics: Map<Hex, Map<RelayConnection, Subscription>>
  /** inbox topic → owning device id (lowercase), from the watcher's DeviceAdded events. */
  readonly inboxes: Map<Hex, Hex>
  /** Per remote IP: the budget of AUTH frames naming unknown devices (`registryLookupsPerIpPerMinute`). */
  readonly lookups: Map<string, TokenBucket>
  readonly publishes: PublishQueueState
  /**
   * Where committed envelopes go instead of straight to `deliver` (a relay cluster fans out what it reads back from
   * the shared stream, so envelopes of every relay reach local subscribers in one order; see `relay/cluster.ts`).
   */
  readonly fanout?:
    | ((e: { topic: Hex; seq: bigint; bytes: Uint8Array; from: RelayConnection | undefined }) => void)
    | undefined
  readonly acks: AckPushState
  /** Syncs the registry watcher; concurrent callers share one sync (see `registryLookup.ts`). */
  readonly syncRegistry: () => Promise<void>
  readonly isStopped: () => boolean
  /** The IDS's sink (`idsTap.ts`); absent, the relay builds no IDS events. */
  readonly ids?: IdsEventSink | undefined
  /** The IDS's response (`idsPolicy.ts`): quarantines and throttles; absent, nothing is refused for the IDS. */
  readonly idsPolicy?: RelayIdsPolicy | undefined
}
