/** Relay limits: the {@link RelayLimits} type, its defaults, and the validation of caller overrides. */
import { MAX_PAYLOAD_BYTES } from '../protocol/envelope.js'
import { RelayOptionsError } from './errors.js'

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
  /**
   * Stored (unpruned) envelopes per topic; beyond it PUBLISH gets RELAY_QUEUE_FULL. Default 100 000 (conversation
   * topics are kept for the whole retention period, not pruned by acks).
   */
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
  /**
   * How long envelopes are kept: a conversation envelope this long, an inbox envelope until its owner acked it or
   * this long. Expiry notices are kept as long. Default 30 days (docs/protocol.md §9.4).
   */
  retentionMs: number
  /** How often pruning runs. Default 60 s. */
  pruneIntervalMs: number
  /** ACKS frames for one topic are sent at most this often. Default 20 ms. */
  acksThrottleMs: number
  /** Ping interval; a connection that misses one pong is dropped. Default 30 s. */
  heartbeatMs: number
  /**
   * Registry syncs that AUTH (a device the relay does not know) triggers start at most this often; the frames
   * waiting meanwhile share the next one. Default 1 s.
   */
  registrySyncIntervalMs: number
  /**
   * Registry look-ups per remote IP and minute (a token bucket of this size, refilled over a minute): an AUTH naming
   * a device the relay does not know spends one (beyond it: ERROR RELAY_LOOKUP_LIMITED, then close). Default 10.
   */
  registryLookupsPerIpPerMinute: number
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
  maxQueueDepth: 100_000,
  maxConnectionsPerIp: 32,
  maxSubscriptionsPerConnection: 4096,
  maxKeyPackagesPerDevice: 256,
  maxBufferedBytes: 16 * 1024 * 1024,
  challengeTtlMs: 30_000,
  retentionMs: 30 * 24 * 60 * 60 * 1000,
  pruneIntervalMs: 60_000,
  acksThrottleMs: 20,
  heartbeatMs: 30_000,
  registrySyncIntervalMs: 1_000,
  registryLookupsPerIpPerMinute: 10,
})

/**
 * The defaults with the caller's overrides applied (`undefined` fields keep their default), frozen. Throws
 * {@link RelayOptionsError} on an unknown limit, a value that is not a positive number (`maxThrottledFrames` may be
 * 0), or a `maxPayloadBytes` above the envelope format's 1 MiB.
 *
 * @example resolveLimits({ burst: 40 }).burst // 40
 */
export function resolveLimits(limits: Partial<RelayLimits> | undefined): Readonly<RelayLimits> {
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
