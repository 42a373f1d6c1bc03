/** Typed viem actions for MessageAnchor v2 (anchors namespaced by submitter): anchor roots, read anchors, find and decode `Anchored` logs. */
import { type Address, type Client, type Hex, isAddressEqual, type Log, parseEventLogs } from 'viem'
import { getContractEvents, readContract } from 'viem/actions'
import { messageAnchorAbi } from '../../contracts/artifacts/MessageAnchor.js'
import { withChainErrors } from './errors.js'
import { sendAndWait, type WriteClient, type WriteResult } from './sendAndWait.js'

/**
 * Parameters of {@link anchorRoot}.
 *
 * @example
 * anchorRoot(client, { contract, root, leafCount: 1000, meta: '0x' })
 */
export type AnchorRootParameters = {
  contract: Address
  /** RFC 6962 Merkle root of the batch (32 bytes, non-zero). */
  root: Hex
  /** Number of leaves in the batch (1 .. 2^24-1). */
  leafCount: number | bigint
  /** Opaque metadata, at most 1024 bytes (default empty). */
  meta?: Hex | undefined
  sender?: WriteClient['account'] | Address | undefined
  confirmations?: number | undefined
}

/**
 * Anchors a batch root on chain under the sender's address and waits for the receipt. The contract emits
 * `Anchored(root indexed, submitter indexed, leafCount, meta)`; the anchor's block number and timestamp
 * are those of the log's block (also stored, see {@link getAnchor}). Only the sender's own earlier anchor of
 * the same root makes it revert (`AlreadyAnchored`): anchors by others never collide with it.
 *
 * @example
 * const { blockNumber, gasUsed } = await anchorRoot(walletClient, { contract, root, leafCount: 1000, meta: '0x' })
 */
export async function anchorRoot(client: WriteClient, params: AnchorRootParameters): Promise<WriteResult> {
  return sendAndWait(
    client,
    {
      address: params.contract,
      abi: messageAnchorAbi,
      functionName: 'anchor',
      args: [params.root, BigInt(params.leafCount), params.meta ?? '0x'],
    },
    params.sender,
    params.confirmations,
  )
}

/**
 * A stored anchor.
 *
 * @example
 * const anchor: AnchorInfo | undefined = await getAnchor(client, { contract, submitter, root })
 */
export type AnchorInfo = {
  root: Hex
  submitter: Address
  blockNumber: bigint
  /** Block timestamp, unix seconds. */
  timestamp: bigint
  leafCount: number
}

/**
 * Parameters of {@link getAnchor}.
 *
 * @example
 * const p: GetAnchorParameters = { contract, submitter: anchorer.address, root }
 */
export type GetAnchorParameters = {
  contract: Address
  /**
   * Whose anchor to read (anchors are namespaced by submitter). Defaults to the zero address, which never
   * anchors: only useful to probe that `contract` is a MessageAnchor.
   */
  submitter?: Address | undefined
  root: Hex
  blockNumber?: bigint | undefined
}

const ZERO_ADDRESS: Address = '0x0000000000000000000000000000000000000000'

/**
 * Reads `submitter`'s anchor of `root` (`anchorOf(submitter, root)`), or undefined if it never anchored it.
 *
 * @example
 * const anchor = await getAnchor(publicClient, { contract, submitter, root })
 */
export async function getAnchor(
  client: Client,
  { contract, submitter = ZERO_ADDRESS, root, blockNumber }: GetAnchorParameters,
): Promise<AnchorInfo | undefined> {
  const [block, timestamp, leafCount] = await withChainErrors(() =>
    readContract(client, {
      address: contract,
      abi: messageAnchorAbi,
      functionName: 'anchorOf',
      args: [submitter, root],
      ...(blockNumber !== undefined ? { blockNumber } : {}),
    }),
  )
  if (leafCount === 0) return undefined
  return {
    root,
    submitter,
    blockNumber: BigInt(block),
    timestamp: BigInt(timestamp),
    leafCount: Number(leafCount),
  }
}

/**
 * One decoded `Anchored(root indexed, submitter indexed, leafCount, meta)` event.
 *
 * @example
 * const [event]: AnchoredEvent[] = decodeAnchoredLogs(txReceipt.logs, { contract })
 */
export type AnchoredEvent = {
  root: Hex
  submitter: Address
  leafCount: number
  meta: Hex
  transactionHash: Hex | null
  blockNumber: bigint | null
}

/**
 * Decodes the `Anchored` events that `contract` emitted among `logs` (e.g. a transaction receipt's logs); logs
 * of other contracts or events are skipped.
 *
 * @example
 * const anchoredHere = decodeAnchoredLogs(txReceipt.logs, { contract }).some((e) => e.root === root)
 */
export function decodeAnchoredLogs(
  logs: readonly Log[],
  { contract }: { contract: Address },
): AnchoredEvent[] {
  const ours = logs.filter((log) => isAddressEqual(log.address, contract))
  return parseEventLogs({ abi: messageAnchorAbi, eventName: 'Anchored', logs: ours }).map((log) => ({
    root: log.args.root.toLowerCase() as Hex,
    submitter: log.args.submitter,
    leafCount: Number(log.args.leafCount),
    meta: log.args.meta,
    transactionHash: log.transactionHash,
    blockNumber: log.blockNumber,
  }))
}

/**
 * The `Anchored` events `contract` itself emitted for `root` in block `blockNumber` (optionally only those of
 * `submitter`), whatever transaction or call path produced them. Logs of other contracts never match.
 *
 * @example
 * const [event] = await findAnchoredEvents(client, { contract, root, submitter, blockNumber })
 */
export async function findAnchoredEvents(
  client: Client,
  {
    contract,
    root,
    submitter,
    blockNumber,
  }: { contract: Address; root: Hex; submitter?: Address | undefined; blockNumber: bigint },
): Promise<AnchoredEvent[]> {
  const logs = await withChainErrors(() =>
    getContractEvents(client, {
      address: contract,
      abi: messageAnchorAbi,
      eventName: 'Anchored',
      args: submitter ? { root, submitter } : { root },
      fromBlock: blockNumber,
      toBlock: blockNumber,
    }),
  )
  return decodeAnchoredLogs(logs, { contract })
}

/**
 * Hash of the transaction whose `Anchored(root, submitter)` log is in block `blockNumber` (the last one, if
 * several), or undefined when the block holds none (a reorg in progress).
 *
 * @example
 * const anchor = await getAnchor(client, { contract, submitter, root })
 * const txHash = anchor && (await findAnchorTransaction(client, { contract, root, submitter, blockNumber: anchor.blockNumber }))
 */
export async function findAnchorTransaction(
  client: Client,
  params: { contract: Address; root: Hex; submitter?: Address | undefined; blockNumber: bigint },
): Promise<Hex | undefined> {
  return (await findAnchoredEvents(client, params)).at(-1)?.transactionHash ?? undefined
}

/**
 * Parameters of {@link verifyInclusionOnChain}.
 *
 * @example
 * verifyInclusionOnChain(client, { contract, submitter, root, leaf, index: 0, path })
 */
export type VerifyInclusionOnChainParameters = {
  contract: Address
  /** Whose anchor of `root` the proof is checked against. */
  submitter: Address
  root: Hex
  /** The 32-byte leaf data (hashed on chain as sha256(0x00 || leaf)). */
  leaf: Hex
  index: number | bigint
  path: readonly Hex[]
}

/**
 * Asks the contract whether `path` proves `leaf` at `index` under `submitter`'s anchor of `root` (false if
 * `submitter` never anchored it).
 *
 * @example
 * const ok = await verifyInclusionOnChain(publicClient, { contract, submitter, root, leaf, index: 3, path })
 */
export async function verifyInclusionOnChain(
  client: Client,
  { contract, submitter, root, leaf, index, path }: VerifyInclusionOnChainParameters,
): Promise<boolean> {
  return withChainErrors(() =>
    readContract(client, {
      address: contract,
      abi: messageAnchorAbi,
      functionName: 'verifyInclusion',
      args: [submitter, root, leaf, BigInt(index), path],
    }),
  )
}

/**
 * Computes on chain the RFC 9162 root implied by an inclusion proof; throws ContractRevertError
 * (SEALPOST_ANCHOR_INVALID_PROOF) on a malformed proof.
 *
 * @example
 * const root = await computeRootOnChain(publicClient, { contract, leaf, index: 0, treeSize: 4, path })
 */
export async function computeRootOnChain(
  client: Client,
  {
    contract,
    leaf,
    index,
    treeSize,
    path,
  }: {
    contract: Address
    leaf: Hex
    index: number | bigint
    treeSize: number | bigint
    path: readonly Hex[]
  },
): Promise<Hex> {
  return withChainErrors(() =>
    readContract(client, {
      address: contract,
      abi: messageAnchorAbi,
      functionName: 'computeRoot',
      args: [leaf, BigInt(index), BigInt(treeSize), path],
    }),
  )
}

type Omit2<T, K extends PropertyKey> = { [P in keyof T as P extends K ? never : P]: T[P] }

/**
 * Actions added by {@link messageAnchorActions}, bound to one contract address.
 *
 * @example
 * const client = walletClient.extend(messageAnchorActions(contract))
 */
export type MessageAnchorActions = {
  anchorRoot(params: Omit2<AnchorRootParameters, 'contract'>): Promise<WriteResult>
  getAnchor(params: Omit2<GetAnchorParameters, 'contract'>): Promise<AnchorInfo | undefined>
  verifyInclusionOnChain(params: Omit2<VerifyInclusionOnChainParameters, 'contract'>): Promise<boolean>
  computeRootOnChain(params: {
    leaf: Hex
    index: number | bigint
    treeSize: number | bigint
    path: readonly Hex[]
  }): Promise<Hex>
}

/**
 * Client decorator binding the anchor actions to `contract`.
 *
 * @example
 * const client = walletClient.extend(messageAnchorActions(contract))
 * await client.anchorRoot({ root, leafCount: 10 })
 */
export function messageAnchorActions(contract: Address) {
  return (client: WriteClient): MessageAnchorActions => ({
    anchorRoot: (p) => anchorRoot(client, { ...p, contract }),
    getAnchor: (p) => getAnchor(client, { ...p, contract }),
    verifyInclusionOnChain: (p) => verifyInclusionOnChain(client, { ...p, contract }),
    computeRootOnChain: (p) => computeRootOnChain(client, { ...p, contract }),
  })
}
