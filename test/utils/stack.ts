/** Test helper: a relay node that anchors quickly on a test chain, and live clients connected to it. */
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { Client } from '../../src/client/Client.js'
import { connectClient } from '../../src/client/connect.js'
import type { ClientParameters } from '../../src/client/types.js'
import { type RelayNode, startRelayNode } from '../../src/relay/node.js'
import type { ChainContext } from './anvil.js'
import { type TestNetwork, testKdf, testPassphrase } from './clients.js'

/**
 * A relay node on `dir` whose anchorer (anvil account 9) closes batches fast, for tests that wait for receipts.
 *
 * @example const node = await startTestRelayNode(ctx, net, dir)
 */
export function startTestRelayNode(ctx: ChainContext, net: TestNetwork, dir: string): Promise<RelayNode> {
  return startRelayNode({
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    dir,
    anchorAccount: privateKeyToAccount(ctx.anvil.accounts[9] as Hex),
    anchor: {
      batchSize: 64,
      batchIntervalMs: 200,
      confirmations: 1,
      pollingIntervalMs: 50,
      recheckIntervalMs: 500,
    },
    pollingInterval: 100,
  })
}

/**
 * A live client of anvil account `index` under `home`, registered if needed and connected to `node`.
 *
 * @example const alice = await connectTestClient(ctx, net, node, { index: 1, home })
 */
export function connectTestClient(
  ctx: ChainContext,
  net: TestNetwork,
  node: RelayNode,
  {
    index,
    home,
    beforeStart,
    inlineTreeBytes,
    inlineCommitBytes,
    inlineGroupInfoBytes,
    groups,
  }: {
    index: number
    home: string
    beforeStart?: ((client: Client) => void) | undefined
    inlineTreeBytes?: number | undefined
    inlineCommitBytes?: number | undefined
    inlineGroupInfoBytes?: number | undefined
    groups?: ClientParameters['groups']
  },
): Promise<Client> {
  return connectClient({
    account: net.account(index),
    home,
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    relay: node.url,
    passphrase: testPassphrase,
    kdf: testKdf,
    pollingInterval: 200,
    beforeStart,
    inlineTreeBytes,
    inlineCommitBytes,
    inlineGroupInfoBytes,
    groups,
  })
}
