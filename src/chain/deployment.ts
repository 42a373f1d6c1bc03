/** The addresses of one Sealpost deployment: the type the chain layer, the relay and the clients share. */
import type { Address } from 'viem'

/** Addresses of the Sealpost contracts on one chain. */
export type Deployment = {
  chainId: number
  keyRegistry: Address
  messageAnchor: Address
  /** The StatementVerifier bound to both; absent in records made before it existed. */
  statementVerifier?: Address | undefined
  /** Block of the first deployment transaction; watchers backfill events from here. */
  deployBlock: bigint
  /** RPC URL the deployment was made through (informational). */
  rpcUrl?: string | undefined
}
