/** Connection-scale benchmark: authenticated connections spread over 3 JetStream relays, memory per connection. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startNatsCluster } from '../src/cli/natsCluster.js'
import { benchChain, registerDevices, startJetStreamRelays } from './lib/chain.js'
import { startWorker, type Worker } from './lib/proc.js'
import type { BenchContext, BenchOutput } from './lib/report.js'
import { benchRelayLimits } from './relay.js'

type Stats = { rss: number; heapUsed: number; external: number; connections: number }
type Row = { system: string; connections: number; heapPerConn: number; rssPerConn: number; connectMs: number }

const RELAYS = 3

/** Connects `counts[i]` connections from swarm i to `urls[i]` and measures each server's memory growth (after GC). */
async function measure(
  system: string,
  servers: Worker[],
  urls: string[],
  counts: number[],
  devices: unknown,
  mode: 'relay' | 'raw',
): Promise<Row[]> {
  const stats = async (w: Worker) => {
    w.send({ type: 'stats', gc: true })
    return w.next<Stats>('stats')
  }
  const swarms = urls.map(() => startWorker('swarm'))
  try {
    await Promise.all(swarms.map((s) => s.next('up')))
    const before = await Promise.all(servers.map(stats))
    for (const [i, s] of swarms.entries())
      s.send({ type: 'connect', mode, url: urls[i], count: counts[i], devices })
    const done = await Promise.all(swarms.map((s) => s.next<{ ms: number }>('connected', 900_000)))
    const after = await Promise.all(servers.map(stats))
    return servers.map((_, i) => {
      const n = after[i]!.connections
      return {
        system: `${system} ${i + 1}`,
        connections: n,
        heapPerConn:
          (after[i]!.heapUsed + after[i]!.external - before[i]!.heapUsed - before[i]!.external) / n,
        rssPerConn: (after[i]!.rss - before[i]!.rss) / n,
        connectMs: done[i]!.ms,
      }
    })
  } finally {
    for (const s of swarms) await s.stop().catch(() => undefined)
  }
}

/** Runs the connection-scale benchmark (`npm run bench -- connections`; not part of `npm test`). */
export async function runConnections({ quick, log }: BenchContext): Promise<BenchOutput> {
  const total = quick ? 300 : 10_000
  const counts = Array.from(
    { length: RELAYS },
    (_, i) => Math.floor(total / RELAYS) + (i < total % RELAYS ? 1 : 0),
  )
  const [chain, cluster] = await Promise.all([benchChain(), startNatsCluster({ size: 3 })])
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-connections-'))
  const workers: Worker[] = []
  try {
    const devices = await registerDevices(chain, quick ? 4 : 20)
    // Baseline in the same run: a bare `ws` server holding one relay's share of idle connections.
    const raw = startWorker('server', ['--expose-gc'])
    workers.push(raw)
    raw.send({ type: 'start', mode: 'raw' })
    const rawUrl = (await raw.next<{ url: string }>('ready')).url
    const [bare] = await measure('bare ws server', [raw], [rawUrl], [counts[0]!], devices, 'raw')
    log(
      `connections: bare ws: ${bare!.connections} connections, ${(bare!.heapPerConn / 1024).toFixed(1)} KiB/conn`,
    )
    await raw.stop()
    const servers = Array.from({ length: RELAYS }, () => startWorker('server', ['--expose-gc']))
    workers.push(...servers)
    const urls = await startJetStreamRelays(servers, {
      chain,
      nats: cluster.urls,
      dir,
      limits: benchRelayLimits,
    })
    const relays = await measure('JetStream relay', servers, urls, counts, devices, 'relay')
    for (const r of relays)
      log(
        `connections: ${r.system}: ${r.connections} authenticated connections in ${(r.connectMs / 1000).toFixed(1)} s, ${(r.heapPerConn / 1024).toFixed(1)} KiB heap+external/conn, ${(r.rssPerConn / 1024).toFixed(1)} KiB RSS/conn`,
      )
    const connections = relays.reduce((a, r) => a + r.connections, 0)
    const heap = relays.reduce((a, r) => a + r.heapPerConn * r.connections, 0) / connections
    const rss = relays.reduce((a, r) => a + r.rssPerConn * r.connections, 0) / connections
    return {
      title: `Connection scale: ${total.toLocaleString('en')} authenticated connections over ${RELAYS} JetStream relays`,
      baseline: {
        name: `bare ws server, ${bare!.connections} idle connections`,
        value: bare!.heapPerConn,
        unit: 'bytes/conn (JS heap + external)',
      },
      headline: {
        name: `JetStream relays, ${connections} authenticated connections`,
        value: heap,
        unit: 'bytes/conn (JS heap + external)',
      },
      ratio: heap / bare!.heapPerConn,
      ratioMeaning: 'relay bytes per connection divided by bare ws bytes per connection; lower is leaner',
      columns: ['system', 'connections', 'heap+external bytes/conn', 'RSS bytes/conn', 'connect s'],
      rows: [bare!, ...relays].map((r) => ({
        system: r.system,
        connections: r.connections,
        'heap+external bytes/conn': r.heapPerConn,
        'RSS bytes/conn': r.rssPerConn,
        'connect s': r.connectMs / 1000,
      })),
      targets: [],
      notes: [
        `Processes: 3 \`nats-server\` nodes, anvil, ${RELAYS} relays (\`startRelayNode\` with \`nats\`), one connecting worker per relay; every connection authenticates (P-256 challenge signature, registered device), subscribes to a topic of its own and pulls it, then stays idle. Memory is measured per relay after forced GC, before and after connecting. RSS includes whatever the allocator keeps; heap+external is the relay's own JS state.`,
        `Mean over the relays: ${(heap / 1024).toFixed(1)} KiB heap+external and ${(rss / 1024).toFixed(1)} KiB RSS per connection.`,
      ],
    }
  } finally {
    for (const w of workers.reverse()) await w.stop().catch(() => undefined)
    await cluster.stop()
    await chain.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
