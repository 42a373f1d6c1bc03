/** Groups benchmark: MLS group creation, one add, one join (and at 10,000 one removal and the stored state) with X-Wing. */
import { randomBytes } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import {
  type CiphersuiteImpl,
  type ClientState,
  createCommit,
  createGroup,
  defaultCryptoProvider,
  emptyPskIndex,
  joinGroup,
  type KeyPackage,
  type PrivateKeyPackage,
} from 'ts-mls'
import { createKeyPackage, serializeGroupState } from '../src/client/mls.js'
import { DEFAULT_CIPHERSUITE, getMlsCiphersuite } from '../src/crypto/mls.js'
import { createNodeCryptoProvider, sharedSealPool } from '../src/crypto/nodeCryptoProvider.js'
import { type BenchContext, type BenchOutput, target } from './lib/report.js'
import { type BenchDevice, benchConfig, benchDevice } from './lib/sealpostPair.js'

/** XMTP's published reference: groups are capped at 250 members, and creating one of 250 takes 4.3 s. */
export const XMTP_REFERENCE = { members: 250, createSeconds: 4.3 }
/** Signal's published cap on group size. */
export const SIGNAL_CAP = 1001

type Member = { device: BenchDevice; publicPackage: KeyPackage; privatePackage: PrivateKeyPackage }
type Measured = {
  provider: string
  n: number
  createMs: number
  /** CPU time of the whole process (main thread and seal workers) during creation. */
  createCpuMs: number
  addMs: number
  joinMs: number
  keyPackagesMs: number
  /** Only at the largest size: removing one member, and encoding the creator's group state for storage. */
  removeMs?: number
  stateBytes?: number
  serializeMs?: number
}

async function members(impl: CiphersuiteImpl, count: number, offset: number): Promise<Member[]> {
  const out: Member[] = []
  for (let i = 0; i < count; i++) {
    const device = await benchDevice(impl, offset + i)
    const kp = await createKeyPackage({ identity: device.identity, mls: device.mls, impl })
    out.push({ device, publicPackage: kp.publicPackage, privatePackage: kp.privatePackage })
  }
  return out
}

async function measure(
  provider: string,
  impl: CiphersuiteImpl,
  n: number,
  extras = false,
): Promise<Measured> {
  const kpStart = performance.now()
  const all = await members(impl, n + 1, 0)
  const keyPackagesMs = performance.now() - kpStart
  const { config } = benchConfig(all.map((m) => m.device))
  const [creator, ...rest] = all
  const joiners = rest.slice(0, n - 1)
  const extra = rest[n - 1]!
  // Creation: the creator's group, then one commit adding the other n − 1 members (with the ratchet tree in the Welcome).
  const start = performance.now()
  const cpuStart = process.cpuUsage()
  let state: ClientState = await createGroup(
    new Uint8Array(randomBytes(32)),
    creator!.publicPackage,
    creator!.privatePackage,
    [],
    impl,
    config,
  )
  const commit =
    joiners.length > 0
      ? await createCommit(
          { state, cipherSuite: impl },
          {
            extraProposals: joiners.map((m) => ({
              proposalType: 'add' as const,
              add: { keyPackage: m.publicPackage },
            })),
            ratchetTreeExtension: true,
          },
        )
      : undefined
  const createMs = performance.now() - start
  const cpu = process.cpuUsage(cpuStart)
  const createCpuMs = (cpu.user + cpu.system) / 1000
  if (commit) state = commit.newState
  // One member joins from the Welcome (each member does this on its own device).
  let joinMs = 0
  if (commit?.welcome && joiners[0]) {
    const t = performance.now()
    await joinGroup(
      commit.welcome,
      joiners[0].publicPackage,
      joiners[0].privatePackage,
      emptyPskIndex,
      impl,
      undefined,
      undefined,
      config,
    )
    joinMs = performance.now() - t
  }
  // One add into the group of n.
  const t = performance.now()
  await createCommit(
    { state, cipherSuite: impl },
    {
      extraProposals: [{ proposalType: 'add', add: { keyPackage: extra.publicPackage } }],
      ratchetTreeExtension: true,
    },
  )
  const addMs = performance.now() - t
  const measured: Measured = { provider, n, createMs, createCpuMs, addMs, joinMs, keyPackagesMs }
  if (!extras) return measured
  // The creator stores its group state (what Sealpost's store writes after every commit), then removes a member.
  const s0 = performance.now()
  measured.stateBytes = serializeGroupState(state).length
  measured.serializeMs = performance.now() - s0
  const r0 = performance.now()
  await createCommit(
    { state, cipherSuite: impl },
    { extraProposals: [{ proposalType: 'remove', remove: { removed: 1 } }] },
  )
  measured.removeMs = performance.now() - r0
  return measured
}

const FAST = 'node:crypto provider (Sealpost)'
const BASE = 'ts-mls default provider'

/** Runs the groups benchmark. */
export async function runGroups({ quick, log }: BenchContext): Promise<BenchOutput> {
  const nodeImpl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, createNodeCryptoProvider())
  const defaultImpl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, defaultCryptoProvider) // ts-mls's own provider
  const pool = sharedSealPool()
  await pool.start() // a long-lived client starts its seal workers once; their start-up is not part of a commit
  const sizes = quick ? [10, 100] : [10, 100, 250, 1000]
  const results: Measured[] = []
  const notes: string[] = []
  const loadBefore = loadavg()
  const run = async (provider: string, impl: CiphersuiteImpl, n: number, extras = false) => {
    const m = await measure(provider, impl, n, extras)
    log(
      `groups: ${provider} N=${n}: create ${m.createMs.toFixed(0)} ms, add ${m.addMs.toFixed(1)} ms, join ${m.joinMs.toFixed(0)} ms${m.removeMs === undefined ? '' : `, remove ${m.removeMs.toFixed(0)} ms, state ${m.stateBytes} bytes in ${m.serializeMs?.toFixed(0)} ms`}`,
    )
    results.push(m)
    return m
  }
  await run(FAST, nodeImpl, 20) // warm up (JIT, key caches)
  results.length = 0
  for (const n of sizes) {
    await run(FAST, nodeImpl, n)
    await run(BASE, defaultImpl, n)
  }
  if (!quick) await run(FAST, nodeImpl, 10_000, true)
  const loadAfter = loadavg()
  const at = (provider: string, n: number) => results.find((r) => r.provider === provider && r.n === n)
  const largest = sizes[sizes.length - 1]!
  const headline = at(FAST, largest)!
  const base = at(BASE, largest)!
  const n1k = at(FAST, 1000)
  const n250 = at(FAST, 250)
  const n10k = at(FAST, 10_000)
  const rows: Record<string, string | number | null>[] = results.map((r) => ({
    provider: r.provider,
    members: r.n,
    'create ms': r.createMs,
    'create CPU ms (all threads)': r.createCpuMs,
    'add one ms': r.addMs,
    'join ms': r.joinMs,
    'remove one ms': r.removeMs ?? null,
    'state bytes': r.stateBytes ?? null,
    'key packages ms (not in create)': r.keyPackagesMs,
  }))
  const outside = (provider: string, members: number, createMs: number | null) => ({
    provider,
    members,
    'create ms': createMs,
    'create CPU ms (all threads)': null,
    'add one ms': null,
    'join ms': null,
    'remove one ms': null,
    'state bytes': null,
    'key packages ms (not in create)': null,
  })
  rows.push(
    outside(
      'XMTP (published: cap 250 members, 4.3 s to create 250)',
      XMTP_REFERENCE.members,
      XMTP_REFERENCE.createSeconds * 1000,
    ),
  )
  rows.push(outside('Signal (published cap)', SIGNAL_CAP, null))
  const notRun = quick ? 'not run in quick mode' : undefined
  notes.push(
    `Sealpost's path: the node:crypto provider (X-Wing HPKE with X25519 on node:crypto, the HPKE key-schedule context computed once per Welcome, the per-member seals spread over ${pool.size} worker thread(s), started before measuring; batches of Ed25519 verifications on libuv's thread pool) on ts-mls 1.6.4 with patches/ts-mls+1.6.4.patch (docs/ts-mls-upstream.md). The baseline is ts-mls's own default provider in the same run, on the same patched ts-mls (the patch removes quadratic work that slowed both).`,
    'Creation = `createGroup` plus one commit that adds the other N − 1 members by their key packages and builds the Welcome (ratchet tree included), with every credential checked by the registry-backed authentication service (in-memory registry). Key packages are made beforehand, as each member publishes its own. "Add one" = a commit adding one member to the group of N, Welcome included. "Join" = one new member processing the Welcome (its ratchet tree verified). At N = 10,000 also: the creator\'s group state encoded for storage (`serializeGroupState`) and a commit removing one member.',
    `Outside references (published figures, other hardware): XMTP caps groups at ${XMTP_REFERENCE.members} members and reports ${XMTP_REFERENCE.createSeconds} s to create one of ${XMTP_REFERENCE.members}${n250 ? `; here N = 250 takes ${(n250.createMs / 1000).toFixed(2)} s (${((XMTP_REFERENCE.createSeconds * 1000) / n250.createMs).toFixed(1)}x faster)` : ''}. Signal caps groups at ${SIGNAL_CAP.toLocaleString('en')} members${n10k ? `; here a group of 10,000 is created in ${(n10k.createMs / 1000).toFixed(1)} s` : ''}.`,
    `Machine load (1-minute load average on ${machineCores()} cores, other agents' work included): ${loadBefore[0]!.toFixed(1)} at the start, ${loadAfter[0]!.toFixed(1)} at the end; timings on a loaded machine are upper bounds. The CPU column (user + system time of every thread of the process during creation) depends much less on other processes' load than wall time (it still grows with cache and core contention): on an idle machine creation takes at least that divided by the cores in use.`,
    "Suite MLS_256_XWING_AES256GCM_SHA512_Ed25519 (X-Wing = ML-KEM-768 + X25519). A message to a group through a real relay is measured by the relay benchmark's group run, not here.",
  )
  if (quick)
    notes.push('Quick run: N = 10 and 100 only; N = 250, 1,000 and 10,000 run in the full benchmark.')
  return {
    title: 'Groups: MLS group creation, one add, one join (X-Wing suite)',
    baseline: { name: `ts-mls default provider, create N = ${largest}`, value: base.createMs, unit: 'ms' },
    headline: { name: `Sealpost, create N = ${largest}`, value: headline.createMs, unit: 'ms' },
    ratio: base.createMs / headline.createMs,
    ratioMeaning: "default-provider creation time divided by Sealpost's creation time; above 1 is faster",
    columns: [
      'provider',
      'members',
      'create ms',
      'create CPU ms (all threads)',
      'add one ms',
      'join ms',
      'remove one ms',
      'state bytes',
      'key packages ms (not in create)',
    ],
    rows,
    targets: [
      target('create a group of 1,000', n1k ? n1k.createMs / 1000 : null, '<=', 1, 's', notRun),
      target('one add into a group of 1,000', n1k ? n1k.addMs : null, '<=', 50, 'ms', notRun),
      target(
        'a member joins a group of 1,000 from the Welcome',
        n1k ? n1k.joinMs : null,
        '<=',
        100,
        'ms',
        notRun,
      ),
      target('create a group of 10,000', n10k ? n10k.createMs / 1000 : null, '<=', 10, 's', notRun),
      target(
        'the group state of 10,000 encodes for storage (its size)',
        n10k?.stateBytes ?? null,
        '>=',
        1,
        'bytes',
        notRun,
      ),
    ],
    notes,
    series: {
      create: results.map((r) => ({ provider: r.provider, members: r.n, ms: r.createMs })),
      add: results.map((r) => ({ provider: r.provider, members: r.n, ms: r.addMs })),
      join: results.map((r) => ({ provider: r.provider, members: r.n, ms: r.joinMs })),
    },
  }
}

function machineCores(): number {
  return cpus().length
}
