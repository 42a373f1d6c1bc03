/** Scale benchmark: relay memory and CPU with many concurrent authenticated connections, against bare `ws`. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { benchChain, type RegisteredDevice, registerDevices } from './lib/chain.js'
import { startWorker, type Worker } from './lib/proc.js'
import type { BenchContext, BenchOutput } from './lib/report.js'
import { benchRelayLimits } from './relay.js'

type Stats = {
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
  cpuUserUs: number
  cpuSystemUs: number
  connections: number
}
type Measured = {
  system: string
  connections: number
  rssPerConn: number
  heapPerConn: number
  connectMs: number
  cpuConnectMs: number
  idleCpuPercent: number
  rssMiB: number
}

const SWARM_WORKERS = 2

async function measure(
  mode: 'relay' | 'raw',
  count: number,
  ctx: { rpc: string; deployment: unknown; devices: RegisteredDevice[]; idleMs: number },
): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-scale-'))
  const workers: Worker[] = []
  try {
    const server = startWorker('server', ['--expose-gc'])
    workers.push(server)
    server.send({
      type: 'start',
      mode,
      rpc: ctx.rpc,
      deployment: ctx.deployment,
      dir,
      limits: benchRelayLimits,
    })
    const { url } = await server.next<{ url: string }>('ready')
    const stats = async () => {
      server.send({ type: 'stats', gc: true })
      return server.next<Stats>('stats')
    }
    const swarms = Array.from({ length: SWARM_WORKERS }, () => startWorker('swarm'))
    workers.push(...swarms)
    await Promise.all(swarms.map((s) => s.next('up')))
    // Let start-up garbage settle before the baseline reading.
    await new Promise((r) => setTimeout(r, 300))
    await stats()
    const before = await stats()
    const share = Math.ceil(count / SWARM_WORKERS)
    for (const [i, s] of swarms.entries())
      s.send({ type: 'connect', mode, url, count: Math.min(share, count - i * share), devices: ctx.devices })
    const done = await Promise.all(swarms.map((s) => s.next<{ ms: number }>('connected', 600_000)))
    const connectMs = Math.max(...done.map((d) => d.ms))
    const after = await stats()
    await new Promise((r) => setTimeout(r, ctx.idleMs))
    const idle = await stats()
    const cpu = (s: Stats) => (s.cpuUserUs + s.cpuSystemUs) / 1000
    const n = after.connections
    return {
      system: mode === 'relay' ? 'Sealpost relay' : 'bare ws server',
      connections: n,
      rssPerConn: (after.rss - before.rss) / n,
      heapPerConn: (after.heapUsed + after.external - before.heapUsed - before.external) / n,
      connectMs,
      cpuConnectMs: cpu(after) - cpu(before),
      idleCpuPercent: ((cpu(idle) - cpu(after)) / ctx.idleMs) * 100,
      rssMiB: after.rss / 2 ** 20,
    }
  } finally {
    for (const w of workers.reverse()) await w.stop().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs the scale benchmark. */
export async function runScale({ quick, log }: BenchContext): Promise<BenchOutput> {
  const counts = quick ? [300] : [1000, 5000]
  const chain = await benchChain()
  try {
    const devices = await registerDevices(chain, quick ? 4 : 20)
    const ctx = { rpc: chain.anvil.rpcUrl, deployment: chain.deployment, devices, idleMs: quick ? 300 : 3000 }
    const results: Measured[] = []
    for (const count of counts) {
      for (const mode of ['raw', 'relay'] as const) {
        const m = await measure(mode, count, ctx)
        log(
          `scale: ${m.system} ${m.connections} connections: ${(m.rssPerConn / 1024).toFixed(1)} KiB RSS/conn, ${(m.heapPerConn / 1024).toFixed(1)} KiB heap+external/conn, connect ${m.connectMs.toFixed(0)} ms, CPU ${m.cpuConnectMs.toFixed(0)} ms`,
        )
        results.push(m)
      }
    }
    const largest = counts[counts.length - 1]!
    const relay = results.find((r) => r.system === 'Sealpost relay' && r.connections === largest)!
    const raw = results.find((r) => r.system === 'bare ws server' && r.connections === largest)!
    return {
      title: 'Scale: relay memory and CPU per concurrent authenticated connection',
      baseline: {
        name: `bare ws server, ${raw.connections} idle connections`,
        value: raw.heapPerConn,
        unit: 'bytes/conn (JS heap + external)',
      },
      headline: {
        name: `Sealpost relay, ${relay.connections} authenticated connections`,
        value: relay.heapPerConn,
        unit: 'bytes/conn (JS heap + external)',
      },
      ratio: relay.heapPerConn / raw.heapPerConn,
      ratioMeaning:
        'relay bytes per connection divided by bare ws bytes per connection; the relay overhead factor, lower is leaner',
      columns: [
        'system',
        'connections',
        'heap+external bytes/conn',
        'RSS bytes/conn',
        'RSS MiB',
        'connect ms',
        'CPU ms to connect',
        'CPU ms/conn',
        'idle CPU %',
      ],
      rows: results.map((r) => ({
        system: r.system,
        connections: r.connections,
        'RSS bytes/conn': r.rssPerConn,
        'heap+external bytes/conn': r.heapPerConn,
        'RSS MiB': r.rssMiB,
        'connect ms': r.connectMs,
        'CPU ms to connect': r.cpuConnectMs,
        'CPU ms/conn': r.cpuConnectMs / r.connections,
        'idle CPU %': r.idleCpuPercent,
      })),
      targets: [
        {
          name: 'bytes per connection reported',
          target: 'report it',
          value: relay.heapPerConn,
          unit: 'bytes/conn (JS heap + external)',
          met: true,
        },
      ],
      notes: [
        `Relay (or bare ws server) in its own process; ${SWARM_WORKERS} client processes open the connections 100 at a time. Relay connections authenticate (challenge signed with a registered device's P-256 key, ${devices.length} devices registered on anvil and shared round-robin) and subscribe to one topic each. Bare ws connections only open.`,
        'Memory: V8 heap + external memory of the server process after a forced GC, before and after connecting, divided by the number of connections (the headline); the RSS delta is shown too but is noisy at small counts, as the allocator returns start-up memory meanwhile. Kernel socket buffers are in neither. CPU: user + system time of the server process while the connections were made, and over an idle window afterwards.',
        quick ? 'Quick run: 300 connections; the full run uses 1,000 and 5,000.' : '',
      ].filter((n) => n !== ''),
      series: {
        memory: results.map((r) => ({
          system: r.system,
          connections: r.connections,
          kib: r.heapPerConn / 1024,
        })),
      },
    }
  } finally {
    await chain.stop()
  }
}
