/** Where a validator publishes its signed checkpoints and where a relayer reads them (one store per validator). */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
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

/**
 * A store in a directory: one JSON file `<messageId>.json` per signed checkpoint (`{ checkpoint, signature }`),
 * written to a temporary name and renamed, so a reader never sees half a file. What `sealpost validator` writes and a
 * relayer on the same machine (or behind any file server) reads.
 *
 * @example
 * const store = directoryCheckpointStore('/var/lib/sealpost/validator-0x…')
 */
export function directoryCheckpointStore(dir: string): CheckpointStore {
  mkdirSync(dir, { recursive: true })
  const file = (messageId: Hex) => join(dir, `${messageId.toLowerCase()}.json`)
  return {
    put(signed) {
      const target = file(signed.checkpoint.messageId)
      writeFileSync(`${target}.tmp`, `${JSON.stringify(signed)}\n`)
      renameSync(`${target}.tmp`, target)
    },
    get(messageId) {
      const f = file(messageId)
      if (!existsSync(f)) return undefined
      try {
        return JSON.parse(readFileSync(f, 'utf8')) as SignedCheckpoint
      } catch {
        return undefined // unreadable: treated as not published (the relayer recovers and checks every signature)
      }
    },
  }
}
