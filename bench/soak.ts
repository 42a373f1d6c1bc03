/**
 * Soak: the JetStream relay cluster (3 NATS nodes, one R3 stream, 3 relays) under a steady load for minutes, sampled
 * every period: delivered rate, latency, memory of relays and NATS nodes after GC, CPU per envelope. Run only when
 * named: `npm run bench -- soak` (`SEALPOST_SOAK_MINUTES`, default 10; `SEALPOST_SOAK_RATE` envelopes/s, default 300;
 * `SEALPOST_SOAK_HEAP=DIR` writes a heap snapshot of each relay at the end).
 */

import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from 'viem'
import { startNatsCluster } from '../src/cli/natsCluster.js'
import { natsCpu, phase, relayCpu } from './cluster.js'
import { benchChain, registerDevices, startJetStreamRelays } from './lib/chain.js'
import { startWorker, type Worker } from './lib/proc.js'
import { type BenchContext, type BenchOutput, target } from './lib/report.js'
import { benchPreimage } from './lib/topics.js'
import { benchRelayLimits } from './relay.js'

type Memory = { heap: number; rss: number }

/** A relay worker's memory after two forced GCs (heap used + external, and RSS), in bytes. */
async function relayMemory(server: Worker): Promise<Memory> {
  server.send({ type: 'stats', gc: true })
  const s = await server.next<{ rss: number; heapUsed: number; external: number }>('stats')
  return { heap: s.heapUsed + s.external, rss: s.rss }
}

/** Resident memory of a process from /proc (Linux; 0 elsewhere), in bytes. */
function rssOf(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'))
    return Number(line?.split(/\s+/)[1] ?? 0) * 1024
  } catch {
    return 0
  }
}

const MiB = 1024 * 1024

/** Runs the soak. */
export async function runSoak({ quick, log }: BenchContext): Promise<BenchOutput> {
  const minutes = Number(process.env.SEALPOST_SOAK_MINUTES ?? (quick ? 0.5 : 10))
  const rate = Number(process.env.SEALPOST_SOAK_RATE ?? (quick ? 100 : 300))
  const periodS = quick ? 5 : 60
  const periods = Math.max(3, Math.round((minutes * 60) / periodS))
  const started = performance.now()
  const at = () => `${((performance.now() - started) / 60_000).toFixed(1)} min`
  const sender = startWorker('peer')
  const receiver = startWorker('peer')
  const servers = [0, 1, 2].map(() => startWorker('server', ['--expose-gc']))
  const [chain, cluster] = await Promise.all([benchChain(), startNatsCluster({ size: 3 })])
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-soak-'))
  try {
    const [alice, bob] = await registerDevices(chain, 2)
    const urls = await startJetStreamRelays(servers, {
      chain,
      nats: cluster.urls,
      dir,
      limits: benchRelayLimits,
    })
    // The sender on relay 1, the receiver on relay 3: every envelope crosses relays.
    const preimage = benchPreimage(bytesToHex(randomBytes(32)))
    receiver.send({ type: 'start', mode: 'relay', role: 'recv', url: urls[2], device: bob, preimage })
    sender.send({ type: 'start', mode: 'relay', role: 'send', url: urls[0], device: alice, preimage })
    await Promise.all([receiver.next('ready'), sender.next('ready')])
    await phase(sender, receiver, Math.min(500, rate * 2), 0) // warm up
    log(`soak: ${at()}: cluster up; ${periods} periods of ${periodS} s at ${rate} envelopes/s`)
    const rows: Record<string, number>[] = []
    let cpu = (await Promise.all(servers.map(relayCpu))).reduce((a, b) => a + b, 0)
    let nats = natsCpu(cluster)
    for (let p = 1; p <= periods; p++) {
      const measured = await phase(sender, receiver, rate * periodS, rate)
      const cpuNow = (await Promise.all(servers.map(relayCpu))).reduce((a, b) => a + b, 0)
      const natsNow = natsCpu(cluster)
      const memory = await Promise.all(servers.map(relayMemory))
      const row = {
        period: p,
        minutes: (p * periodS) / 60,
        'msg/s': measured.msgPerSec,
        'p50 ms': measured.p50,
        'p99 ms': measured.p99,
        'relay heap MiB': memory.reduce((a, m) => a + m.heap, 0) / MiB,
        'relay RSS MiB': memory.reduce((a, m) => a + m.rss, 0) / MiB,
        'NATS RSS MiB': cluster.nodes.reduce((a, n) => a + (n.pid === undefined ? 0 : rssOf(n.pid)), 0) / MiB,
        'relay CPU µs/msg': (cpuNow - cpu) / measured.received,
        'NATS CPU µs/msg': (natsNow - nats) / measured.received,
      }
      cpu = cpuNow
      nats = natsNow
      rows.push(row)
      log(
        `soak: ${at()}: period ${p}: ${Math.round(row['msg/s'])} msg/s, p99 ${row['p99 ms'].toFixed(1)} ms, relay heap ${row['relay heap MiB'].toFixed(1)} MiB, NATS RSS ${row['NATS RSS MiB'].toFixed(0)} MiB`,
      )
    }
    // SEALPOST_SOAK_HEAP=DIR: a heap snapshot of every relay at the end, to see what grew.
    const heapDir = process.env.SEALPOST_SOAK_HEAP
    if (heapDir)
      for (const [i, server] of servers.entries()) {
        server.send({ type: 'snapshot', path: join(heapDir, `relay-${i + 1}.heapsnapshot`) })
        log(`soak: heap snapshot ${(await server.next<{ file: string }>('snapshot', 300_000)).file}`)
      }
    const first = rows[0]!
    // Memory is compared from the second period on: the first still fills caches and connection state.
    const settled = rows[1]!
    const last = rows[rows.length - 1]!
    const growth = (k: string) => last[k]! / settled[k]! - 1
    return {
      title: `Soak: the JetStream relay cluster at ${rate} envelopes/s for ${((periods * periodS) / 60).toFixed(1)} min`,
      baseline: {
        name: 'delivered rate in the first period (same run)',
        value: first['msg/s']!,
        unit: 'msg/s',
      },
      headline: { name: 'delivered rate in the last period', value: last['msg/s']!, unit: 'msg/s' },
      ratio: last['msg/s']! / first['msg/s']!,
      ratioMeaning:
        'delivered rate of the last period divided by the first (1: the offered load was carried throughout)',
      columns: Object.keys(first),
      rows,
      targets: [
        target(
          'delivered rate held (last period vs first)',
          last['msg/s']! / first['msg/s']!,
          '>=',
          0.95,
          'x',
        ),
        target('p99 latency drift (last period vs first)', last['p99 ms']! / first['p99 ms']!, '<=', 2, 'x'),
        target(
          'relay heap after GC, growth from period 2 to the last',
          growth('relay heap MiB'),
          '<=',
          0.2,
          'x',
        ),
      ],
      notes: [
        `Processes: 3 \`nats-server\` nodes (one R3 stream), anvil, 3 relays (\`startRelayNode\` with \`nats\`), one sending and one receiving device, each its own process on the same 2 cores. The sender is on relay 1 and the receiver on relay 3; it offers ${rate} 1 KiB envelopes per second (about a third of one relay's maximum in the cluster benchmark) and acks every 512, so retention can prune what was delivered.`,
        'Each period sends its envelopes at the stated rate and waits until the receiver has every one of them (a lost envelope would stall the period and fail the run). Memory is sampled after the period, after two forced GCs in each relay: heap used + external, summed over the 3 relays; NATS RSS is the 3 nodes\u2019 VmRSS from /proc. CPU per envelope: process.cpuUsage of the relays and /proc utime+stime of the NATS nodes over the period.',
        `The targets are this benchmark's own acceptance criteria (the issue states none): the offered rate carried to the end, the p99 not doubling, and relay heap not growing by more than 20% once settled. NATS RSS grows with the stream it keeps (${((last['NATS RSS MiB']! - settled['NATS RSS MiB']!) / Math.max(1, periods - 2)).toFixed(1)} MiB per period here) until retention prunes delivered envelopes; it is reported, not a target.`,
      ],
      series: {
        memory: rows.flatMap((r) => [
          { minutes: r.minutes!, what: 'relay heap (3 relays)', mib: r['relay heap MiB']! },
          { minutes: r.minutes!, what: 'NATS RSS (3 nodes)', mib: r['NATS RSS MiB']! },
        ]),
        latency: rows.flatMap((r) => [
          { minutes: r.minutes!, stat: 'p50', ms: r['p50 ms']! },
          { minutes: r.minutes!, stat: 'p99', ms: r['p99 ms']! },
        ]),
      },
    }
  } finally {
    for (const w of [sender, receiver, ...servers]) await w.stop().catch(() => undefined)
    await cluster.stop()
    await chain.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
