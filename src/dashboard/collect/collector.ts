/** The collectors' shared state: acceptance times and publishers of envelopes, and the once-a-second metrics. */
import type { Address, Hex } from 'viem'
import type { MetricsEvent } from '../events.js'
import type { DashboardHub } from '../server.js'

/**
 * Gauges a source can answer at any moment (the relay node sets them).
 *
 * @example collector.sample = (): Gauges => ({ queueDepth: 0, connections: 1, pendingLeaves: 0 })
 */
export type Gauges = Pick<MetricsEvent, 'queueDepth' | 'connections' | 'pendingLeaves'>

/**
 * Shared state of the collectors (delivery latency needs the relay's acceptance time of each message).
 *
 * @example const collector: Collector = createCollector(hub)
 */
export type Collector = {
  hub: DashboardHub
  /** Envelope id → when the relay accepted it. Bounded. */
  acceptedAt: Map<string, number>
  /** Envelope id → the account of the device that published it (as the relay saw it). Bounded. */
  publishers: Map<string, Address>
  latencies: number[]
  published: number
  /** Topics with recent traffic (for the queue-depth metric). */
  topics: Set<Hex>
  /** Gauges sampled once a second; `attachRelayNode` sets it. */
  sample: () => Gauges
  stop(): void
}

/**
 * How many envelope ids the collector remembers (acceptance times, publishers).
 *
 * @example remember(collector.acceptedAt, id, Date.now(), REMEMBERED_ENVELOPES)
 */
export const REMEMBERED_ENVELOPES = 50_000

/**
 * Creates the collector and its once-a-second metrics timer.
 *
 * @example const collector = createCollector(hub); attachRelayNode(collector, node)
 */
export function createCollector(hub: DashboardHub): Collector {
  const collector: Collector = {
    hub,
    acceptedAt: new Map(),
    publishers: new Map(),
    latencies: [],
    published: 0,
    topics: new Set(),
    sample: () => ({ queueDepth: 0, connections: 0, pendingLeaves: 0 }),
    stop: () => clearInterval(timer),
  }
  const timer = setInterval(() => {
    hub.emit({
      type: 'metrics',
      at: Date.now(),
      throughput: collector.published,
      latencies: collector.latencies.splice(0, 10_000),
      ...collector.sample(),
    })
    collector.published = 0
  }, 1000)
  timer.unref()
  return collector
}

/**
 * Sets `key` in a map that keeps only the newest `limit` keys.
 *
 * @example remember(collector.publishers, id, account)
 */
export function remember<V>(map: Map<string, V>, key: string, value: V, limit = REMEMBERED_ENVELOPES): void {
  map.set(key, value)
  if (map.size > limit) map.delete(map.keys().next().value as string)
}

/**
 * Whether `value` is a 32-byte hex id (envelope ids and topics as clients report them).
 *
 * @example isBytes32(rejection.envelopeId)
 */
export function isBytes32(value: string): value is Hex {
  return /^0x[0-9a-f]{64}$/i.test(value)
}
