/**
 * Time from an anchor on chain A to its mirror on chain B with 1 s blocks on both, the operator roles running as `up
 * --chains 2` runs them (three validators, 2-of-3, the keeper and the relayer each on its own 250 ms loop), split
 * into its stages, for 1 and 2 validator confirmations; against the anchor's own inclusion on A in the same run.
 */
import { type Hex, pad, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { anchorRoot } from '../src/chain/messageAnchor.js'
import type { SignedCheckpoint } from '../src/crosschain/checkpoint.js'
import { type CheckpointStore, memoryCheckpointStore } from '../src/crosschain/checkpointStore.js'
import { deployMirroring, type MirroringDeployment } from '../src/crosschain/deploy.js'
import { MirrorKeeper } from '../src/crosschain/keeper.js'
import { readMirroredAnchor } from '../src/crosschain/mirrorViews.js'
import { routeOperators } from '../src/crosschain/operators.js'
import { type ChainContext, setupChain } from '../test/utils/anvil.js'
import { type BenchContext, type BenchOutput, target } from './lib/report.js'

/** The poll interval of every role (validators, keeper, relayer), ms. */
const ROLE_INTERVAL_MS = 250
/** Target: an anchor readable on B within this many seconds at 2 confirmations and 1 s blocks. */
export const MIRROR_LAG_TARGET_S = 10

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

/** One sample: seconds from sending the anchor transaction to each stage. */
type Sample = { mined: number; dispatched: number; signed: number; delivered: number; readable: number }

/** Runs the mirroring-lag benchmark (--quick: 1 confirmation, 1 sample). */
export async function runCrosschainLag({ quick, log }: BenchContext): Promise<BenchOutput> {
  const [A, B] = await Promise.all([setupChain({ chainId: 31337 }), setupChain({ chainId: 31338 })])
  try {
    const validators = [0, 1, 2].map(() => privateKeyToAccount(generatePrivateKey()))
    const m = await deployMirroring({
      origin: {
        wallet: A.walletClients[0]!,
        client: A.publicClient,
        keyRegistry: A.contracts.keyRegistry,
        messageAnchor: A.contracts.messageAnchor,
      },
      destination: { wallet: B.walletClients[1]!, client: B.publicClient },
      validators: validators.map((v) => v.address),
      threshold: 2,
    })
    // Deployed on automine; from here on, 1 s blocks on both chains.
    const rpc = (c: ChainContext, method: string, params: unknown[]) =>
      c.publicClient.request({ method, params } as never)
    await Promise.all([rpc(A, 'evm_setAutomine', [false]), rpc(B, 'evm_setAutomine', [false])])
    await Promise.all([rpc(A, 'evm_setIntervalMining', [1]), rpc(B, 'evm_setIntervalMining', [1])])
    const confirmations = quick ? [1] : [1, 2]
    const samples = quick ? 1 : 5
    const results = new Map<number, Sample[]>()
    let tag = 0
    for (const c of confirmations) {
      const list: Sample[] = []
      await withRoles(A, B, m, validators, c, async (roles) => {
        for (let s = 0; s < samples; s++) {
          const sample = await measureOne(A, B, m, roles, ++tag)
          list.push(sample)
          log(
            `c=${c} sample ${s + 1}: mined ${sample.mined.toFixed(2)} s, dispatched ${sample.dispatched.toFixed(2)} s, signed ${sample.signed.toFixed(2)} s, delivered ${sample.delivered.toFixed(2)} s, readable on B ${sample.readable.toFixed(2)} s`,
          )
        }
      })
      results.set(c, list)
    }
    const rows = [...results].map(([c, list]) => ({
      confirmations: c,
      samples: list.length,
      'anchor mined on A (s)': round(median(list.map((x) => x.mined))),
      'dispatched by the keeper (s)': round(median(list.map((x) => x.dispatched))),
      'signed by 2 of 3 (s)': round(median(list.map((x) => x.signed))),
      'processed on B (s)': round(median(list.map((x) => x.delivered))),
      'readable on B, median (s)': round(median(list.map((x) => x.readable))),
      'readable on B, max (s)': round(Math.max(...list.map((x) => x.readable))),
    }))
    const headlineC = confirmations.includes(2) ? 2 : 1
    const head = results.get(headlineC)!
    const lag = median(head.map((x) => x.readable))
    const mined = median(head.map((x) => x.mined))
    return {
      title: 'Cross-chain mirroring lag (Hyperlane, 1 s blocks): anchor sent on A → anchorOf answers on B',
      baseline: { name: 'the anchor transaction mined on A (same run)', value: mined, unit: 's' },
      headline: {
        name: `anchor readable on B, ${headlineC} confirmation${headlineC === 1 ? '' : 's'}, median`,
        value: lag,
        unit: 's',
      },
      ratio: lag / mined,
      ratioMeaning:
        'how many times longer an anchor takes to be readable on B than to be mined on A (lower is better)',
      columns: Object.keys(rows[0]!),
      rows,
      targets: [
        target(
          `anchor readable on B within ${MIRROR_LAG_TARGET_S} s (1 s blocks, ${headlineC} confirmation${headlineC === 1 ? '' : 's'})`,
          lag,
          '<=',
          MIRROR_LAG_TARGET_S,
          's',
        ),
      ],
      notes: [
        `Two anvils (--hardfork osaka, chain ids 31337 and 31338) mining a block every second; the roles run concurrently on their own loops (every ${ROLE_INTERVAL_MS} ms), as \`sealpost up --chains 2\` runs them: the keeper dispatches the anchor through SealpostMirrorSender, three validators sign once the dispatch block has the stated confirmations, the relayer collects 2 of 3 signatures and calls Mailbox.process on B.`,
        "Each stage is timed from sending the anchor transaction on A: mined (its receipt), dispatched (the keeper's dispatch receipt), signed (the second validator published its checkpoint), processed (the relayer's pass that delivered it returned, after its process receipt on B), readable (SealpostMirror.anchorOf answers on B, polled every 50 ms).",
        "Expected: about 1 block for the anchor, 1 for the dispatch, c − 1 more before signing, 1 for the process on B, plus the loops' polling; the machine was shared with other jobs, so the seconds are indicative.",
      ],
    }
  } finally {
    await Promise.all([A.stop(), B.stop()])
  }
}

const round = (x: number) => Math.round(x * 100) / 100

/** The running roles and the times they reported, by message id. */
type Roles = {
  dispatchedAt: Map<string, number>
  lastDispatch: { messageId: Hex; at: number } | undefined
  signatures: Map<string, number[]>
  deliveredAt: Map<string, number>
}

/** Runs the keeper, three validators (c confirmations) and the relayer on their loops around `body`. */
async function withRoles(
  A: ChainContext,
  B: ChainContext,
  m: MirroringDeployment,
  keys: ReturnType<typeof privateKeyToAccount>[],
  confirmations: number,
  body: (roles: Roles) => Promise<void>,
): Promise<void> {
  const roles: Roles = {
    dispatchedAt: new Map(),
    lastDispatch: undefined,
    signatures: new Map(),
    deliveredAt: new Map(),
  }
  const timed = (inner: CheckpointStore): CheckpointStore => ({
    put(signed: SignedCheckpoint) {
      const id = signed.checkpoint.messageId.toLowerCase()
      roles.signatures.set(id, [...(roles.signatures.get(id) ?? []), performance.now()])
      inner.put(signed)
    },
    get: (id) => inner.get(id),
  })
  const from = await A.publicClient.getBlockNumber()
  const { validators, relayer } = routeOperators({
    origin: { client: A.publicClient, core: m.origin },
    destination: { client: B.publicClient, wallet: B.walletClients[2]!, core: m.destination },
    validators: keys.map((account) => ({ account, store: timed(memoryCheckpointStore()) })),
    confirmations,
  })
  const keeper = new MirrorKeeper({
    client: A.publicClient,
    wallet: A.walletClients[3]!,
    keyRegistry: A.contracts.keyRegistry,
    messageAnchor: A.contracts.messageAnchor,
    route: m.route,
    fromBlock: from + 1n,
    anchorSubmitters: [A.walletClients[7]!.account.address],
  })
  const fail = (role: string) => (e: unknown) => console.error(`  ${role}:`, e)
  for (const [i, v] of validators.entries()) v.start(ROLE_INTERVAL_MS, fail(`validator ${i + 1}`))
  keeper.start(ROLE_INTERVAL_MS, {
    onError: fail('keeper'),
    onDispatches: (ds) => {
      for (const d of ds) {
        const at = performance.now()
        roles.dispatchedAt.set(d.messageId.toLowerCase(), at)
        roles.lastDispatch = { messageId: d.messageId, at }
      }
    },
  })
  relayer.start(ROLE_INTERVAL_MS, {
    onError: fail('relayer'),
    onOutcomes: (os) => {
      for (const o of os)
        if (o.status === 'delivered') roles.deliveredAt.set(o.messageId.toLowerCase(), performance.now())
    },
  })
  try {
    await body(roles)
  } finally {
    await Promise.all([keeper.stop(), relayer.stop(), ...validators.map((v) => v.stop())])
  }
}

/** Anchors a fresh root on A and times it through every stage until B's mirror answers for it. */
async function measureOne(
  A: ChainContext,
  B: ChainContext,
  m: MirroringDeployment,
  roles: Roles,
  tag: number,
): Promise<Sample> {
  const anchorer = A.walletClients[7]!
  const root = pad(toHex(0x1a9000 + tag), { size: 32 })
  const before = roles.lastDispatch
  const t0 = performance.now()
  await anchorRoot(anchorer, { contract: A.contracts.messageAnchor, root, leafCount: 1 })
  const mined = performance.now()
  for (;;) {
    const found = await readMirroredAnchor(B.publicClient, {
      mirror: m.mirror,
      submitter: anchorer.account.address,
      root,
    })
    if (found) break
    if (performance.now() - t0 > 60_000) throw new Error(`anchor ${root} not mirrored within 60 s`)
    await sleep(50)
  }
  const readable = performance.now()
  const dispatch = roles.lastDispatch !== before ? roles.lastDispatch : undefined
  const id = dispatch?.messageId.toLowerCase() ?? ''
  const signed = roles.signatures.get(id)?.sort((a, b) => a - b)[1] ?? Number.NaN
  // The relayer reports a pass's outcomes when the pass ends, which can be after B already answers.
  for (let i = 0; i < 100 && !roles.deliveredAt.has(id); i++) await sleep(50)
  const s = (t: number | undefined) => ((t ?? Number.NaN) - t0) / 1000
  return {
    mined: s(mined),
    dispatched: s(dispatch?.at),
    signed: s(signed),
    delivered: s(roles.deliveredAt.get(id)),
    readable: s(readable),
  }
}
