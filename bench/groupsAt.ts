/**
 * One size of the groups benchmark, for profiling: `npx tsx bench/groupsAt.ts [N=1000] [--runs K] [--profile create|join|add]`.
 * Sealpost's node:crypto provider with the X-Wing suite: creation (`createGroup` + one commit adding N − 1 members,
 * ratchet tree in the Welcome), one member's join from that Welcome, one more add, and a join from the Welcome of an
 * add after a removal (the tree then has parent nodes whose parent hashes the joiner verifies); each repeated (creation
 * 2 times, the others K times, default 5) and reported as min and median with the machine's load. `--profile PHASE` writes
 * a V8 CPU profile of that phase's first run to the temporary directory (open it in Chrome DevTools).
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ClientState, createCommit, createGroup, emptyPskIndex, joinGroup } from 'ts-mls'
import { createKeyPackage } from '../src/client/mls.js'
import { DEFAULT_CIPHERSUITE, getMlsCiphersuite } from '../src/crypto/mls.js'
import { createNodeCryptoProvider, sharedSealPool } from '../src/crypto/nodeCryptoProvider.js'
import { benchConfig, benchDevice } from './lib/sealpostPair.js'

const args = process.argv.slice(2)
const option = (name: string) => {
  const i = args.indexOf(name)
  return i >= 0 ? args.splice(i, 2)[1] : undefined
}
const profiled = option('--profile')
const runs = Number(option('--runs') ?? 5)
const n = Number(args[0] ?? 1000)

const impl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, createNodeCryptoProvider())
await sharedSealPool().start()
const all = []
for (let i = 0; i < n + 1; i++) {
  const device = await benchDevice(impl, i)
  const kp = await createKeyPackage({ identity: device.identity, mls: device.mls, impl })
  all.push({ device, publicPackage: kp.publicPackage, privatePackage: kp.privatePackage })
}
const { config } = benchConfig(all.map((m) => m.device))
const [creator, ...rest] = all
const joiners = rest.slice(0, n - 1)
const extra = rest[n - 1]!
const session = new Session()
session.connect()
const PHASES = ['create', 'join', 'add', 'join-after-remove'] as const
const times: Record<string, number[]> = Object.fromEntries(PHASES.map((p) => [p, []]))
const cpu: Record<string, number[]> = Object.fromEntries(PHASES.map((p) => [p, []]))

async function timed<T>(phase: string, run: number, last: number, f: () => Promise<T>): Promise<T> {
  const profiling = profiled === phase
  if (profiling && run === 0) {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 100 })
    await session.post('Profiler.start')
  }
  const c = process.cpuUsage()
  const t = performance.now()
  const result = await f()
  times[phase]!.push(performance.now() - t)
  const used = process.cpuUsage(c)
  cpu[phase]!.push((used.user + used.system) / 1000)
  if (profiling && run === last) {
    const { profile } = await session.post('Profiler.stop')
    const file = join(tmpdir(), `sealpost-groups-${phase}.cpuprofile`)
    writeFileSync(file, JSON.stringify(profile))
    console.log(`profile of ${phase} (${run + 1} runs): ${file}`)
  }
  return result
}

const load = [loadavg()[0]!]
let created: Awaited<ReturnType<typeof createCommit>> | undefined
for (let i = 0; i < 2; i++) {
  created = await timed('create', i, 1, async () => {
    const state: ClientState = await createGroup(
      new Uint8Array(randomBytes(32)),
      creator!.publicPackage,
      creator!.privatePackage,
      [],
      impl,
      config,
    )
    return createCommit(
      { state, cipherSuite: impl },
      {
        extraProposals: joiners.map((m) => ({
          proposalType: 'add' as const,
          add: { keyPackage: m.publicPackage },
        })),
        ratchetTreeExtension: true,
      },
    )
  })
}
const { welcome, newState } = created!
for (let i = 0; i < runs; i++)
  await timed('join', i, runs - 1, () =>
    joinGroup(
      welcome!,
      joiners[0]!.publicPackage,
      joiners[0]!.privatePackage,
      emptyPskIndex,
      impl,
      undefined,
      undefined,
      config,
    ),
  )
for (let i = 0; i < runs; i++)
  await timed('add', i, runs - 1, () =>
    createCommit(
      { state: newState, cipherSuite: impl },
      {
        extraProposals: [{ proposalType: 'add', add: { keyPackage: extra.publicPackage } }],
        ratchetTreeExtension: true,
      },
    ),
  )
// A removal commits an update path, so the tree gets non-blank parent nodes (parent hashes to verify): the Welcome
// of the next add is what a member invited after any removal joins from.
const removed = await createCommit(
  { state: newState, cipherSuite: impl },
  { extraProposals: [{ proposalType: 'remove', remove: { removed: 1 } }] },
)
const readded = await createCommit(
  { state: removed.newState, cipherSuite: impl },
  {
    extraProposals: [{ proposalType: 'add', add: { keyPackage: extra.publicPackage } }],
    ratchetTreeExtension: true,
  },
)
for (let i = 0; i < runs; i++)
  await timed('join-after-remove', i, runs - 1, () =>
    joinGroup(
      readded.welcome!,
      extra.publicPackage,
      extra.privatePackage,
      emptyPskIndex,
      impl,
      undefined,
      undefined,
      config,
    ),
  )
load.push(loadavg()[0]!)
const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return `min ${s[0]!.toFixed(1)}, median ${s[Math.floor(s.length / 2)]!.toFixed(1)}`
}
for (const phase of PHASES)
  console.log(
    `N = ${n} ${phase}: wall ms ${fmt(times[phase]!)}; CPU ms (all threads) ${fmt(cpu[phase]!)} (${times[phase]!.length} runs)`,
  )
console.log(`1-minute load average: ${load[0]!.toFixed(2)} at the start, ${load[1]!.toFixed(2)} at the end`)
// Workers are stopped before exiting: process.exit() with seal workers alive can hang in Node 20's worker teardown.
session.disconnect()
await sharedSealPool().close()
process.exit(0)
