/** A batch's tree and receipts: closing pending leaves into a batch, its RFC 6962 tree, one receipt per leaf. */
import type { Address, Hex } from 'viem'
import { buildMerkleTree, inclusionProof, type MerkleTree } from '../protocol/merkle.js'
import type { AnchorBatchLeaf, AnchorStore, StoredReceipt } from '../store/anchorStore.js'

/**
 * The tree of a batch: its leaves in order, then the random `salt` leaf of a batch re-batched by an older
 * anchorer (before MessageAnchor v2, which made re-batching unnecessary), if any.
 *
 * @example const tree = batchTree(leaves.map((l) => l.leaf), batch.salt)
 */
export function batchTree(leaves: readonly Hex[], salt?: Hex | undefined): MerkleTree {
  return buildMerkleTree(salt ? [...leaves, salt] : [...leaves])
}

/**
 * Closes the oldest `batchSize` pending leaves into a new batch with their root; returns the batch id, or
 * undefined when nothing is pending.
 *
 * @example const batchId = closeBatch(store, { batchSize: 256, now: Date.now() })
 */
export function closeBatch(
  store: AnchorStore,
  { batchSize, now }: { batchSize: number; now: number },
): number | undefined {
  const rows = store.pendingLeaves(batchSize)
  if (rows.length === 0) return undefined
  const tree = batchTree(rows.map((r) => r.leaf))
  return store.createBatch({ root: tree.root, seqs: rows.map((r) => r.seq), createdAt: now })
}

/**
 * Parameters of {@link batchReceipts}: the batch's tree and leaves, and where its root was anchored.
 *
 * @example const p: BatchReceiptsParameters = { tree, leaves, chainId, contract, submitter, txHash, blockNumber, blockTimestamp }
 */
export type BatchReceiptsParameters = {
  tree: MerkleTree
  leaves: readonly AnchorBatchLeaf[]
  chainId: number
  contract: Address
  /** Who anchored the root (the anchorer's wallet). */
  submitter: Address
  txHash: Hex
  blockNumber: bigint
  blockTimestamp: bigint
}

/**
 * One receipt per leaf (the salt leaf of a re-batch gets none), each with its inclusion proof.
 *
 * @example store.confirmBatch(batch.id, placement, batchReceipts({ tree, leaves, chainId, contract, ...anchor }))
 */
export function batchReceipts({
  tree,
  leaves,
  chainId,
  contract,
  submitter,
  txHash,
  blockNumber,
  blockTimestamp,
}: BatchReceiptsParameters): StoredReceipt[] {
  return leaves.map((l, index) => ({
    leaf: l.leaf,
    topic: l.topic,
    receipt: {
      chainId,
      contract,
      submitter,
      root: tree.root,
      leaf: l.leaf,
      index,
      treeSize: tree.size,
      path: inclusionProof(tree, index),
      txHash,
      blockNumber,
      blockTimestamp,
    },
  }))
}
