/** One anchoring attempt of a batch: anchor its root (or adopt this anchorer's own earlier anchor), wait, persist its receipts. */
import { type Address, type Client, type Hex, stringToHex } from 'viem'
import { getBlock, getBlockNumber, getTransactionReceipt } from 'viem/actions'
import { withChainErrors } from '../chain/errors.js'
import { anchorRoot, findAnchorTransaction, getAnchor } from '../chain/messageAnchor.js'
import type { WriteClient } from '../chain/sendAndWait.js'
import type { AnchorBatch, AnchorStore } from '../store/anchorStore.js'
import { batchReceipts, batchTree } from './batchTree.js'
import { AnchorBatchCorruptError, AnchorerStoppedError, AnchorNotFoundError } from './errors.js'
import type { BatchConfirmedEvent, BatchSubmittedEvent, ReanchoredEvent } from './events.js'

/**
 * The chain side of the anchorer: who pays (and so whose anchors these are: `submitter` is the wallet's
 * address), who reads, which contract.
 *
 * @example const chain: AnchorChain = { walletClient, submitter: walletClient.account.address, publicClient, contract }
 */
export type AnchorChain = {
  walletClient: WriteClient
  submitter: Address
  publicClient: Client
  contract: Address
}

/**
 * Parameters of {@link anchorBatch}.
 *
 * @example anchorBatch({ chain, store, batch, chainId, confirmations: 1, pollingIntervalMs: 1000, isStopped })
 */
export type AnchorBatchParameters = {
  chain: AnchorChain
  store: AnchorStore
  batch: AnchorBatch
  /** Chain id written into the receipts. */
  chainId: number
  /** Blocks (including the anchor's) to wait before receipts are issued. */
  confirmations: number
  pollingIntervalMs: number
  /** Polled while waiting for confirmations; when true the attempt ends with `AnchorerStoppedError`. */
  isStopped: () => boolean
  /** Called once the root is anchored (by this attempt or an earlier one), before the confirmations wait. */
  onSubmitted?: ((event: BatchSubmittedEvent) => void) | undefined
}

/**
 * How an attempt ended: the batch is confirmed (its receipts persisted; `reanchored` set when it replaced an
 * anchor a reorg took).
 *
 * @example const result = await anchorBatch(params); emit(result.confirmed)
 */
export type AnchorBatchResult = {
  status: 'confirmed'
  confirmed: BatchConfirmedEvent
  reanchored: ReanchoredEvent | undefined
}

/**
 * One attempt at anchoring `batch`. MessageAnchor v2 keeps anchors per submitter, so only this anchorer's
 * own anchor matters: it first reads `anchorOf(wallet, root)`; if an earlier attempt or a crashed run of this
 * anchorer already anchored the root, that anchor is adopted (its transaction found through the contract's
 * `Anchored(root, wallet)` log). Anchors of the same root by anyone else (front-running, through any contract,
 * with any leaf count) are ignored: they neither block nor spoil this batch. Otherwise it sends one `anchor`
 * transaction. Then it waits for `confirmations` and persists one receipt (v2, naming the wallet as submitter)
 * per leaf with the batch's placement, atomically. Any failure throws (a chain error,
 * {@link AnchorNotFoundError} during a reorg, {@link AnchorerStoppedError}); the caller retries the batch.
 *
 * @example
 * const result = await anchorBatch({ chain, store, batch: store.openBatch()!, chainId, confirmations: 1, pollingIntervalMs: 500, isStopped: () => false })
 */
export async function anchorBatch(params: AnchorBatchParameters): Promise<AnchorBatchResult> {
  const { chain, store, batch, chainId } = params
  const leaves = store.batchLeaves(batch.id)
  const tree = batchTree(
    leaves.map((l) => l.leaf),
    batch.salt,
  )
  if (tree.root !== batch.root) throw new AnchorBatchCorruptError({ batchId: batch.id })

  let placed: { txHash: Hex; blockNumber: bigint; gasUsed: bigint }
  const { submitter } = chain
  const existing = await getAnchor(chain.publicClient, {
    contract: chain.contract,
    submitter,
    root: tree.root,
  })
  // A root anchored by this wallet with another leaf count cannot come from this batch (a batch's root fixes
  // its leaves); treat it as corruption rather than issue receipts that would not verify.
  if (existing && existing.leafCount !== tree.size) throw new AnchorBatchCorruptError({ batchId: batch.id })
  if (existing) {
    // Anchored already by an earlier attempt of ours (crash, lost response).
    const txHash = await findAnchorTransaction(chain.publicClient, {
      contract: chain.contract,
      root: tree.root,
      submitter,
      blockNumber: existing.blockNumber,
    })
    if (!txHash)
      throw new AnchorNotFoundError({
        root: tree.root,
        reason: `no Anchored log in block ${existing.blockNumber}`,
      })
    const tx = await withChainErrors(() => getTransactionReceipt(chain.publicClient, { hash: txHash }))
    placed = { txHash, blockNumber: existing.blockNumber, gasUsed: tx.gasUsed }
  } else {
    // Only our own earlier anchor reverts AlreadyAnchored (e.g. a lost response): it takes the retry path like
    // any failure, and the next attempt adopts it.
    const result = await anchorRoot(chain.walletClient, {
      contract: chain.contract,
      root: tree.root,
      leafCount: tree.size,
      meta: stringToHex(`sealpost/v1 batch ${batch.id}`),
    })
    placed = { txHash: result.hash, blockNumber: result.blockNumber, gasUsed: result.gasUsed }
  }
  params.onSubmitted?.({ batchId: batch.id, root: tree.root, leafCount: tree.size, txHash: placed.txHash })

  await waitConfirmations(params, submitter, tree.root, placed.blockNumber)
  const block = await withChainErrors(() => getBlock(chain.publicClient, { blockNumber: placed.blockNumber }))
  const receipts = batchReceipts({
    tree,
    leaves,
    chainId,
    contract: chain.contract,
    submitter,
    txHash: placed.txHash,
    blockNumber: placed.blockNumber,
    blockTimestamp: block.timestamp,
  })
  store.confirmBatch(
    batch.id,
    { ...placed, blockHash: block.hash, blockTimestamp: block.timestamp, confirmedAt: Date.now() },
    receipts,
  )
  return {
    status: 'confirmed',
    confirmed: {
      batchId: batch.id,
      root: tree.root,
      txHash: placed.txHash,
      blockNumber: placed.blockNumber,
      gasUsed: placed.gasUsed,
      leafCount: tree.size,
      gasPerLeaf: Number(placed.gasUsed) / tree.size,
    },
    reanchored: batch.previous && {
      batchId: batch.id,
      root: tree.root,
      previousTxHash: batch.previous.txHash,
      previousBlockNumber: batch.previous.blockNumber,
      txHash: placed.txHash,
      blockNumber: placed.blockNumber,
    },
  }
}

/** Polls until the anchor's block is `confirmations` deep, then checks the anchor is still in that block. */
async function waitConfirmations(
  { chain, confirmations, pollingIntervalMs, isStopped }: AnchorBatchParameters,
  submitter: Address,
  root: Hex,
  blockNumber: bigint,
): Promise<void> {
  const needed = BigInt(confirmations)
  for (;;) {
    if (isStopped()) throw new AnchorerStoppedError()
    const head = await withChainErrors(() => getBlockNumber(chain.publicClient, { cacheTime: 0 }))
    if (head - blockNumber + 1n >= needed) break
    await new Promise((ok) => setTimeout(ok, pollingIntervalMs))
  }
  if (needed > 1n) {
    const anchor = await getAnchor(chain.publicClient, { contract: chain.contract, submitter, root })
    if (anchor?.blockNumber !== blockNumber)
      throw new AnchorNotFoundError({
        root,
        reason: 'anchor moved or vanished while waiting for confirmations',
      })
  }
}
