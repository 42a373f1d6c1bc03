/**
 * Gas of mirroring through Hyperlane (dispatch on A + process on B) per registry change and per anchored root, at
 * several batch sizes, against the origin operation itself; per message mirrored for roots of 1, 1,000 and 10,000
 * messages (measured) against naive per-message anchoring; `send --via hyperlane` per KiB against the relay's zero;
 * and the time from an anchor on A to its mirror on B with 1 s blocks.
 */
import { randomBytes } from 'node:crypto'
import { type Address, bytesToHex, encodeFunctionData, type Hex, pad, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { anchorRoot } from '../src/chain/messageAnchor.js'
import { encodeMessageIdMultisigMetadata } from '../src/crosschain/checkpoint.js'
import { memoryCheckpointStore } from '../src/crosschain/checkpointStore.js'
import { deployMirroring } from '../src/crosschain/deploy.js'
import { type MirrorDispatch, mirrorAnchors, mirrorDevices } from '../src/crosschain/dispatchMirror.js'
import { multisigIsmAbi } from '../src/crosschain/hyperlaneAbi.js'
import { deployInboxPair } from '../src/crosschain/inboxDeploy.js'
import { sendEnvelopeViaHyperlane } from '../src/crosschain/inboxSend.js'
import { MirrorKeeper } from '../src/crosschain/keeper.js'
import { readMirroredAnchor } from '../src/crosschain/mirrorViews.js'
import { routeOperators } from '../src/crosschain/operators.js'
import { collectQuorum, type RelayOutcome } from '../src/crosschain/relayer.js'
import { createEnvelope, ENVELOPE_HEADER_BYTES, encodeEnvelope } from '../src/protocol/envelope.js'
import { type ChainContext, setupChain } from '../test/utils/anvil.js'
import { registerTestDevice } from '../test/utils/devices.js'
import { type BenchContext, type BenchOutput, target } from './lib/report.js'

/** Gas one mirrored root may cost, dispatch on A plus process on B (what this benchmark checks). */
export const MIRROR_ROOT_GAS_TARGET = 300_000

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms))

/** Runs the cross-chain gas benchmark (gas is deterministic; --quick uses fewer batch sizes and one latency sample). */
export async function runCrosschainGas({ quick, log }: BenchContext): Promise<BenchOutput> {
  const [A, B] = await Promise.all([setupChain({ chainId: 31337 }), setupChain({ chainId: 31338 })])
  try {
    return await measure(A, B, quick, log)
  } finally {
    await Promise.all([A.stop(), B.stop()])
  }
}

async function measure(
  A: ChainContext,
  B: ChainContext,
  quick: boolean,
  log: (line: string) => void,
): Promise<BenchOutput> {
  const keys = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()].map((k) =>
    privateKeyToAccount(k),
  )
  const m = await deployMirroring({
    origin: {
      wallet: A.walletClients[0]!,
      client: A.publicClient,
      keyRegistry: A.contracts.keyRegistry,
      messageAnchor: A.contracts.messageAnchor,
    },
    destination: { wallet: B.walletClients[1]!, client: B.publicClient },
    validators: keys.map((k) => k.address),
    threshold: 2,
  })
  const stores = keys.map(() => memoryCheckpointStore())
  const { validators, relayer } = routeOperators({
    origin: { client: A.publicClient, core: m.origin },
    destination: { client: B.publicClient, wallet: B.walletClients[2]!, core: m.destination },
    validators: keys.map((account, i) => ({ account, store: stores[i]! })),
    confirmations: 1,
  })
  const keeperWallet = A.walletClients[3]!
  const deliver = async (): Promise<RelayOutcome[]> => {
    for (const v of validators) await v.poll()
    return relayer.poll()
  }
  /** Dispatch + process gas of one dispatch (delivered alone). */
  const roundTrip = async (d: MirrorDispatch) => {
    const [outcome] = await deliver()
    if (outcome?.status !== 'delivered') throw new Error(`not delivered: ${outcome?.status}`)
    return { dispatch: Number(d.gasUsed), process: Number(outcome.gasUsed) }
  }

  const rows: Record<string, string | number>[] = []
  const row = (what: string, records: number, g: { dispatch: number; process: number }, origin: number) => {
    const total = g.dispatch + g.process
    rows.push({
      mirrored: what,
      records,
      'dispatch on A': g.dispatch,
      'process on B': g.process,
      'total per record': Math.round(total / records),
      'origin operation': origin,
      'gas per KiB': '',
    })
    log(
      `crosschain gas: ${what} x${records}: dispatch ${g.dispatch}, process ${g.process}, ${Math.round(total / records)}/record`,
    )
    return total / records
  }

  // Baselines measured in this run: the origin operations themselves.
  const alice = A.walletClients[5]!
  const device = await registerTestDevice(A, alice)
  const addDeviceGas = Number(device.gasUsed)
  const anchorer = A.walletClients[7]!
  let tag = 0
  const newRoot = async (leafCount = 1024) => {
    const root = pad(toHex(++tag), { size: 32 })
    const r = await anchorRoot(anchorer, { contract: A.contracts.messageAnchor, root, leafCount })
    return { root, gasUsed: Number(r.gasUsed) }
  }
  const first = await newRoot()
  const anchorGas = first.gasUsed
  // Warm-up message, not counted: the first dispatch and delivery ever set zero slots (Mailbox nonce, the tree's
  // first branch), which every later message finds non-zero.
  await roundTrip(
    await mirrorAnchors(keeperWallet, m.route, [
      { submitter: anchorer.account.address, root: (await newRoot()).root },
    ]),
  )

  const oneDevice = await roundTrip(
    await mirrorDevices(keeperWallet, m.route, [
      { account: alice.account.address, deviceId: device.deviceId },
    ]),
  )
  const perDevice = row('device record (add)', 1, oneDevice, addDeviceGas)
  const oneRoot = await roundTrip(
    await mirrorAnchors(keeperWallet, m.route, [{ submitter: anchorer.account.address, root: first.root }]),
  )
  const perRoot = row('anchored root', 1, oneRoot, anchorGas)

  const sizes = quick ? [8] : [8, 32]
  let perRootBatched = perRoot
  for (const size of sizes) {
    const roots: Hex[] = []
    for (let i = 0; i < size; i++) roots.push((await newRoot()).root)
    const d = await mirrorAnchors(
      keeperWallet,
      m.route,
      roots.map((root) => ({ submitter: anchorer.account.address, root })),
    )
    perRootBatched = row('anchored roots, one message', size, await roundTrip(d), anchorGas)
  }
  // More devices of one account: a batch of device records.
  const devices: { account: Address; deviceId: Hex }[] = []
  for (let i = 0; i < (quick ? 4 : 8); i++) {
    const owner = privateKeyToAccount(generatePrivateKey())
    const { deviceId } = await registerTestDevice(A, owner)
    devices.push({ account: owner.address, deviceId })
  }
  row(
    'device records, one message',
    devices.length,
    await roundTrip(await mirrorDevices(keeperWallet, m.route, devices)),
    addDeviceGas,
  )

  // ISM verification alone (two ecrecovers over the checkpoint digest), as a separate call.
  const probe = await newRoot()
  const pd = await mirrorAnchors(keeperWallet, m.route, [
    { submitter: anchorer.account.address, root: probe.root },
  ])
  for (const v of validators) await v.poll()
  const quorum = await collectQuorum(B.publicClient, {
    mailbox: m.destination.mailbox,
    message: pd.message,
    stores,
  })
  const verifyGas = Number(
    await B.publicClient.estimateGas({
      to: m.destination.ism,
      data: encodeFunctionData({
        abi: multisigIsmAbi,
        functionName: 'verify',
        args: [encodeMessageIdMultisigMetadata(quorum), pd.message],
      }),
    }),
  )
  await relayer.poll()
  rows.push({
    mirrored: 'StaticMessageIdMultisigIsm.verify alone (2 of 3, separate tx)',
    records: 1,
    'dispatch on A': '',
    'process on B': verifyGas,
    'total per record': '',
    'origin operation': '',
    'gas per KiB': '',
  })

  // Per message covered by a mirrored root, measured: a root of a batch of `batch` message statements is anchored on
  // A (leafCount = batch) and mirrored alone; its gas divided by the batch. Baseline: naive per-message anchoring,
  // every message its own root, anchored and mirrored (the batch-of-1 row, per message).
  // Not counted: one more message first, so that none of the measured ones below is the message that makes the
  // MerkleTreeHook's size a power of two (8 here): that insertion writes a tree branch slot for the first time
  // (about +24,000 gas on A), whatever it carries.
  await roundTrip(
    await mirrorAnchors(keeperWallet, m.route, [
      { submitter: anchorer.account.address, root: (await newRoot()).root },
    ]),
  )
  const perMessage: { batch: number; mirror: number; anchor: number }[] = []
  for (const batch of [1, 1000, 10_000]) {
    const r = await newRoot(batch)
    const d = await mirrorAnchors(keeperWallet, m.route, [
      { submitter: anchorer.account.address, root: r.root },
    ])
    const g = await roundTrip(d)
    perMessage.push({ batch, mirror: g.dispatch + g.process, anchor: r.gasUsed })
    rows.push({
      mirrored: `per message, root of a ${batch.toLocaleString('en-US')}-message batch (root anchored, mirrored alone)`,
      records: batch,
      'dispatch on A': g.dispatch,
      'process on B': g.process,
      'total per record': Math.round((g.dispatch + g.process) / batch),
      'origin operation': Math.round(r.gasUsed / batch),
      'gas per KiB': '',
    })
    log(
      `crosschain gas: per message at batch ${batch}: ${((g.dispatch + g.process) / batch).toFixed(1)} mirrored`,
    )
  }
  const naive = perMessage[0]!
  rows.push({
    mirrored: 'baseline: naive per-message anchoring (every message its own root, anchored and mirrored)',
    records: 1,
    'dispatch on A': '',
    'process on B': '',
    'total per record': naive.mirror + naive.anchor,
    'origin operation': naive.anchor,
    'gas per KiB': '',
  })

  // `send --via hyperlane`: an envelope of 1, 4 and 16 KiB (header + random payload: MLS ciphertext is
  // indistinguishable from random) through the SealpostInbox pair; the relay path carries the same bytes for 0 gas.
  const pair = await deployInboxPair({
    a: { wallet: A.walletClients[0]!, client: A.publicClient, core: m.origin },
    b: { wallet: B.walletClients[1]!, client: B.publicClient, core: m.destination },
  })
  const perKiB: { kib: number; total: number }[] = []
  for (const kib of quick ? [1, 16] : [1, 4, 16]) {
    const envelope = encodeEnvelope(
      createEnvelope({
        kind: 'application',
        topic: bytesToHex(randomBytes(32)),
        payload: new Uint8Array(randomBytes(kib * 1024 - ENVELOPE_HEADER_BYTES)),
      }),
    )
    const d = await sendEnvelopeViaHyperlane(A.walletClients[4]!, {
      inbox: pair.a.inbox,
      destination: pair.b.domain,
      envelope,
    })
    const [outcome] = await deliver()
    if (outcome?.status !== 'delivered') throw new Error(`envelope not delivered: ${outcome?.status}`)
    const dispatch = Number(d.gasUsed)
    const process = Number(outcome.gasUsed)
    perKiB.push({ kib, total: dispatch + process })
    rows.push({
      mirrored: `send --via hyperlane, ${kib} KiB envelope (SealpostInbox.send + Mailbox.process)`,
      records: 1,
      'dispatch on A': dispatch,
      'process on B': process,
      'total per record': dispatch + process,
      'origin operation': 0,
      'gas per KiB': Math.round((dispatch + process) / kib),
    })
    log(`crosschain gas: send via hyperlane ${kib} KiB: dispatch ${dispatch}, process ${process}`)
  }
  const small = perKiB[0]!
  const large = perKiB.at(-1)!
  const marginalPerKiB = (large.total - small.total) / (large.kib - small.kib)
  rows.push({
    mirrored: `send --via hyperlane, marginal gas per KiB (${small.kib} → ${large.kib} KiB)`,
    records: '',
    'dispatch on A': '',
    'process on B': '',
    'total per record': '',
    'origin operation': 0,
    'gas per KiB': Math.round(marginalPerKiB),
  })

  // Latency with 1 s blocks on both chains: anchor on A until anchorOf answers on B, the roles polling every 250 ms.
  const samples = quick ? 1 : 3
  const keeper = new MirrorKeeper({
    client: A.publicClient,
    wallet: keeperWallet,
    keyRegistry: A.contracts.keyRegistry,
    messageAnchor: A.contracts.messageAnchor,
    route: m.route,
    fromBlock: (await A.publicClient.getBlockNumber()) + 1n,
    anchorSubmitters: [anchorer.account.address],
  })
  const rpc = (ctx: ChainContext, method: string, params: unknown[]) =>
    ctx.publicClient.request({ method, params } as never)
  await Promise.all([rpc(A, 'evm_setAutomine', [false]), rpc(B, 'evm_setAutomine', [false])])
  await Promise.all([rpc(A, 'evm_setIntervalMining', [1]), rpc(B, 'evm_setIntervalMining', [1])])
  const latencies: number[] = []
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now()
    const { root } = await newRoot()
    for (;;) {
      await keeper.poll()
      await deliver()
      if (
        await readMirroredAnchor(B.publicClient, {
          mirror: m.mirror,
          submitter: anchorer.account.address,
          root,
        })
      )
        break
      await sleep(250)
    }
    latencies.push((performance.now() - t0) / 1000)
    log(`crosschain latency: anchor on A to mirror on B: ${latencies.at(-1)!.toFixed(2)} s`)
  }
  const latency = latencies.sort((a, b) => a - b)[Math.floor(latencies.length / 2)]!
  rows.push({
    mirrored: `latency: anchor tx sent on A → anchorOf on B answers (1 s blocks, median of ${samples})`,
    records: 1,
    'dispatch on A': '',
    'process on B': '',
    'total per record': `${latency.toFixed(2)} s`,
    'origin operation': '',
    'gas per KiB': '',
  })

  return {
    title: 'Cross-chain mirroring gas (Hyperlane, 2-of-3 validators): dispatch on A + process on B',
    baseline: { name: 'MessageAnchor.anchor on A (the origin operation)', value: anchorGas, unit: 'gas' },
    headline: { name: 'one anchored root mirrored alone (dispatch + process)', value: perRoot, unit: 'gas' },
    ratio: perRoot / anchorGas,
    ratioMeaning: 'gas to mirror one root to chain B divided by the gas of anchoring it on chain A',
    columns: [
      'mirrored',
      'records',
      'dispatch on A',
      'process on B',
      'total per record',
      'origin operation',
      'gas per KiB',
    ],
    rows,
    targets: [
      target('one root mirrored alone (dispatch + process)', perRoot, '<=', MIRROR_ROOT_GAS_TARGET, 'gas'),
      target(
        'one device record mirrored alone (dispatch + process)',
        perDevice,
        '<=',
        MIRROR_ROOT_GAS_TARGET,
        'gas',
      ),
      target(`per root in a batch of ${sizes.at(-1)}`, perRootBatched, '<=', perRoot, 'gas'),
    ],
    notes: [
      "Receipts' gasUsed on two `anvil --hardfork osaka` nodes (chain ids 31337 and 31338), Hyperlane's shipped Mailbox, MerkleTreeHook (required hook), ProtocolFee charging 0 (default hook) and a StaticMessageIdMultisigIsm of 3 validators, threshold 2; dispatch = SealpostMirrorSender.mirrorAnchors/mirrorDevices (reads the records, Mailbox.dispatch, tree insertion); process = Mailbox.process (ISM verify with 2 signatures, SealpostMirror.handle).",
      'Steady state: one warm-up message is dispatched and delivered first (the very first message also sets zero slots: Mailbox nonce, latest id, tree branch). Each row is one message delivered alone; the device rows mirror devices never mirrored before (two new storage slots each on B).',
      'A root commits to a batch of message statements: the per-message rows anchor a root with leafCount 1, 1,000 and 10,000 on A and mirror it alone, measured, and divide both by the batch size (origin operation = the anchor per message). The naive baseline anchors and mirrors every message as its own root. Mirroring several roots in one message amortises the Mailbox and ISM overhead further.',
      "send --via hyperlane: SealpostInbox.send on A (calldata, Mailbox.dispatch, tree insertion) and Mailbox.process on B (ISM check, SealpostInbox.handle: checks, one new deliveredAt slot, the envelope in an EnvelopeReceived log); 'origin operation' 0 is the relay path, which carries the same envelope off-chain (its statement leaf is anchored the same way on either path). Envelopes are a 72-byte header and a random payload, exactly 1, 4 and 16 KiB. Under osaka (EIP-7623) a data-heavy transaction pays at least 10 gas per calldata token (40 per non-zero byte): from 4 KiB on, both transactions pay that floor, so the marginal cost is about 2 × 40 × 1,024 gas per KiB.",
      "Dispatch gas on A also depends by a few thousand gas on the message's position in the MerkleTreeHook's tree (which branch slot its insertion writes), so rows that carry the same payload differ by that much.",
      'Latency: keeper, validators (1 confirmation) and relayer run in this process and poll every 250 ms; both anvils mine a block every second (evm_setIntervalMining), so the time includes the anchor, dispatch and process transactions each waiting for a block.',
    ],
  }
}
