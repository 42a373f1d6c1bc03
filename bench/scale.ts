/** Scale benchmark: relay memory and CPU with many concurrent authenticated connections, against bare `ws`. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { topicOf } from '../src/protocol/topics.js'
import { benchChain, type RegisteredDevice, registerDevices } from './lib/chain.js'
import { startWorker, type Worker } from './lib/proc.js'
import type { BenchContext, BenchOutput } from './lib/report.js'
import { benchPreimage } from './lib/topics.js'
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
  fanout?: Fanout | undefined
}
/** One group message to every other connection on a shared topic, as the devices of one group follow its topic. */
type Fanout = {
  messages: number
  payloadBytes: number
  /** Median over the messages of the time from publishing until the last other connection has it. */
  allDeliveredMs: number
  deliveredPerMessage: number
  /** Relay only: envelope rows and payload bytes stored per message (a group message is stored once). */
  storedRows?: number | undefined
  storedBytes?: number | undefined
}

/** The preimage of the shared topic of the fan-out phase (a group the relay has not seen). */
const GROUP_PREIMAGE = benchPreimage(`0x${'6f'.repeat(32)}`)
const GROUP_TOPIC = topicOf(GROUP_PREIMAGE)
const FANOUT_MESSAGES = 5
const FANOUT_BYTES = 2048

const SWARM_WORKERS = 2

async function measure(
  mode: 'relay' | 'raw',
  count: number,
  ctx: { rpc: string; deployment: unknown; devices: RegisteredDevice[]; idleMs: number; fanout: boolean },
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
      s.send({
        type: 'connect',
        mode,
        url,
        count: Math.min(share, count - i * share),
        devices: ctx.devices,
        ...(ctx.fanout && { shared: GROUP_PREIMAGE }),
      })
    const done = await Promise.all(swarms.map((s) => s.next<{ ms: number }>('connected', 600_000)))
    const connectMs = Math.max(...done.map((d) => d.ms))
    const after = await stats()
    await new Promise((r) => setTimeout(r, ctx.idleMs))
    const idle = await stats()
    const cpu = (s: Stats) => (s.cpuUserUs + s.cpuSystemUs) / 1000
    const n = after.connections
    const fanout = ctx.fanout ? await measureFanout(mode, swarms, dir) : undefined
    return {
      fanout,
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

/**
 * Publishes `FANOUT_MESSAGES` messages of `FANOUT_BYTES` from the first swarm's first connection to the shared topic,
 * one after another, and measures for each the time until every other connection has it; for the relay, also the
 * envelope rows and bytes its store holds for the topic.
 */
async function measureFanout(mode: 'relay' | 'raw', swarms: Worker[], dir: string): Promise<Fanout> {
  const times: number[] = []
  let delivered = 0
  for (let i = 0; i < FANOUT_MESSAGES; i++) {
    const [publisher] = swarms as [Worker]
    publisher.send({ type: 'publish', mode, shared: GROUP_PREIMAGE, bytes: FANOUT_BYTES })
    const { key, sentAt } = await publisher.next<{ key: string; sentAt: number }>('published', 60_000)
    const expected = await expectedDeliveries(swarms)
    const end = Date.now() + 60_000
    for (;;) {
      const counts = await Promise.all(
        swarms.map(async (s) => {
          s.send({ type: 'arrivals', key })
          return s.next<{ count: number; last: number }>('arrivals')
        }),
      )
      const total = counts.reduce((sum, c) => sum + c.count, 0)
      if (total >= expected || Date.now() > end) {
        times.push(Math.max(...counts.map((c) => c.last)) - sentAt)
        delivered = total
        break
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  const stored = mode === 'relay' ? storedFor(dir, GROUP_TOPIC) : undefined
  return {
    messages: FANOUT_MESSAGES,
    payloadBytes: FANOUT_BYTES,
    allDeliveredMs: median(times),
    deliveredPerMessage: delivered,
    storedRows: stored && stored.rows / FANOUT_MESSAGES,
    storedBytes: stored && stored.bytes / FANOUT_MESSAGES,
  }
}

/** Every connection of every swarm but the publisher's one. */
async function expectedDeliveries(swarms: Worker[]): Promise<number> {
  let connections = 0
  for (const s of swarms) {
    s.send({ type: 'count' })
    connections += (await s.next<{ count: number }>('count')).count
  }
  return connections - 1
}

/** Envelope rows and payload bytes the relay's store holds for `topic` (its database under `dir`). */
function storedFor(dir: string, topic: Hex): { rows: number; bytes: number } {
  const file = readdirSync(dir, { recursive: true })
    .map(String)
    .find((f) => f.endsWith('relay.sqlite'))
  if (!file) return { rows: 0, bytes: 0 }
  const db = new Database(join(dir, file), { readonly: true })
  try {
    const row = db
      .prepare(
        'select count(*) as rows, coalesce(sum(length(bytes)), 0) as bytes from envelopes where topic = ?',
      )
      .get(Buffer.from(topic.slice(2), 'hex')) as { rows: number; bytes: number }
    return row
  } finally {
    db.close()
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
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
        const m = await measure(mode, count, { ...ctx, fanout: count === counts[0] })
        log(
          `scale: ${m.system} ${m.connections} connections: ${(m.rssPerConn / 1024).toFixed(1)} KiB RSS/conn, ${(m.heapPerConn / 1024).toFixed(1)} KiB heap+external/conn, connect ${m.connectMs.toFixed(0)} ms, CPU ${m.cpuConnectMs.toFixed(0)} ms`,
        )
        if (m.fanout)
          log(
            `scale: ${m.system} fan-out of a ${FANOUT_BYTES}-byte group message to ${m.fanout.deliveredPerMessage} other connections: all have it after ${m.fanout.allDeliveredMs.toFixed(1)} ms (median of ${FANOUT_MESSAGES})${m.fanout.storedRows === undefined ? '' : `; stored ${m.fanout.storedRows} row(s), ${m.fanout.storedBytes} bytes per message`}`,
          )
        results.push(m)
      }
    }
    const largest = counts[counts.length - 1]!
    const relay = results.find((r) => r.system === 'Sealpost relay' && r.connections === largest)!
    const raw = results.find((r) => r.system === 'bare ws server' && r.connections === largest)!
    const relayFanout = results.find((r) => r.system === 'Sealpost relay' && r.fanout)
    const rawFanout = results.find((r) => r.system === 'bare ws server' && r.fanout)
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
        'group message: all delivered ms',
        'stored rows/message',
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
        'group message: all delivered ms': r.fanout ? r.fanout.allDeliveredMs : '–',
        'stored rows/message': r.fanout?.storedRows ?? '–',
      })),
      targets: [
        {
          name: 'bytes per connection reported',
          target: 'report it',
          value: relay.heapPerConn,
          unit: 'bytes/conn (JS heap + external)',
          met: true,
        },
        {
          name: `a group message to ${relayFanout?.fanout?.deliveredPerMessage ?? 0} devices is stored once`,
          target: '1 row per message',
          value: relayFanout?.fanout?.storedRows ?? Number.NaN,
          unit: 'envelope rows per message',
          met: relayFanout?.fanout?.storedRows === 1,
        },
      ],
      notes: [
        `Relay (or bare ws server) in its own process; ${SWARM_WORKERS} client processes open the connections 100 at a time. Relay connections authenticate (challenge signed with a registered device's P-256 key, ${devices.length} devices registered on anvil and shared round-robin) and subscribe to one topic each. Bare ws connections only open.`,
        'Memory: V8 heap + external memory of the server process after a forced GC, before and after connecting, divided by the number of connections (the headline); the RSS delta is shown too but is noisy at small counts, as the allocator returns start-up memory meanwhile. Kernel socket buffers are in neither. CPU: user + system time of the server process while the connections were made, and over an idle window afterwards.',
        `Group fan-out (at ${counts[0]} connections, the same processes): every connection follows one shared topic, as the devices of one group follow its topic; one connection publishes ${FANOUT_MESSAGES} messages of ${FANOUT_BYTES} bytes one after another, and for each the time from publishing until the last other connection has it is taken (median). Relay: ${relayFanout?.fanout ? `${relayFanout.fanout.allDeliveredMs.toFixed(1)} ms to ${relayFanout.fanout.deliveredPerMessage} connections, ${relayFanout.fanout.storedRows} envelope row and ${relayFanout.fanout.storedBytes} payload bytes stored per message (plus one ack cursor per subscribed device, not per message)` : 'not measured'}; bare ws forwarder (no storage, no authentication, no ordering): ${rawFanout?.fanout ? `${rawFanout.fanout.allDeliveredMs.toFixed(1)} ms` : 'not measured'}. The MLS work of a 1,000-member group (encrypting once, each member decrypting) is in the groups benchmark; the delivery receipts members return are further group messages of this size class.`,
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
