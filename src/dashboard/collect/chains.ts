/** Several chains on the dashboard (`up --chains 2`): each chain's height and health, and the mirroring lag A → B. */
import { type Address, createPublicClient, http, type PublicClient } from 'viem'
import type { ChainsEvent } from '../events.js'
import type { Collector } from './collector.js'
import { MirrorLagTracker } from './mirrorLag.js'

/**
 * A chain the dashboard watches.
 *
 * @example const chain: WatchedChain = { name: 'A', rpc: 'http://127.0.0.1:8545', chainId: 31337 }
 */
export type WatchedChain = { name: string; rpc: string; chainId: number }

/**
 * The mirror pair whose lag the dashboard shows: A's registry and anchor contract, B's mirror.
 *
 * @example const mirror: WatchedMirror = { originRpc, destinationRpc, keyRegistry, messageAnchor, mirror, fromBlock: 12n }
 */
export type WatchedMirror = {
  originRpc: string
  destinationRpc: string
  keyRegistry: Address
  messageAnchor: Address
  mirror: Address
  fromBlock: bigint
}

/**
 * One chain's status: its newest block and that block's age; a chain whose RPC does not answer within `timeoutMs`
 * is down (head 0).
 *
 * @example const status = await sampleChain(client, { name: 'B', rpc, chainId: 31338 })
 */
export async function sampleChain(
  client: PublicClient,
  chain: WatchedChain,
  now = Date.now(),
): Promise<ChainsEvent['chains'][number]> {
  try {
    const block = await client.getBlock({ blockTag: 'latest' })
    return {
      ...chain,
      up: true,
      head: Number(block.number),
      headAgeSeconds: Math.max(0, now / 1000 - Number(block.timestamp)),
    }
  } catch {
    return { ...chain, up: false, head: 0, headAgeSeconds: 0 }
  }
}

/**
 * Emits a `chains` event every `intervalMs` (default 1000): each chain's height and health and, with `mirror`, the
 * mirroring lag ({@link MirrorLagTracker}; left out of a sample in which A or B does not answer).
 *
 * @example const detach = attachChains(collector, { chains: [a, b], mirror })
 */
export function attachChains(
  collector: Collector,
  {
    chains,
    mirror,
    intervalMs = 1000,
  }: { chains: WatchedChain[]; mirror?: WatchedMirror | undefined; intervalMs?: number },
): () => void {
  const client = (rpc: string) =>
    createPublicClient({ transport: http(rpc, { retryCount: 0, timeout: 2000 }) }) as PublicClient
  const clients = chains.map((c) => client(c.rpc))
  const tracker =
    mirror &&
    new MirrorLagTracker({
      origin: client(mirror.originRpc),
      destination: client(mirror.destinationRpc),
      keyRegistry: mirror.keyRegistry,
      messageAnchor: mirror.messageAnchor,
      mirror: mirror.mirror,
      fromBlock: mirror.fromBlock,
    })
  let sampling = false
  const timer = setInterval(() => {
    if (sampling) return
    sampling = true
    const at = Date.now()
    void Promise.all([
      Promise.all(chains.map((c, i) => sampleChain(clients[i] as PublicClient, c, at))),
      tracker?.poll(at).catch(() => undefined),
    ])
      .then(([statuses, lag]) =>
        collector.hub.emit({ type: 'chains', at, chains: statuses, ...(lag ? { mirror: lag } : {}) }),
      )
      .finally(() => {
        sampling = false
      })
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
