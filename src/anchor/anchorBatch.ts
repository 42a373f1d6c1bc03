/** One anchoring attempt of a batch: anchor its root (or adopt an existing anchor), wait, persist its receipts. */
import { randomBytes } from 'node:crypto'
import { type Address, type Client, type Hex, stringToHex } from 'viem'
import { getBlock, getBlockNumber, getTransactionReceipt } from 'viem/actions'
import { withChainErrors } from '../chain/errors.js'
import { anchorRoot, findAnchorTransaction, getAnchor } from '../chain/messageAnchor.js'
import type { WriteClient } from '../chain/sendAndWait.js'
import type { AnchorBatch, AnchorStore } from '../store/anchorStore.js'
import { batchReceipts, batchTree } from './batchTree.js'
import {
  AnchorBatchCorruptError,
  AnchorerStoppedError,
  AnchorNotFoundError,
  AnchorRootConflictError,
} from './errors.js'
import type { BatchConfirmedEvent, BatchSubmittedEvent, ReanchoredEvent } from './events.js'

/**
 * The chain side of the anchorer: who pays, who reads, which contract.
 *
 * @example const chain: AnchorChain = { walletClient, publicClient, contract: deployment.messageAnchor }
 */
export type AnchorChain = { walletClient: WriteClient; publicClient: Client; contract: Address }

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
  /** Called once the root is anchored (by this attempt or adopted), before the confirmations wait. */
  onSubmitted?: ((event: BatchSubmittedEvent) => void) | undefined
}

/**
 * How an attempt ended: the batch is confirmed (its receipts persisted; `reanchored` set when it replaced an
 * anchor a reorg took), or it was re-batched with a fresh root because its root was taken.
 *
 * @example const result = await anchorBatch(params); if (result.status === 'confirmed') emit(result.confirmed)
 */
export type AnchorBatchResult =
  | { status: 'confirmed'; confirmed: BatchConfirmedEvent; reanchored: ReanchoredEvent | undefined }
  | { status: 'rebatched'; conflict: AnchorRootConflictError }

/**
 * One attempt at anchoring `batch`. It first reads `anchors(root)`: a root already anchored with the same
 * leaf count (by an earlier attempt, a crashed run or anyone else) is adopted, its transaction found through
 * the `Anchored` log; a root anchored with another leaf count gets a random extra leaf (a new root,
 * `rebatched`). Otherwise it sends one `anchor` transaction. Then it waits for `confirmations` and persists one
 * receipt per leaf with the batch's placement, atomically. Any failure throws (a chain error,
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
  const existing = await getAnchor(chain.publicClient, { contract: chain.contract, root: tree.root })
  if (existing) {
    // Anchored already: by an earlier attempt of ours (crash, lost response), or by someone else.
    if (existing.leafCount !== tree.size) return rebatch(store, batch, existing.leafCount)
    const txHash = await findAnchorTransaction(chain.publicClient, {
      contract: chain.contract,
      root: tree.root,
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
    // A lost race to an identical anchor reverts with AlreadyAnchored: it takes the retry path like any
    // failure (no busy loop while the winner is still pending), and the next attempt adopts the anchor.
    const result = await anchorRoot(chain.walletClient, {
      contract: chain.contract,
      root: tree.root,
      leafCount: tree.size,
      meta: stringToHex(`sealpost/v1 batch ${batch.id}`),
    })
    placed = { txHash: result.hash, blockNumber: result.blockNumber, gasUsed: result.gasUsed }
  }
  params.onSubmitted?.({ batchId: batch.id, root: tree.root, leafCount: tree.size, txHash: placed.txHash })

  await waitConfirmations(params, tree.root, placed.blockNumber)
  const block = await withChainErrors(() => getBlock(chain.publicClient, { blockNumber: placed.blockNumber }))
  const receipts = batchReceipts({
    tree,
    leaves,
    chainId,
    contract: chain.contract,
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

/** The root was taken with another leaf count: add a random leaf so the batch gets a fresh root. */
function rebatch(store: AnchorStore, batch: AnchorBatch, anchoredLeafCount: number): AnchorBatchResult {
  const salt = `0x${randomBytes(32).toString('hex')}` as Hex
  const tree = batchTree(
    store.batchLeaves(batch.id).map((l) => l.leaf),
    salt,
  )
  store.rebatch(batch.id, { root: tree.root, leafCount: tree.size, salt })
  return {
    status: 'rebatched',
    conflict: new AnchorRootConflictError({
      root: batch.root,
      leafCount: batch.leafCount,
      anchoredLeafCount,
    }),
  }
}

/** Polls until the anchor's block is `confirmations` deep, then checks the anchor is still in that block. */
async function waitConfirmations(
  { chain, confirmations, pollingIntervalMs, isStopped }: AnchorBatchParameters,
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
    const anchor = await getAnchor(chain.publicClient, { contract: chain.contract, root })
    if (anchor?.blockNumber !== blockNumber)
      throw new AnchorNotFoundError({
        root,
        reason: 'anchor moved or vanished while waiting for confirmations',
      })
  }
}
