/** A whole relay node on the dashboard: its server, its anchorer, its registry watcher, and its gauges. */
import type { Address, Hex } from 'viem'
import type { AnchorerEvents } from '../../anchor/events.js'
import { DEFAULT_FINALITY } from '../../protocol/messageState.js'
import type { RelayNode } from '../../relay/node.js'
import type { RelayServerEvents } from '../../relay/RelayServer.js'
import { attachAnchorer } from './anchorer.js'
import type { Collector, Gauges } from './collector.js'
import { attachIds } from './ids.js'
import { attachRelayServer } from './relay.js'
import { createRelayStateTracker } from './relayStates.js'
import { attachWatcher } from './watcher.js'

/**
 * Attaches the collectors of every part of `node` and samples its gauges once a second.
 *
 * @example const detach = attachRelayNode(collector, node)
 */
export function attachRelayNode(
  collector: Collector,
  node: RelayNode,
  { finality = DEFAULT_FINALITY }: { finality?: number } = {},
): () => void {
  collector.sample = () => relayGauges(node, collector.topics)
  const accountOf = (deviceId: Hex) => node.watcher.device(deviceId)?.account
  const offs = [
    attachRelayServer(collector, node.server, { accountOf }),
    attachWatcher(collector, node.watcher),
    ...(node.anchorer ? [attachAnchorer(collector, node.anchorer)] : []),
    attachRelayStates(collector, node, { accountOf, finality }),
    ...(node.ids ? [attachIds((e) => collector.hub.emit(e), node.ids)] : []),
  ]
  return () => {
    for (const off of offs) off()
  }
}

/** The queue depth each node's store last answered (the store is asynchronous; gauges are sampled each second). */
const lastQueueDepth = new WeakMap<RelayNode, number>()

/**
 * Gauges the relay node can answer right now: queue depth of recently active topics (as of the previous sample:
 * the store answers asynchronously), connections, pending leaves.
 *
 * @example const { connections } = relayGauges(node, collector.topics)
 */
export function relayGauges(node: RelayNode, topics: Iterable<Hex> = []): Gauges {
  Promise.all([...topics].map((topic) => node.store.depth(topic))).then(
    (depths) =>
      lastQueueDepth.set(
        node,
        depths.reduce((a, b) => a + b, 0),
      ),
    () => {},
  )
  return {
    queueDepth: lastQueueDepth.get(node) ?? 0,
    connections: node.server.connectionCount,
    pendingLeaves: node.anchorer?.stats().pending ?? 0,
  }
}

/**
 * Follows every message the relay accepted through its later states, from the node's own events (so messages of
 * clients the dashboard does not host, such as the CLI's, move on too): delivered from acks, anchored from the
 * anchorer's receipts, final from the chain's head (polled once a second while an anchor waits for depth).
 *
 * @example const detach = attachRelayStates(collector, node, { accountOf, finality: 2 })
 */
export function attachRelayStates(
  collector: Collector,
  node: Pick<RelayNode, 'server' | 'anchorer' | 'publicClient'>,
  { accountOf, finality }: { accountOf: (deviceId: Hex) => Address | undefined; finality: number },
): () => void {
  const { hub } = collector
  const tracker = createRelayStateTracker({ finality })
  const emitAll = (events: ReturnType<typeof tracker.head>) => {
    for (const e of events) hub.emit(e)
  }
  const onPublished = (e: RelayServerEvents['published'][0]) => {
    const from = e.kind === 'application' ? accountOf(e.publisher) : undefined
    if (from) tracker.published({ id: e.id, topic: e.topic, seq: e.seq, from, device: e.publisher })
  }
  const onAcked = (e: RelayServerEvents['acked'][0]) => {
    const account = accountOf(e.deviceId)
    if (account) emitAll(tracker.acked({ topic: e.topic, seq: e.seq, account }))
  }
  const onLeaf = (e: AnchorerEvents['leaf'][0]) => tracker.leaf(e)
  const onReceipt = (e: AnchorerEvents['receipt'][0]) =>
    emitAll(tracker.receipt({ leaf: e.receipt.leaf, blockNumber: e.receipt.blockNumber }))
  let polling = false
  const timer = setInterval(() => {
    if (polling || !tracker.waitingForDepth) return
    polling = true
    node.publicClient
      .getBlockNumber({ cacheTime: 0 })
      .then((head) => emitAll(tracker.head(head)))
      .catch(() => undefined)
      .finally(() => {
        polling = false
      })
  }, 1000)
  timer.unref()
  node.server.on('published', onPublished)
  node.server.on('acked', onAcked)
  node.anchorer?.on('leaf', onLeaf)
  node.anchorer?.on('receipt', onReceipt)
  return () => {
    clearInterval(timer)
    node.server.off('published', onPublished)
    node.server.off('acked', onAcked)
    node.anchorer?.off('leaf', onLeaf)
    node.anchorer?.off('receipt', onReceipt)
  }
}
