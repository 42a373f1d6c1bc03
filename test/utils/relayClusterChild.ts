/** A relay node of a test cluster as its own process: options as JSON in argv[2]; prints its URL, stops on SIGTERM. */
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { RelayLimits } from '../../src/relay/limits.js'
import { startRelayNode } from '../../src/relay/node.js'

const o = JSON.parse(process.argv[2]!) as {
  rpc: string
  deployment: { chainId: number; keyRegistry: Hex; messageAnchor: Hex; deployBlock: string }
  dir: string
  nats: string[]
  anchorKey?: Hex
  lease?: { ttlMs: number; checkMs: number }
  limits?: Partial<RelayLimits>
}
const node = await startRelayNode({
  rpc: o.rpc,
  deployment: { ...o.deployment, deployBlock: BigInt(o.deployment.deployBlock) },
  dir: o.dir,
  pollingInterval: 100,
  anchorAccount: o.anchorKey ? privateKeyToAccount(o.anchorKey) : undefined,
  anchor: { batchIntervalMs: 200, confirmations: 1, pollingIntervalMs: 100 },
  nats: { servers: o.nats, lease: o.lease },
  limits: o.limits,
})
node.clusterAnchor?.on('lease', ({ held }) => console.log(held ? 'lease acquired' : 'lease lost'))
node.clusterAnchor?.on('error', (err) => console.error('anchor error', String(err)))
node.server.on('error', (err) => console.error('relay error', err.message, (err.cause as Error)?.stack))
console.log(`relay ${node.url}`)
process.on('SIGTERM', () => {
  void node.stop().finally(() => process.exit(0))
})
