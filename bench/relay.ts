/** Relay benchmark: 1 KiB envelopes through the relay (SQLite persistence, authenticated devices) against raw `ws`. */

import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from 'viem'
import { benchChain, registerDevices } from './lib/chain.js'
import { startWorker, type Worker } from './lib/proc.js'
import { type BenchContext, type BenchOutput, percentile, target } from './lib/report.js'
import { benchPreimage } from './lib/topics.js'

/** Relay limits for a benchmark: no per-device rate shaping or per-IP cap, or they would be what is measured. */
export const benchRelayLimits = {
  ratePerSecond: 10_000_000,
  burst: 10_000_000,
  maxThrottledFrames: 1_000_000,
  maxQueueDepth: 10_000_000,
  maxConnectionsPerIp: 100_000,
  maxBufferedBytes: 256 * 1024 * 1024,
  // Every benchmark connection comes from one IP; only AUTH of a device the relay has not synced costs a look-up.
  registryLookupsPerIpPerMinute: 1_000_000,
}

type Done = { received: number; firstAt: number; lastAt: number; latencies: number[] }
type Sent = { startAt: number; endAt: number }
type Phase = {
  rate: number
  msgPerSec: number
  p50: number
  p99: number
  p999: number
  received: number
  /** CPU time (user + system) the server process spent per message in this phase, in µs. */
  serverCpuUs: number
}
type Stats = { cpuUserUs: number; cpuSystemUs: number }

async function phase(
  server: Worker,
  sender: Worker,
  receiver: Worker,
  count: number,
  rate: number,
): Promise<Phase> {
  receiver.send({ type: 'expect', count })
  await receiver.next('expecting')
  server.send({ type: 'stats' })
  const cpu0 = await server.next<Stats>('stats')
  const done = receiver.next<Done>('done', 300_000)
  sender.send({ type: 'go', count, rate })
  const sent = await sender.next<Sent>('sent', 300_000)
  const got = await done
  server.send({ type: 'stats' })
  const cpu1 = await server.next<Stats>('stats')
  const sorted = Float64Array.from(got.latencies).sort()
  return {
    rate,
    serverCpuUs:
      (cpu1.cpuUserUs + cpu1.cpuSystemUs - cpu0.cpuUserUs - cpu0.cpuSystemUs) / Math.max(1, got.received),
    msgPerSec: got.received / ((got.lastAt - sent.startAt) / 1000),
    p50: percentile(sorted as unknown as number[], 50),
    p99: percentile(sorted as unknown as number[], 99),
    p999: percentile(sorted as unknown as number[], 99.9),
    received: got.received,
  }
}

/** The round with the median throughput (rounds are few and odd in number; with two, the slower). */
function medianPhase(rounds: Phase[]): Phase {
  const sorted = [...rounds].sort((a, b) => a.msgPerSec - b.msgPerSec)
  return sorted[Math.floor((sorted.length - 1) / 2)]!
}

/** Runs the relay benchmark. */
export async function runRelay({ quick, log }: BenchContext): Promise<BenchOutput> {
  const maxCount = quick ? 3000 : 50_000
  const lowSeconds = quick ? 1 : 5
  const maxRounds = quick ? 1 : 3
  const chain = await benchChain()
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-relay-'))
  const workers: Worker[] = []
  const spawn = (name: string) => {
    const w = startWorker(name)
    workers.push(w)
    return w
  }
  try {
    const [alice, bob] = await registerDevices(chain, 2)
    const preimage = benchPreimage(bytesToHex(randomBytes(32)))
    type Run = 'raw' | 'relay' | 'ids'
    const runs: Run[] = ['raw', 'relay', 'ids']
    type Setup = { server: Worker; sender: Worker; receiver: Worker }
    const setups = {} as Record<Run, Setup>
    // `ids`: the same relay with its live IDS on (docs/ids.md §7), in a store of its own.
    for (const run of runs) {
      const mode = run === 'raw' ? 'raw' : 'relay'
      const server = spawn('server')
      server.send({
        type: 'start',
        mode,
        ids: run === 'ids',
        rpc: chain.anvil.rpcUrl,
        deployment: chain.deployment,
        dir: join(dir, run),
        limits: benchRelayLimits,
      })
      const { url } = await server.next<{ url: string }>('ready')
      const receiver = spawn('peer')
      const sender = spawn('peer')
      receiver.send({ type: 'start', mode, role: 'recv', url, device: bob, preimage })
      await receiver.next('ready')
      sender.send({ type: 'start', mode, role: 'send', url, device: alice, preimage })
      await sender.next('ready')
      await phase(server, sender, receiver, Math.min(2000, maxCount), 0) // warm up
      setups[run] = { server, sender, receiver }
    }
    // Full load in alternating rounds (raw, relay, ids, raw, …): a machine that gets busier or quieter mid-run
    // moves every system alike, and the median round of each is compared.
    const rounds: Record<Run, Phase[]> = { raw: [], relay: [], ids: [] }
    for (let round = 1; round <= maxRounds; round++)
      for (const run of runs) {
        const { server, sender, receiver } = setups[run]
        const max = await phase(server, sender, receiver, maxCount, 0)
        rounds[run].push(max)
        log(
          `relay: ${run}: round ${round}: ${Math.round(max.msgPerSec)} msg/s at full load (p50 ${max.p50.toFixed(1)} ms, server ${max.serverCpuUs.toFixed(1)} µs CPU/msg)`,
        )
      }
    const results = {} as Record<Run, { max: Phase; low: Phase; rounds: Phase[] }>
    for (const run of runs) {
      const { server, sender, receiver } = setups[run]
      const max = medianPhase(rounds[run])
      const rate = Math.max(10, Math.round(max.msgPerSec * 0.1))
      const low = await phase(server, sender, receiver, Math.max(200, Math.round(rate * lowSeconds)), rate)
      log(
        `relay: ${run}: at ${rate} msg/s (10%): p50 ${low.p50.toFixed(2)} ms, p99 ${low.p99.toFixed(2)} ms, p999 ${low.p999.toFixed(2)} ms`,
      )
      results[run] = { max, low, rounds: rounds[run] }
      for (const w of [sender, receiver, server]) await w.stop()
    }
    const { relay, raw, ids } = results
    const row = (name: string, p: Phase, load: string) => ({
      system: name,
      load,
      'msg/s': p.msgPerSec,
      'p50 ms': p.p50,
      'p99 ms': p.p99,
      'p999 ms': p.p999,
      'server CPU µs/msg': p.serverCpuUs,
      messages: p.received,
    })
    return {
      title: 'Relay: 1 KiB envelopes between processes',
      baseline: { name: 'raw ws forward between processes', value: raw.max.msgPerSec, unit: 'msg/s' },
      headline: { name: 'Sealpost relay with SQLite persistence', value: relay.max.msgPerSec, unit: 'msg/s' },
      ratio: relay.max.msgPerSec / raw.max.msgPerSec,
      ratioMeaning: 'relay throughput divided by raw ws throughput',
      columns: ['system', 'load', 'msg/s', 'p50 ms', 'p99 ms', 'p999 ms', 'server CPU µs/msg', 'messages'],
      rows: [
        row('raw ws', raw.max, 'max'),
        row('raw ws', raw.low, `10% (${raw.low.rate}/s)`),
        row('Sealpost relay', relay.max, 'max'),
        row('Sealpost relay', relay.low, `10% (${relay.low.rate}/s)`),
        row('Sealpost relay + live IDS', ids.max, 'max'),
        row('Sealpost relay + live IDS', ids.low, `10% (${ids.low.rate}/s)`),
      ],
      targets: [
        target('relay throughput vs raw ws', relay.max.msgPerSec / raw.max.msgPerSec, '>=', 0.3, 'x'),
        target('relay p99 at 10% of max load', relay.low.p99, '<=', 5, 'ms'),
        target(
          'throughput lost to the live IDS',
          1 - ids.max.msgPerSec / relay.max.msgPerSec,
          '<=',
          0.05,
          'x',
        ),
      ],
      notes: [
        'Sender, receiver and server are three separate Node processes on one machine. The relay is `startRelayNode` (WebSocket server, SQLite store with WAL, registry watcher on a real anvil); both devices are registered in KeyRegistry and authenticate with their P-256 keys. Each envelope is persisted before it is acked and delivered.',
        'The sender publishes through `RelayTransport` (at most 2,048 publishes outstanding; the transport keeps 256 in flight on the wire); the receiver subscribes and acks every 512 deliveries. Raw ws: the same topology, a server that forwards each 1,096-byte frame (envelope size) to the other connection, the sender respecting `bufferedAmount`.',
        `Full load ran in ${maxRounds} alternating round(s) (raw, relay, relay + IDS, then again), each system on its own idle-between-rounds processes; each "max" row is that system's median round. Every round, msg/s: ${runs.map((r) => `${r} ${results[r].rounds.map((p) => Math.round(p.msgPerSec)).join(' / ')}`).join('; ')}. The IDS's cost in server CPU at the median: ${(ids.max.serverCpuUs - relay.max.serverCpuUs).toFixed(1)} µs per message.`,
        'Server CPU µs/msg: user + system CPU time of the server process over the phase (the `stats` of process.cpuUsage() before and after), divided by the messages received; unlike msg/s it hardly depends on what else runs on the machine.',
        `Latency is measured from the sender stamping the payload to the receiver's handler (clocks shared: same machine). At full load latencies include queueing in the sender and are not a service figure. Relay limits raised for the benchmark: ${JSON.stringify(benchRelayLimits)}.`,
      ],
      series: {
        latency: [
          { system: 'raw ws', stat: 'p50', ms: raw.low.p50 },
          { system: 'raw ws', stat: 'p99', ms: raw.low.p99 },
          { system: 'raw ws', stat: 'p999', ms: raw.low.p999 },
          { system: 'Sealpost relay', stat: 'p50', ms: relay.low.p50 },
          { system: 'Sealpost relay', stat: 'p99', ms: relay.low.p99 },
          { system: 'Sealpost relay', stat: 'p999', ms: relay.low.p999 },
        ],
        throughput: [
          { label: 'raw ws', value: raw.max.msgPerSec },
          { label: 'Sealpost relay', value: relay.max.msgPerSec },
          { label: 'relay + live IDS', value: ids.max.msgPerSec },
        ],
      },
    }
  } finally {
    for (const w of workers) await w.stop().catch(() => undefined)
    await chain.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
