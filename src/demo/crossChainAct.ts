/** The demo's cross-chain act (issue 15): a sealed message carried A → B through Hyperlane, a receipt of A and a revoked device of A judged from B alone, forged mirror updates refused on B. */
import { join } from 'node:path'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  getAddress,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  pad,
  toHex,
} from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { anchorRoot } from '../chain/messageAnchor.js'
import type { WriteClient } from '../chain/sendAndWait.js'
import type { Client } from '../client/Client.js'
import { loadDevice } from '../client/identity.js'
import type { ReceiveResult } from '../client/types.js'
import type { MirroringDeployment } from '../crosschain/deploy.js'
import { mirrorDevices } from '../crosschain/dispatchMirror.js'
import { InboxReader, waitForInboxDelivery } from '../crosschain/inboxReceive.js'
import type { InboxRoute } from '../crosschain/inboxRoute.js'
import { sendEnvelopeViaHyperlane } from '../crosschain/inboxSend.js'
import type { RelayOutcome } from '../crosschain/relayer.js'
import { type HyperlaneRelayerConfig, relayerFromConfig } from '../crosschain/relayerConfig.js'
import { type MirrorTrust, type MirrorVerification, verifyViaMirror } from '../crosschain/verifyViaMirror.js'
import { signStatement } from '../crypto/statementSignature.js'
import { encodeEnvelope } from '../protocol/envelope.js'
import { buildMerkleTree, inclusionProof } from '../protocol/merkle.js'
import type { Receipt } from '../protocol/receipt.js'
import { encodeStatement, type SignedStatement, statementLeaf } from '../protocol/statement.js'
import { DemoAttackError, DemoTimeoutError } from './errors.js'
import { refuseForgedMirrorUpdates } from './forgedMirrorUpdate.js'
import {
  connectParty,
  DEMO_PASSPHRASE,
  type DemoNetwork,
  type DemoParty,
  fundedAccount,
  openOffline,
  registerOffline,
} from './parties.js'
import type { DemoReport } from './report.js'
import { untilJoined, untilRelayed } from './waits.js'

/**
 * Chain B as `up --chains 2` starts it (`startSecondChain`'s result fits): its RPC, the mirroring deployment A → B
 * (validators and keeper already running), the SealpostInbox pair, and the relayer's route and paying key.
 *
 * @example const b: CrossChainNetwork = await startSecondChain(ctx, { rpcA, deploymentA, keysA, blockTime: 0, confirmations: 1 })
 */
export type CrossChainNetwork = {
  rpc: string
  mirroring: MirroringDeployment
  inbox: InboxRoute
  relayer: { config: HyperlaneRelayerConfig; account: LocalAccount }
}

/**
 * Parameters of {@link runCrossChainAct}.
 *
 * @example await runCrossChainAct({ report, network, chainB, track })
 */
export type CrossChainActParameters = {
  report: DemoReport
  /** Chain A, its contracts and the relay (with its anchorer). */
  network: DemoNetwork
  chainB: CrossChainNetwork
  /** Registers a client to be closed when the demo ends. */
  track: (client: Client) => Client
  /** How long each wait for the chains may take, ms (default 60,000). */
  timeoutMs?: number | undefined
}

/**
 * What the act leaves for the caller (a test) to check beyond the report: the relayer's outcomes, and Alice's live
 * client, Bob's offline one (reading B) and the conversation between them, still open.
 *
 * @example const { relayed, alice, bob, conversation }: CrossChainActResult = await runCrossChainAct(parameters)
 */
export type CrossChainActResult = { relayed: RelayOutcome[]; alice: Client; bob: Client; conversation: Hex }

const TEXT = 'Across two networks: the contract draft, sealed.'

/**
 * Runs the act and records each step: (a) Alice seals a message to Bob, the relay carries it and Alice's account
 * also sends the same envelope bytes through A's Mailbox; 2-of-3 validators sign, the relayer delivers it to the
 * inbox on B, and Bob's client, offline from the relay, reads it from B's logs and verifies it as any delivery;
 * (b) the relay's anchorer anchors it on A, the keeper mirrors the anchor, and a verifier given only chain B's RPC
 * verifies the statement and its receipt; (c) Alice revokes her tablet on A, a statement its key signs afterwards is
 * anchored on A, and once the keeper mirrored both the verifier of B refuses it; (d) forged mirror updates. Both
 * parties are accounts of chain A's registry (Bob's client checks Alice's device against A): what crosses is the
 * envelope and the mirrored records, not a second home chain. Runs its own relayer (the relay node's role) and
 * stops it; throws only on an unexpected failure.
 *
 * @example await runCrossChainAct({ report, network, chainB: stack.second, track })
 */
export async function runCrossChainAct({
  report,
  network,
  chainB,
  track,
  timeoutMs = 60_000,
}: CrossChainActParameters): Promise<CrossChainActResult> {
  const clientA = createPublicClient({ transport: http(network.rpc) }) as PublicClient
  const clientB = createPublicClient({ transport: http(chainB.rpc) }) as PublicClient
  const { mirroring, inbox } = chainB
  const relayed: RelayOutcome[] = []
  const relayer = relayerFromConfig(chainB.relayer.config, chainB.relayer.account, { pollingInterval: 100 })
  relayer.start(250, { onOutcomes: (o) => relayed.push(...o) })
  try {
    report.record(
      'chain B and Hyperlane',
      true,
      `anvil chain id ${mirroring.destination.domain} at ${chainB.rpc}; Hyperlane's shipped Mailbox on both chains`,
      [
        `A: Mailbox ${mirroring.origin.mailbox}, SealpostMirrorSender ${mirroring.sender}, SealpostInbox ${inbox.origin.inbox}`,
        `B: Mailbox ${mirroring.destination.mailbox}, SealpostMirror ${mirroring.mirror}, SealpostInbox ${inbox.destination.inbox}`,
        `${mirroring.origin.threshold}-of-${mirroring.origin.validators.length} validators ${mirroring.origin.validators.join(', ')}`,
        'chain B’s contracts come from other deployer accounts than chain A’s: no address is shared by accident',
      ],
    )
    const alice: DemoParty = { name: 'x-alice', account: await fundedAccount(clientA) }
    const bob: DemoParty = { name: 'x-bob', account: await fundedAccount(clientA) }
    const aliceClient = track(await connectParty(network, alice))
    const bobLive = track(await connectParty(network, bob)) // closed below; tracked in case the join times out
    const chat = await aliceClient.conversations.open(bob.account.address)
    await untilJoined(bobLive, chat.id, timeoutMs)
    await bobLive.close() // Bob now follows chain B only: he never hears from the relay again in this act

    // (a) The same envelope through the relay and through Hyperlane.
    const sent = await chat.send(TEXT)
    const bytes = encodeEnvelope(sent.envelope)
    const fromBlock = (await clientB.getBlockNumber()) + 1n
    const aliceWallet = createWalletClient({ account: alice.account, transport: http(network.rpc) })
    const dispatch = await sendEnvelopeViaHyperlane(aliceWallet, {
      inbox: inbox.origin.inbox,
      destination: inbox.destination.domain,
      envelope: bytes,
    })
    const done = report.progress('Waiting for 2 of 3 validators to sign and the relayer to deliver on B')
    const deliveredAt = await waitForInboxDelivery(clientB, {
      inbox: inbox.destination.inbox,
      envelopeId: sent.id,
      timeoutMs,
    })
    done(`block ${deliveredAt} of B`)
    const delivery = await untilRelayed(relayed, dispatch.messageId, timeoutMs)
    const bobOnB = track(await openOffline(network, bob))
    const reader = new InboxReader<ReceiveResult>({
      client: clientB,
      inbox: inbox.destination.inbox,
      fromBlock,
      topics: () => [chat.id],
      receive: (b) => bobOnB.receive(b),
    })
    const [outcome] = await reader.poll()
    const result = outcome?.status === 'accepted' ? outcome.result : undefined
    const message = result?.type === 'message' ? result.message : undefined
    report.record(
      'a sealed message carried A → B through Hyperlane, verified by Bob',
      message?.text === TEXT && message.report.ok,
      message
        ? `"${message.text}" from ${message.from}, read from the SealpostInbox on B`
        : `nothing accepted from B (${outcome?.status ?? 'no envelope'})`,
      [
        "Bob's client has no relay connection here: it read the envelope from the inbox's logs on B (InboxReader)",
        `dispatch on A: tx ${dispatch.hash} gas ${dispatch.gasUsed}, Hyperlane message ${dispatch.messageId}`,
        `the message body is the envelope (${bytes.length} bytes, MLS-sealed): the chains never see the text`,
        delivery?.status === 'delivered'
          ? `Mailbox.process on B: tx ${delivery.hash} gas ${delivery.gasUsed} (ISM checked ${mirroring.destination.threshold} signatures)`
          : `delivered on B in block ${deliveredAt}`,
        "Bob's client checks, as for a relay delivery:",
        ...(message?.report.steps.map((s) => `  ${s.ok ? '✓' : '✗'} ${s.name}: ${s.detail}`) ?? []),
        "not built: Bob's client still checks Alice against chain A's registry (both are accounts of A); a member",
        "whose home is chain B is not yet checked against B's registry by a live client",
      ],
    )

    // (b) Its receipt, anchored on A by the relay's anchorer, verified from chain B alone.
    await aliceClient.waitForState(sent.id, 'anchored', { timeoutMs })
    const receipt = aliceClient.messages.receipt(sent.id)
    if (!receipt)
      throw new DemoAttackError({ attack: 'verify a receipt from B', reason: 'Alice holds no receipt' })
    // A fresh snapshot of Alice's device (anyone may ask the sender): the keeper mirrored it when it was added,
    // before the anchor block, and a verifier of B needs it valid at that block.
    const anyone = createWalletClient({ account: await fundedAccount(clientA), transport: http(network.rpc) })
    await mirrorDevices(anyone, mirroring.route, [
      { account: aliceClient.account, deviceId: aliceClient.deviceId },
    ])
    const trust: MirrorTrust = {
      chainId: mirroring.destination.domain,
      mirror: mirroring.mirror,
      sender: mirroring.sender,
      origin: {
        chainId: network.deployment.chainId,
        keyRegistry: network.deployment.keyRegistry,
        messageAnchor: network.deployment.messageAnchor,
      },
    }
    const judge = (statement: Uint8Array, signature: Hex, r: Receipt) =>
      untilJudged(() => verifyViaMirror(clientB, { trust, statement, signature, receipt: r }), timeoutMs)
    const fromB = await judge(encodeStatement(sent.statement), sent.signature, receipt)
    report.record(
      'a receipt anchored on A, verified from chain B alone',
      fromB.verdict.status === 'verified',
      `${fromB.verdict.status} through SealpostMirror ${mirroring.mirror} (root in block ${receipt.blockNumber} of A)`,
      [
        `the verifier is given chain B's RPC only (${chainB.rpc}), never chain A's; it read B at B block ${fromB.verdict.mirrorBlock}`,
        ...(fromB.pendingPasses > 0
          ? [`"not yet mirrored" (pending) ${fromB.pendingPasses} time(s) first`]
          : []),
        ...mirrorLines(fromB.verdict),
      ],
    )

    // (c) A device revoked on A, refused by a verifier that follows B once the revocation is mirrored.
    const tablet: DemoParty = { ...alice, device: 'tablet' }
    await registerOffline(network, tablet)
    const tabletKeys = await loadDevice({
      home: join(network.dir, tablet.name),
      name: 'tablet',
      passphrase: DEMO_PASSPHRASE,
    })
    const revocation = await aliceClient.revokeDevice(tabletKeys.deviceId)
    const head = await clientA.getBlock()
    // The thief of the tablet signs after the revocation and has the leaf anchored (MessageAnchor is open to all).
    const late = signStatement({
      key: tabletKeys.signingKey,
      statement: {
        version: 2,
        chainId: network.deployment.chainId,
        registry: network.deployment.keyRegistry,
        from: alice.account.address,
        device: tabletKeys.deviceId,
        conversation: chat.id,
        epoch: 1n,
        recipientsRoot: pad('0x01', { size: 32 }),
        seq: 1n,
        sentAt: Date.now(),
        block: { number: head.number, hash: head.hash },
        bodyHash: keccak256(toHex('wire the funds to this account')),
        salt: keccak256(toHex(Date.now())),
      },
    })
    const lateReceipt = await anchorLeaf(anyone, anyone.account.address, clientA, network, late)
    const refused = await judge(late.bytes, late.signature, lateReceipt)
    report.record(
      'a device revoked on A, refused by a verifier that follows B',
      refused.verdict.status === 'refused' && refused.verdict.code === 'SEALPOST_KEY_REVOKED',
      refused.verdict.status === 'refused'
        ? `refused at step ${refused.verdict.failedStep} [${refused.verdict.code}]`
        : `${refused.verdict.status}: the revoked tablet's statement was not refused`,
      [
        `tablet ${tabletKeys.deviceId.slice(0, 18)}… revoked on A in tx ${revocation.txHash} (block ${revocation.blockNumber})`,
        `a statement its key signed at block ${head.number} of A, anchored on A in block ${lateReceipt.blockNumber}`,
        `the keeper mirrored the revocation; the verifier reads only B (B block ${refused.verdict.mirrorBlock})`,
        ...mirrorLines(refused.verdict).filter((l) => l.startsWith('✗')),
      ],
    )

    // (d) Forged mirror updates: a direct call, and a genuine message of A from the wrong sender.
    await refuseForgedMirrorUpdates({
      report,
      clientA,
      clientB,
      rpcA: network.rpc,
      rpcB: chainB.rpc,
      mirroring,
      forger: await fundedAccount(clientA),
      forgerOnB: await fundedAccount(clientB),
      victim: { account: getAddress(alice.account.address) as Address, deviceId: tabletKeys.deviceId },
      relayed,
      timeoutMs,
    })
    return { relayed, alice: aliceClient, bob: bobOnB, conversation: chat.id }
  } finally {
    await relayer.stop()
  }
}

/** Verifies through the mirror until the verdict is no longer pending ("not yet mirrored"); counts the pending passes. */
async function untilJudged(
  verify: () => Promise<MirrorVerification>,
  timeoutMs: number,
): Promise<{ verdict: MirrorVerification; pendingPasses: number }> {
  const deadline = Date.now() + timeoutMs
  for (let pendingPasses = 0; ; pendingPasses++) {
    const verdict = await verify()
    if (verdict.status !== 'pending') return { verdict, pendingPasses }
    if (Date.now() >= deadline)
      throw new DemoTimeoutError({ waitingFor: 'the mirror on B to catch up', timeoutMs })
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** A mirror verification's steps as report lines. */
function mirrorLines(v: MirrorVerification): string[] {
  const mark = { ok: '✓', failed: '✗', pending: '…', 'not-checked': '-' } as const
  return v.steps.map((s) => `${mark[s.status]} ${s.name}: ${s.detail}${s.code ? ` [${s.code}]` : ''}`)
}

/** Anchors `signed`'s leaf (with a filler leaf) on A from `wallet`'s account and returns its receipt. */
async function anchorLeaf(
  wallet: WriteClient,
  submitter: Address,
  client: PublicClient,
  network: DemoNetwork,
  signed: SignedStatement,
): Promise<Receipt> {
  const leaf = statementLeaf(signed.bytes, signed.signature)
  const tree = buildMerkleTree([leaf, keccak256(signed.signature)])
  const { hash, blockNumber } = await anchorRoot(wallet, {
    contract: network.deployment.messageAnchor,
    root: tree.root,
    leafCount: 2,
  })
  const block = await client.getBlock({ blockNumber })
  return {
    chainId: network.deployment.chainId,
    contract: getAddress(network.deployment.messageAnchor),
    submitter,
    root: tree.root,
    leaf,
    index: 0,
    treeSize: 2,
    path: inclusionProof(tree, 0),
    txHash: hash,
    blockNumber,
    blockTimestamp: block.timestamp,
  }
}
