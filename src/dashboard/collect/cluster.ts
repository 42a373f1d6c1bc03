/** A relay cluster on the dashboard: each relay's and each NATS node's health and load, sampled once a second. */
import { connect as tcpConnect } from 'node:net'
import type { RelayNode } from '../../relay/node.js'
import type { ClusterEvent } from '../events.js'
import type { Collector } from './collector.js'
import { attachRelayNode, relayGauges } from './node.js'

/**
 * A NATS node the dashboard watches: its client URL and its monitoring endpoint (`nats-server -m`, or `http:` in its
 * configuration).
 *
 * @example const node: WatchedNatsNode = { name: 'n0', url: 'nats://127.0.0.1:4222', monitorUrl: 'http://127.0.0.1:8222' }
 */
export type WatchedNatsNode = { name: string; url: string; monitorUrl: string }

/** What one `/varz` + `/jsz` + `/healthz` round gave, before rates. */
type NatsSample = Omit<ClusterEvent['nats'][number], 'inMsgs' | 'outMsgs'> & {
  inTotal: number
  outTotal: number
}

/**
 * One NATS node's health and load from its monitoring endpoint; a node that does not answer within `timeoutMs` is
 * down (every figure 0).
 *
 * @example const sample = await sampleNatsNode({ name: 'n0', url, monitorUrl })
 */
export async function sampleNatsNode(node: WatchedNatsNode, timeoutMs = 1000): Promise<NatsSample> {
  const get = async (path: string) => {
    const res = await fetch(`${node.monitorUrl}${path}`, { signal: AbortSignal.timeout(timeoutMs) })
    return (await res.json()) as Record<string, unknown>
  }
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0)
  try {
    const [health, varz, jsz] = await Promise.all([get('/healthz'), get('/varz'), get('/jsz')])
    const meta = jsz.meta_cluster as { leader?: string } | undefined
    return {
      name: node.name,
      url: node.url,
      up: health.status === 'ok',
      leader: meta?.leader !== undefined && meta.leader === varz.server_name,
      connections: num(varz.connections),
      routes: num(varz.routes),
      inTotal: num(varz.in_msgs),
      outTotal: num(varz.out_msgs),
      cpu: num(varz.cpu),
      memBytes: num(varz.mem),
      jsMessages: num(jsz.messages),
      jsBytes: num(jsz.bytes),
    }
  } catch {
    return {
      name: node.name,
      url: node.url,
      up: false,
      leader: false,
      connections: 0,
      routes: 0,
      inTotal: 0,
      outTotal: 0,
      cpu: 0,
      memBytes: 0,
      jsMessages: 0,
      jsBytes: 0,
    }
  }
}

/**
 * Whether something accepts TCP connections at a `ws://host:port` URL within `timeoutMs` (a relay's liveness, also
 * for relays in other processes).
 *
 * @example await listening('ws://127.0.0.1:8787') // true
 */
export function listening(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port, protocol } = new URL(url)
  return new Promise((resolve) => {
    const socket = tcpConnect({
      host: hostname,
      port: Number(port || (protocol === 'wss:' ? 443 : 80)),
      timeout: timeoutMs,
    })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
    socket.once('timeout', () => done(false))
  })
}

/**
 * Attaches every relay node of a cluster (their events, their gauges summed into the metrics) and emits a `cluster`
 * event once a second with each relay's and each NATS node's health and load.
 *
 * @example const detach = attachCluster(collector, { relays: stack.relays, nats: stack.nats.nodes })
 */
export function attachCluster(
  collector: Collector,
  { relays, nats, intervalMs = 1000 }: { relays: RelayNode[]; nats: WatchedNatsNode[]; intervalMs?: number },
): () => void {
  const offs = relays.map((node) => attachRelayNode(collector, node))
  collector.sample = () => {
    const all = relays.map((node) => relayGauges(node, collector.topics))
    return {
      queueDepth: Math.max(0, ...all.map((g) => g.queueDepth)), // one cluster-wide store: every relay sees the same topics
      connections: all.reduce((a, g) => a + g.connections, 0),
      pendingLeaves: all.reduce((a, g) => a + g.pendingLeaves, 0),
    }
  }
  const published = relays.map(() => 0)
  const counters = relays.map((node, i) => {
    const on = () => {
      published[i] = (published[i] ?? 0) + 1
    }
    node.server.on('published', on)
    return () => node.server.off('published', on)
  })
  let previous: { at: number; samples: NatsSample[] } | undefined
  let sampling = false
  const timer = setInterval(() => {
    if (sampling) return
    sampling = true
    void sampleCluster()
      .then((event) => collector.hub.emit(event))
      .catch(() => undefined)
      .finally(() => {
        sampling = false
      })
  }, intervalMs)
  timer.unref()
  async function sampleCluster(): Promise<ClusterEvent> {
    const at = Date.now()
    const [ups, samples] = await Promise.all([
      Promise.all(relays.map((node) => listening(node.url))),
      Promise.all(nats.map((node) => sampleNatsNode(node))),
    ])
    const seconds = previous ? Math.max(0.001, (at - previous.at) / 1000) : 1
    const rate = (now: number, before: number | undefined) =>
      before === undefined ? 0 : Math.max(0, now - before) / seconds
    const event: ClusterEvent = {
      type: 'cluster',
      at,
      relays: relays.map((node, i) => ({
        name: `relay ${i + 1}`,
        url: node.url,
        up: ups[i] === true,
        connections: node.server.connectionCount,
        throughput: published[i] ?? 0,
        anchoring: node.clusterAnchor?.leading ?? node.anchorer !== undefined,
        pendingLeaves: (node.anchorer ?? node.clusterAnchor?.anchorer)?.stats().pending ?? 0,
      })),
      nats: samples.map(({ inTotal, outTotal, ...s }, i) => ({
        ...s,
        inMsgs: rate(inTotal, previous?.samples[i]?.inTotal),
        outMsgs: rate(outTotal, previous?.samples[i]?.outTotal),
      })),
    }
    published.fill(0)
    previous = { at, samples }
    return event
  }
  return () => {
    clearInterval(timer)
    for (const off of [...offs, ...counters]) off()
  }
}
