/** The anchorer's counters for the dashboard and the benchmarks, read from its store. */
import type { Hex } from 'viem'
import type { AnchorStore } from '../store/anchorStore.js'

/**
 * Counters for the dashboard and the benchmarks.
 *
 * @example const { pending, lastGasPerLeaf } = anchorer.stats()
 */
export type AnchorerStats = {
  /** Leaves waiting for a batch. */
  pending: number
  /** Leaves in batches being anchored (sent, retrying, or re-anchoring after a reorg). */
  inFlight: number
  batches: { total: number; anchoring: number; confirmed: number; final: number }
  receipts: number
  lastBatch?:
    | {
        batchId: number
        leafCount: number
        gasUsed: bigint
        gasPerLeaf: number
        blockNumber: bigint
        txHash: Hex
      }
    | undefined
  /** gasUsed / leafCount of the last confirmed batch. */
  lastGasPerLeaf?: number | undefined
  /** Code of the last failure, cleared by the next success. */
  lastError?: string | undefined
}

/**
 * Reads the counters from `store`; `lastError` is the code of the anchorer's last failure.
 *
 * @example const stats = anchorerStats(store, 'SEALPOST_RPC_UNREACHABLE')
 */
export function anchorerStats(store: AnchorStore, lastError: string | undefined): AnchorerStats {
  const last = store.lastConfirmedBatch()
  const lastBatch = last?.anchor
    ? {
        batchId: last.id,
        leafCount: last.leafCount,
        gasUsed: last.anchor.gasUsed,
        gasPerLeaf: Number(last.anchor.gasUsed) / last.leafCount,
        blockNumber: last.anchor.blockNumber,
        txHash: last.anchor.txHash,
      }
    : undefined
  return { ...store.counts(), lastBatch, lastGasPerLeaf: lastBatch?.gasPerLeaf, lastError }
}
