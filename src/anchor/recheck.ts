/** The reorg re-check: confirmed batches whose anchor vanished or moved go back to anchoring; deep ones become final. */
import { type Address, BlockNotFoundError, type Client, type Hex } from 'viem'
import { getBlock, getBlockNumber } from 'viem/actions'
import { withChainErrors } from '../chain/errors.js'
import { getAnchor } from '../chain/messageAnchor.js'
import type { AnchorStore } from '../store/anchorStore.js'

/**
 * What the re-check decides for one confirmed batch: `moved` (re-anchor or adopt the new anchor, reissue the
 * receipts), `final` (deep enough, stop checking) or `keep` (check again later).
 *
 * @example const verdict: RecheckVerdict = 'keep'
 */
export type RecheckVerdict = 'keep' | 'moved' | 'final'

/**
 * Decides the fate of a confirmed batch from what the chain says now. `anchorBlock` is the block `anchors(root)`
 * names (undefined: the root is no longer anchored); `chainBlockHash` the hash of the block at the stored height
 * (undefined: the chain is shorter now).
 *
 * @example recheckVerdict({ stored, anchorBlock: 7n, chainBlockHash: stored.blockHash, head: 30n, finalityDepth: 12 }) // 'final'
 */
export function recheckVerdict({
  stored,
  anchorBlock,
  chainBlockHash,
  head,
  finalityDepth,
}: {
  stored: { blockNumber: bigint; blockHash: Hex }
  anchorBlock: bigint | undefined
  chainBlockHash: Hex | undefined
  head: bigint
  finalityDepth: number
}): RecheckVerdict {
  if (anchorBlock !== stored.blockNumber || chainBlockHash !== stored.blockHash) return 'moved'
  return head - stored.blockNumber + 1n >= BigInt(finalityDepth) ? 'final' : 'keep'
}

/**
 * Parameters of {@link recheckBatches}.
 *
 * @example recheckBatches({ publicClient, contract, submitter, store, finalityDepth: 12 })
 */
export type RecheckBatchesParameters = {
  publicClient: Client
  contract: Address
  /** Whose anchors to follow (the anchorer's wallet). */
  submitter: Address
  store: AnchorStore
  finalityDepth: number
}

/**
 * Reads `anchorOf(submitter, root)` and the anchor's block for every confirmed batch and applies {@link recheckVerdict}:
 * a moved batch goes back to `anchoring` (the worker then re-anchors a vanished root or adopts the moved anchor,
 * and reissues its receipts), a deep one becomes `final`. Throws chain errors; batches handled before the
 * failure keep their new state.
 *
 * @example const { reopened } = await recheckBatches({ publicClient, contract, submitter, store, finalityDepth: 12 })
 */
export async function recheckBatches({
  publicClient,
  contract,
  submitter,
  store,
  finalityDepth,
}: RecheckBatchesParameters): Promise<{ reopened: number; finalized: number }> {
  const batches = store.confirmedBatches()
  let reopened = 0
  let finalized = 0
  if (batches.length === 0) return { reopened, finalized }
  const head = await withChainErrors(() => getBlockNumber(publicClient, { cacheTime: 0 }))
  for (const batch of batches) {
    const stored = batch.anchor ?? { blockNumber: 0n, blockHash: '0x' as Hex }
    const anchor = await getAnchor(publicClient, { contract, submitter, root: batch.root })
    // No need to read the block when the anchor itself moved.
    const chainBlockHash =
      anchor?.blockNumber === stored.blockNumber
        ? await blockHashAt(publicClient, stored.blockNumber)
        : undefined
    const verdict = recheckVerdict({
      stored,
      anchorBlock: anchor?.blockNumber,
      chainBlockHash,
      head,
      finalityDepth,
    })
    if (verdict === 'moved') {
      store.reopenBatch(batch.id)
      reopened++
    } else if (verdict === 'final') {
      store.finalizeBatch(batch.id)
      finalized++
    }
  }
  return { reopened, finalized }
}

async function blockHashAt(client: Client, blockNumber: bigint): Promise<Hex | undefined> {
  return withChainErrors(async () => {
    try {
      return (await getBlock(client, { blockNumber })).hash
    } catch (err) {
      if (err instanceof BlockNotFoundError) return undefined // the chain is shorter now
      throw err
    }
  })
}
