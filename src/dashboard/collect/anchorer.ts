/** What the anchorer reports: batches submitted, confirmed (with their gas and lag) or re-anchored, and failures. */
import type { Anchorer, AnchorerEvents } from '../../anchor/Anchorer.js'
import type { AlertEvent } from '../events.js'
import type { Collector } from './collector.js'

/**
 * Feeds the hub from an anchorer's events: one `batch` event per state change, an alert per reorg or failure.
 *
 * @example const detach = attachAnchorer(collector, node.anchorer)
 */
export function attachAnchorer(collector: Collector, anchorer: Anchorer): () => void {
  const { hub } = collector
  /** When each pending leaf arrived, oldest first (a batch's lag is measured from its oldest leaf). */
  const pendingLeaves: number[] = []
  const onLeaf = () => {
    pendingLeaves.push(Date.now())
  }
  const onSubmitted = (e: AnchorerEvents['batch-submitted'][0]) =>
    hub.emit({
      type: 'batch',
      at: Date.now(),
      status: 'submitted',
      batchId: e.batchId,
      root: e.root,
      leafCount: e.leafCount,
      txHash: e.txHash,
    })
  const onConfirmed = (e: AnchorerEvents['batch-confirmed'][0]) => {
    const oldest = pendingLeaves.splice(0, e.leafCount)[0]
    hub.emit({
      type: 'batch',
      at: Date.now(),
      status: 'confirmed',
      batchId: e.batchId,
      root: e.root,
      leafCount: e.leafCount,
      txHash: e.txHash,
      blockNumber: e.blockNumber.toString(),
      gasUsed: e.gasUsed.toString(),
      gasPerLeaf: e.gasPerLeaf,
      ...(oldest ? { lagMs: Date.now() - oldest } : {}),
    })
  }
  const onReanchored = (e: AnchorerEvents['reanchored'][0]) => {
    hub.emit({
      type: 'batch',
      at: Date.now(),
      status: 'reanchored',
      batchId: e.batchId,
      root: e.root,
      leafCount: 1,
      txHash: e.txHash,
      blockNumber: e.blockNumber.toString(),
    })
    hub.emit(reanchoredAlert(e))
  }
  const onError = (e: AnchorerEvents['error'][0]) =>
    hub.emit({
      type: 'alert',
      at: Date.now(),
      source: 'anchorer',
      severity: 'warning',
      code: e.error.code,
      message: e.error.shortMessage.slice(0, 500),
    })
  anchorer.on('leaf', onLeaf)
  anchorer.on('batch-submitted', onSubmitted)
  anchorer.on('batch-confirmed', onConfirmed)
  anchorer.on('reanchored', onReanchored)
  anchorer.on('error', onError)
  return () => {
    anchorer.off('leaf', onLeaf)
    anchorer.off('batch-submitted', onSubmitted)
    anchorer.off('batch-confirmed', onConfirmed)
    anchorer.off('reanchored', onReanchored)
    anchorer.off('error', onError)
  }
}

/**
 * The alert for a re-anchored batch. A reorg replaces blocks, so the chain then reaches at least the block the
 * anchor was in; an anchor that "vanished" from a block the chain has not even reached belongs to another chain
 * (an anchorer database left by an earlier run against a fresh local chain): that is said as such, as info, not
 * as a reorg.
 *
 * @example hub.emit(reanchoredAlert(event))
 */
export function reanchoredAlert(e: AnchorerEvents['reanchored'][0]): AlertEvent {
  if (e.blockNumber < e.previousBlockNumber)
    return {
      type: 'alert',
      at: Date.now(),
      source: 'anchorer',
      severity: 'info',
      code: 'ANCHOR_STATE_FOREIGN',
      message:
        `Batch ${e.batchId} was recorded at block ${e.previousBlockNumber}, past this chain's head: the anchorer's ` +
        `database comes from another chain (an earlier run). Anchored again here at block ${e.blockNumber}.`,
    }
  return {
    type: 'alert',
    at: Date.now(),
    source: 'anchorer',
    severity: 'warning',
    code: 'ANCHOR_REORGED',
    message: `Batch ${e.batchId} was removed by a reorg and anchored again.`,
  }
}
