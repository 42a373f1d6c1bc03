/** Where a validator publishes its signed checkpoints and where a relayer reads them (one store per validator). */
import type { Hex } from 'viem'
import type { SignedCheckpoint } from './checkpoint.js'

/**
 * One validator's published signatures, by message id. Hyperlane's agents use a bucket or folder per validator
 * (announced on chain); Sealpost's TypeScript roles take any object with these two methods.
 *
 * @example
 * const store: CheckpointStore = memoryCheckpointStore()
 */
export type CheckpointStore = {
  put(signed: SignedCheckpoint): void
  get(messageId: Hex): SignedCheckpoint | undefined
}

/**
 * A store held in memory (tests, and validators running in the relayer's process).
 *
 * @example
 * const store = memoryCheckpointStore(); store.put(signed); store.get(signed.checkpoint.messageId)
 */
export function memoryCheckpointStore(): CheckpointStore & { readonly size: number } {
  const byId = new Map<string, SignedCheckpoint>()
  return {
    put(signed) {
      byId.set(signed.checkpoint.messageId.toLowerCase(), signed)
    },
    get(messageId) {
      return byId.get(messageId.toLowerCase())
    },
    get size() {
      return byId.size
    },
  }
}
