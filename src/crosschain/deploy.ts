/** Deploys Hyperlane's core (Mailbox, hooks, multisig ISM) from the shipped bytecode, and Sealpost's mirror pair. */
import type { Address, Client, Hex } from 'viem'
import { deployContract, getChainId, readContract, waitForTransactionReceipt } from 'viem/actions'
import { sealpostMirrorAbi, sealpostMirrorBytecode } from '../../contracts/artifacts/SealpostMirror.js'
import {
  sealpostMirrorSenderAbi,
  sealpostMirrorSenderBytecode,
} from '../../contracts/artifacts/SealpostMirrorSender.js'
import { ChainRequestError, NoAccountError, withChainErrors } from '../chain/errors.js'
import { sendAndWait, type WriteClient } from '../chain/sendAndWait.js'
import { mailboxAbi, multisigIsmFactoryAbi } from './hyperlaneAbi.js'
import { type HyperlaneContractName, hyperlaneArtifact } from './hyperlaneArtifacts.js'
import { addressToBytes32 } from './message.js'

/**
 * One chain's Hyperlane core as {@link deployHyperlaneCore} leaves it.
 *
 * @example
 * const { mailbox, merkleTreeHook, ism }: HyperlaneCore = await deployHyperlaneCore(wallet, client, { validators, threshold: 2 })
 */
export type HyperlaneCore = {
  /** Hyperlane domain of this chain (= its chain id). */
  domain: number
  mailbox: Address
  /** The Mailbox's required hook: every dispatched message id is a leaf of its tree. */
  merkleTreeHook: Address
  /** The Mailbox's default hook: a ProtocolFee charging 0. */
  protocolFee: Address
  ismFactory: Address
  /** StaticMessageIdMultisigIsm of `validators` and `threshold`; also the Mailbox's default ISM. */
  ism: Address
  validators: readonly Address[]
  threshold: number
  /** Block of the Mailbox deployment (first block that can hold its logs). */
  deployBlock: bigint
  /** Gas of each deployment and of the ISM creation and Mailbox initialisation. */
  gasUsed: Record<string, bigint>
  /** Deployment transaction of each shipped contract (its input starts with the shipped creation bytecode). */
  txHashes: Record<'Mailbox' | 'MerkleTreeHook' | 'ProtocolFee' | 'StaticMessageIdMultisigIsmFactory', Hex>
}

async function deployShipped(
  wallet: WriteClient,
  client: Client,
  name: HyperlaneContractName,
  args: readonly unknown[],
): Promise<{ address: Address; gasUsed: bigint; block: bigint; hash: Hex }> {
  const account = wallet.account
  if (!account) throw new NoAccountError({ action: `deploy ${name}` })
  const { abi, bytecode } = hyperlaneArtifact(name)
  const hash = await withChainErrors(() =>
    deployContract(wallet, { abi, bytecode, args, account, chain: wallet.chain ?? null } as never),
  )
  return mined(client, hash, name)
}

async function mined(client: Client, hash: Hex, what: string) {
  const receipt = await withChainErrors(() => waitForTransactionReceipt(client, { hash }))
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new ChainRequestError({ cause: new Error(`Deployment of ${what} failed (tx ${hash}).`) })
  }
  return { address: receipt.contractAddress, gasUsed: receipt.gasUsed, block: receipt.blockNumber, hash }
}

/**
 * Deploys, from the wallet's account, the shipped Hyperlane contracts one chain needs to send and receive:
 * Mailbox(domain = chain id), MerkleTreeHook (the Mailbox's *required* hook, so every message enters the tree
 * whatever hook a sender names), ProtocolFee with fee 0 (the *default* hook: the same hook must not be both, or it
 * would insert each message twice), and a StaticMessageIdMultisigIsm of `validators` (in this order) and
 * `threshold` through its factory, set as the default ISM. The deployer owns the Mailbox.
 *
 * @example
 * const core = await deployHyperlaneCore(walletB, clientB, { validators: [v1, v2, v3], threshold: 2 })
 */
export async function deployHyperlaneCore(
  wallet: WriteClient,
  client: Client,
  { validators, threshold }: { validators: readonly Address[]; threshold: number },
): Promise<HyperlaneCore> {
  const owner = wallet.account?.address
  if (!owner) throw new NoAccountError({ action: 'deploy Hyperlane' })
  const domain = await withChainErrors(() => getChainId(client))
  const mailbox = await deployShipped(wallet, client, 'Mailbox', [domain])
  const hook = await deployShipped(wallet, client, 'MerkleTreeHook', [mailbox.address])
  const fee = await deployShipped(wallet, client, 'ProtocolFee', [0n, 0n, owner, owner])
  const factory = await deployShipped(wallet, client, 'StaticMessageIdMultisigIsmFactory', [])
  const created = await sendAndWait(
    wallet,
    {
      address: factory.address,
      abi: multisigIsmFactoryAbi,
      functionName: 'deploy',
      args: [validators, threshold],
    },
    undefined,
  )
  const ism = await withChainErrors(() =>
    readContract(client, {
      address: factory.address,
      abi: multisigIsmFactoryAbi,
      functionName: 'getAddress',
      args: [validators, threshold],
    }),
  )
  const init = await sendAndWait(
    wallet,
    {
      address: mailbox.address,
      abi: mailboxAbi,
      functionName: 'initialize',
      args: [owner, ism, fee.address, hook.address],
    },
    undefined,
  )
  return {
    domain,
    mailbox: mailbox.address,
    merkleTreeHook: hook.address,
    protocolFee: fee.address,
    ismFactory: factory.address,
    ism,
    validators,
    threshold,
    deployBlock: mailbox.block,
    gasUsed: {
      Mailbox: mailbox.gasUsed,
      MerkleTreeHook: hook.gasUsed,
      ProtocolFee: fee.gasUsed,
      StaticMessageIdMultisigIsmFactory: factory.gasUsed,
      'StaticMessageIdMultisigIsmFactory.deploy': created.gasUsed,
      'Mailbox.initialize': init.gasUsed,
    },
    txHashes: {
      Mailbox: mailbox.hash,
      MerkleTreeHook: hook.hash,
      ProtocolFee: fee.hash,
      StaticMessageIdMultisigIsmFactory: factory.hash,
    },
  }
}

/**
 * Deploys a SealpostMirrorSender on the origin chain, bound to its Mailbox, KeyRegistry and MessageAnchor.
 *
 * @example
 * const sender = await deployMirrorSender(walletA, clientA, { mailbox: coreA.mailbox, keyRegistry, messageAnchor })
 */
export async function deployMirrorSender(
  wallet: WriteClient,
  client: Client,
  { mailbox, keyRegistry, messageAnchor }: { mailbox: Address; keyRegistry: Address; messageAnchor: Address },
): Promise<Address> {
  const account = wallet.account
  if (!account) throw new NoAccountError({ action: 'deploy SealpostMirrorSender' })
  const hash = await withChainErrors(() =>
    deployContract(wallet, {
      abi: sealpostMirrorSenderAbi,
      bytecode: sealpostMirrorSenderBytecode,
      args: [mailbox, keyRegistry, messageAnchor],
      account,
      chain: wallet.chain ?? null,
    }),
  )
  return (await mined(client, hash, 'SealpostMirrorSender')).address
}

/**
 * Deploys a SealpostMirror on the destination chain: it takes deliveries from `mailbox`, verified by `ism`, and
 * only from `originSender` on `originDomain`.
 *
 * @example
 * const mirror = await deployMirror(walletB, clientB, { mailbox: coreB.mailbox, ism: coreB.ism, originDomain: 31337, originSender: sender })
 */
export async function deployMirror(
  wallet: WriteClient,
  client: Client,
  {
    mailbox,
    ism,
    originDomain,
    originSender,
  }: { mailbox: Address; ism: Address; originDomain: number; originSender: Address },
): Promise<Address> {
  const account = wallet.account
  if (!account) throw new NoAccountError({ action: 'deploy SealpostMirror' })
  const hash = await withChainErrors(() =>
    deployContract(wallet, {
      abi: sealpostMirrorAbi,
      bytecode: sealpostMirrorBytecode,
      args: [mailbox, ism, originDomain, addressToBytes32(originSender)],
      account,
      chain: wallet.chain ?? null,
    }),
  )
  return (await mined(client, hash, 'SealpostMirror')).address
}

/**
 * One direction of mirroring, deployed: both chains' Hyperlane cores, the sender on the origin and the mirror on the
 * destination, and the route the keeper dispatches along.
 *
 * @example
 * const { origin, destination, sender, mirror, route }: MirroringDeployment = await deployMirroring(params)
 */
export type MirroringDeployment = {
  origin: HyperlaneCore
  destination: HyperlaneCore
  sender: Address
  mirror: Address
  route: { sender: Address; destination: number; mirror: Address }
}

/**
 * One chain's side of a mirroring route: its clients and its Hyperlane core.
 *
 * @example const a: MirrorEnd = { wallet: walletA, client: clientA, core: coreA }
 */
export type MirrorEnd = { wallet: WriteClient; client: Client; core: HyperlaneCore }

/**
 * Deploys one direction of mirroring between two chains whose Hyperlane cores already exist: a SealpostMirrorSender
 * on `origin` (bound to its Mailbox, KeyRegistry and MessageAnchor) and a SealpostMirror on `destination` (its
 * Mailbox, its ISM, accepting only that sender from the origin's domain). A core both sends and receives, so the same
 * two cores carry A → B and B → A.
 *
 * @example const back = await deployMirrorRoute({ origin: { ...b, core: coreB, keyRegistry, messageAnchor }, destination: { ...a, core: coreA } })
 */
export async function deployMirrorRoute({
  origin,
  destination,
}: {
  origin: MirrorEnd & { keyRegistry: Address; messageAnchor: Address }
  destination: MirrorEnd
}): Promise<MirroringDeployment> {
  const sender = await deployMirrorSender(origin.wallet, origin.client, {
    mailbox: origin.core.mailbox,
    keyRegistry: origin.keyRegistry,
    messageAnchor: origin.messageAnchor,
  })
  const mirror = await deployMirror(destination.wallet, destination.client, {
    mailbox: destination.core.mailbox,
    ism: destination.core.ism,
    originDomain: origin.core.domain,
    originSender: sender,
  })
  return {
    origin: origin.core,
    destination: destination.core,
    sender,
    mirror,
    route: { sender, destination: destination.core.domain, mirror },
  }
}

/**
 * Deploys everything one direction of mirroring needs (A → B; {@link deployMirroringBothWays} adds B → A): a Hyperlane core on each chain with the same validator
 * set and threshold, the SealpostMirrorSender on A bound to A's KeyRegistry and MessageAnchor, and the SealpostMirror
 * on B that accepts only that sender from A's domain. Use different deployer accounts on the two chains (or different
 * nonces): the same account and nonces would give both chains the same addresses and hide a wrong-chain mistake.
 *
 * @example
 * const m = await deployMirroring({
 *   origin: { wallet: walletA, client: clientA, keyRegistry, messageAnchor },
 *   destination: { wallet: walletB, client: clientB },
 *   validators: [v1, v2, v3], threshold: 2,
 * })
 */
export async function deployMirroring({
  origin,
  destination,
  validators,
  threshold,
}: {
  origin: { wallet: WriteClient; client: Client; keyRegistry: Address; messageAnchor: Address }
  destination: { wallet: WriteClient; client: Client }
  validators: readonly Address[]
  threshold: number
}): Promise<MirroringDeployment> {
  const [coreA, coreB] = await Promise.all([
    deployHyperlaneCore(origin.wallet, origin.client, { validators, threshold }),
    deployHyperlaneCore(destination.wallet, destination.client, { validators, threshold }),
  ])
  return deployMirrorRoute({
    origin: { ...origin, core: coreA },
    destination: { ...destination, core: coreB },
  })
}

/**
 * Both directions of mirroring between two chains that each have a Sealpost deployment: one Hyperlane core per chain
 * (the same validators and threshold), A → B (sender on A, mirror on B) and B → A (sender on B, mirror on A).
 *
 * @example
 * const { aToB, bToA } = await deployMirroringBothWays({
 *   a: { wallet: walletA, client: clientA, keyRegistry: registryA, messageAnchor: anchorA },
 *   b: { wallet: walletB, client: clientB, keyRegistry: registryB, messageAnchor: anchorB },
 *   validators: [v1, v2, v3], threshold: 2,
 * })
 */
export async function deployMirroringBothWays({
  a,
  b,
  validators,
  threshold,
}: {
  a: { wallet: WriteClient; client: Client; keyRegistry: Address; messageAnchor: Address }
  b: { wallet: WriteClient; client: Client; keyRegistry: Address; messageAnchor: Address }
  validators: readonly Address[]
  threshold: number
}): Promise<{ aToB: MirroringDeployment; bToA: MirroringDeployment }> {
  const aToB = await deployMirroring({ origin: a, destination: b, validators, threshold })
  const bToA = await deployMirrorRoute({
    origin: { ...b, core: aToB.destination },
    destination: { ...a, core: aToB.origin },
  })
  return { aToB, bToA }
}
