/** Groups benchmark: MLS group creation and one add at growing sizes with the X-Wing suite, per crypto provider. */
import { randomBytes } from 'node:crypto'
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
import { createKeyPackage } from '../src/client/mls.js'
import { DEFAULT_CIPHERSUITE, getMlsCiphersuite } from '../src/crypto/mls.js'
import { createNodeCryptoProvider } from '../src/crypto/nodeCryptoProvider.js'
import { type BenchContext, type BenchOutput, target } from './lib/report.js'
import { type BenchDevice, benchConfig, benchDevice } from './lib/sealpostPair.js'

/** XMTP's published reference: groups are capped at 250 members, and creating one of 250 takes 4.3 s. */
export const XMTP_REFERENCE = { members: 250, createSeconds: 4.3 }

type Member = { device: BenchDevice; publicPackage: KeyPackage; privatePackage: PrivateKeyPackage }
type Measured = {
  provider: string
  n: number
  createMs: number
  addMs: number
  joinMs: number
  keyPackagesMs: number
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

async function measure(provider: string, impl: CiphersuiteImpl, n: number): Promise<Measured> {
  const kpStart = performance.now()
  const all = await members(impl, n + 1, 0)
  const keyPackagesMs = performance.now() - kpStart
  const { config } = benchConfig(all.map((m) => m.device))
  const [creator, ...rest] = all
  const joiners = rest.slice(0, n - 1)
  const extra = rest[n - 1]!
  // Creation: the creator's group, then one commit adding the other n − 1 members (with the ratchet tree in the Welcome).
  const start = performance.now()
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
  return { provider, n, createMs, addMs, joinMs, keyPackagesMs }
}

/** Runs the groups benchmark. */
export async function runGroups({ quick, log }: BenchContext): Promise<BenchOutput> {
  const nodeImpl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, createNodeCryptoProvider())
  const defaultImpl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, defaultCryptoProvider) // ts-mls's own provider
  const sizes = quick ? [10, 100] : [10, 100, 250, 1000]
  const results: Measured[] = []
  const notes: string[] = []
  const run = async (provider: string, impl: CiphersuiteImpl, n: number) => {
    const m = await measure(provider, impl, n)
    log(
      `groups: ${provider} N=${n}: create ${m.createMs.toFixed(0)} ms, add ${m.addMs.toFixed(1)} ms, join ${m.joinMs.toFixed(0)} ms`,
    )
    results.push(m)
    return m
  }
  await run('node:crypto provider', nodeImpl, 2) // warm up
  results.length = 0
  for (const n of sizes) {
    await run('node:crypto provider', nodeImpl, n)
    await run('ts-mls default provider', defaultImpl, n)
  }
  const at = (provider: string, n: number) => results.find((r) => r.provider === provider && r.n === n)
  const largest = sizes[sizes.length - 1]!
  const node1k = at('node:crypto provider', 1000)
  if (!quick && node1k) {
    // 10,000 only if it should finish within the 10-minute budget. Key packages grow linearly; creation is
    // extrapolated from the growth seen between 250 and 1,000 members (superlinear in practice).
    const node250 = at('node:crypto provider', 250)
    const exponent = node250 ? Math.max(1, Math.log(node1k.createMs / node250.createMs) / Math.log(4)) : 2
    const projectedMs =
      node1k.createMs * 10 ** exponent + (node1k.keyPackagesMs + node1k.addMs + node1k.joinMs) * 10
    if (projectedMs < 600_000) await run('node:crypto provider', nodeImpl, 10_000)
    else
      notes.push(
        `N = 10,000 skipped: projected ${(projectedMs / 1000).toFixed(0)} s exceeds the 10-minute budget.`,
      )
  } else
    notes.push(
      quick ? 'Quick run: N = 10 and 100 only; N = 250, 1,000 and 10,000 run in the full benchmark.' : '',
    )
  const headline = at('node:crypto provider', largest)!
  const base = at('ts-mls default provider', largest)!
  const n250 = at('node:crypto provider', 250)
  const n10k = at('node:crypto provider', 10_000)
  const rows: Record<string, string | number | null>[] = results.map((r) => ({
    provider: r.provider,
    members: r.n,
    'create ms': r.createMs,
    'add one ms': r.addMs,
    'join ms': r.joinMs,
    'key packages ms (not in create)': r.keyPackagesMs,
  }))
  rows.push({
    provider: 'XMTP (published, outside reference)',
    members: XMTP_REFERENCE.members,
    'create ms': XMTP_REFERENCE.createSeconds * 1000,
    'add one ms': null,
    'join ms': null,
    'key packages ms (not in create)': null,
  })
  notes.push(
    'Creation = `createGroup` plus one commit that adds the other N − 1 members by their key packages and builds the Welcome (ratchet tree included), with every credential checked by the registry-backed authentication service (in-memory registry). Key packages are made beforehand, as each member publishes its own. "Add one" = a commit adding one member to the group of N, Welcome included. "Join" = one new member processing the Welcome.',
    `Outside reference: XMTP caps groups at ${XMTP_REFERENCE.members} members and reports ${XMTP_REFERENCE.createSeconds} s to create one of ${XMTP_REFERENCE.members} (their published figure, other hardware).${n250 ? ` Here N = 250 takes ${(n250.createMs / 1000).toFixed(2)} s, ${((XMTP_REFERENCE.createSeconds * 1000) / n250.createMs).toFixed(1)}x faster.` : ''}`,
    "Suite MLS_256_XWING_AES256GCM_SHA512_Ed25519 (X-Wing = ML-KEM-768 + X25519, from ts-mls's default provider in both cases).",
  )
  return {
    title: 'Groups: MLS group creation and one add (X-Wing suite)',
    baseline: { name: `ts-mls default provider, create N = ${largest}`, value: base.createMs, unit: 'ms' },
    headline: { name: `node:crypto provider, create N = ${largest}`, value: headline.createMs, unit: 'ms' },
    ratio: base.createMs / headline.createMs,
    ratioMeaning: 'default-provider creation time divided by node-provider creation time; above 1 is faster',
    columns: ['provider', 'members', 'create ms', 'add one ms', 'join ms', 'key packages ms (not in create)'],
    rows,
    targets: [
      target(
        'create a group of 1,000',
        node1k ? node1k.createMs / 1000 : null,
        '<=',
        1,
        's',
        node1k ? undefined : 'not run in quick mode',
      ),
      target(
        'one add into a group of 1,000',
        node1k ? node1k.addMs : null,
        '<=',
        50,
        'ms',
        node1k ? undefined : 'not run in quick mode',
      ),
      ...(n10k
        ? [target('create a group of 10,000 (informational)', n10k.createMs / 1000, '<=', 600, 's')]
        : []),
    ],
    notes: notes.filter((n) => n !== ''),
    series: {
      create: results.map((r) => ({ provider: r.provider, members: r.n, ms: r.createMs })),
      add: results.map((r) => ({ provider: r.provider, members: r.n, ms: r.addMs })),
    },
  }
}
