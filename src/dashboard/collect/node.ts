/** A whole relay node on the dashboard: its server, its anchorer, its registry watcher, and its gauges. */
import type { Hex } from 'viem'
import type { RelayNode } from '../../relay/node.js'
import { attachAnchorer } from './anchorer.js'
import type { Collector, Gauges } from './collector.js'
import { attachRelayServer } from './relay.js'
import { attachWatcher } from './watcher.js'

/**
 * Attaches the collectors of every part of `node` and samples its gauges once a second.
 *
 * @example const detach = attachRelayNode(collector, node)
 */
export function attachRelayNode(collector: Collector, node: RelayNode): () => void {
  collector.sample = () => relayGauges(node, collector.topics)
  const offs = [
    attachRelayServer(collector, node.server, {
      accountOf: (deviceId) => node.watcher.device(deviceId)?.account,
    }),
    attachWatcher(collector, node.watcher),
    ...(node.anchorer ? [attachAnchorer(collector, node.anchorer)] : []),
  ]
  return () => {
    for (const off of offs) off()
  }
}

/**
 * Gauges the relay node can answer right now: queue depth of recently active topics, connections, pending leaves.
 *
 * @example const { connections } = relayGauges(node, collector.topics)
 */
export function relayGauges(node: RelayNode, topics: Iterable<Hex> = []): Gauges {
  let queueDepth = 0
  for (const topic of topics) queueDepth += node.store.depth(topic)
  return {
    queueDepth,
    connections: node.server.connectionCount,
    pendingLeaves: node.anchorer?.stats().pending ?? 0,
  }
}
