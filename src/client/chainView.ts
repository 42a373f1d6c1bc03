/** One `ChainView` (devices and blocks as the verifier reads them), built from the registry watcher or contract reads. */
import { BlockNotFoundError, type Client, type Hex, type PublicClient } from 'viem'
import { getBlock } from 'viem/actions'
import { mapChainError, withChainErrors } from '../chain/errors.js'
import { getDevice } from '../chain/keyRegistry.js'
import type { RegistryWatcher } from '../chain/registryWatcher.js'
import type { ChainView } from './verifyStatement.js'

/**
 * A chain view for a live client: devices from the registry watcher, blocks cached, and a recent block for new
 * statements.
 *
 * @example const block = await chain.recentBlock()
 */
export type WatcherChainView = ChainView & {
  /** The latest block, fetched at most once per polling interval (statements only need a recent one). */
  recentBlock(): Promise<{ number: bigint; hash: Hex }>
}

/**
 * Builds the live client's chain view. Device lookups sync the watcher only when it is behind the block a statement
 * references, or does not know the device; block hashes are cached (1024 blocks).
 *
 * @example const chain = watcherChainView({ watcher, publicClient, chainId, pollingInterval: 1000 })
 */
export function watcherChainView({
  watcher,
  publicClient,
  chainId,
  pollingInterval,
}: {
  watcher: RegistryWatcher
  publicClient: PublicClient
  chainId: number
  pollingInterval: number
}): WatcherChainView {
  const blocks = new Map<bigint, { hash: Hex; timestamp: bigint }>()
  let latest: { number: bigint; hash: Hex; at: number } | undefined
  return {
    chainId,
    async device(deviceId, atLeastBlock) {
      if (watcher.syncedTo < atLeastBlock || !watcher.device(deviceId)) await watcher.sync()
      return watcher.device(deviceId)
    },
    async block(number) {
      const cached = blocks.get(number)
      if (cached) return cached
      const block = await publicClient.getBlock({ blockNumber: number }).catch((err) => {
        const mapped = mapChainError(err)
        if (mapped.code === 'SEALPOST_RPC_UNREACHABLE') throw mapped
        return undefined
      })
      if (!block?.hash) return undefined
      const value = { hash: block.hash, timestamp: block.timestamp }
      if (blocks.size > 1024) blocks.delete(blocks.keys().next().value as bigint)
      blocks.set(number, value)
      return value
    },
    async recentBlock() {
      if (latest && Date.now() - latest.at < Math.min(pollingInterval, 2000)) return latest
      const block = await publicClient.getBlock({ blockTag: 'latest' }).catch((err) => {
        throw mapChainError(err)
      })
      latest = { number: block.number, hash: block.hash, at: Date.now() }
      return latest
    },
  }
}

/**
 * Builds a chain view from contract reads alone (no watcher): devices read from the KeyRegistry (its one-slot record,
 * then the keys from its DeviceAdded event, see `getDevice`), blocks from the RPC, each read once. For third-party
 * verification, such as transcripts.
 *
 * @example const chain = contractChainView({ publicClient, chainId: 31337, keyRegistry })
 */
export function contractChainView({
  publicClient,
  chainId,
  keyRegistry,
}: {
  publicClient: Client
  chainId: number
  keyRegistry: Hex
}): ChainView {
  const devices = new Map<string, ReturnType<ChainView['device']>>()
  const blocks = new Map<bigint, ReturnType<ChainView['block']>>()
  return {
    chainId,
    device(deviceId) {
      const key = deviceId.toLowerCase()
      let found = devices.get(key)
      if (!found) {
        found = getDevice(publicClient, { registry: keyRegistry, deviceId })
        devices.set(key, found)
      }
      return found
    },
    block(number) {
      let found = blocks.get(number)
      if (!found) {
        found = withChainErrors(async () => {
          try {
            const block = await getBlock(publicClient, { blockNumber: number })
            return block.hash ? { hash: block.hash, timestamp: block.timestamp } : undefined
          } catch (err) {
            if (err instanceof BlockNotFoundError) return undefined
            throw err
          }
        })
        blocks.set(number, found)
      }
      return found
    },
  }
}
