/** Test helper: a real anvil with both Sealpost contracts deployed, plus viem clients for its ten accounts. */
import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { type Anvil, type StartAnvilOptions, startAnvil } from '../../src/chain/anvil.js'
import { deploySealpost } from '../../src/chain/deploy.js'

/**
 * A wallet client bound to one anvil account.
 *
 * @example
 * const alice: TestWalletClient = ctx.walletClients[1]!
 */
export type TestWalletClient = WalletClient<Transport, Chain, Account>

/**
 * Everything a chain-backed test needs.
 *
 * @example
 * const ctx: ChainContext = await setupChain()
 */
export type ChainContext = {
  anvil: Anvil
  publicClient: PublicClient<Transport, Chain>
  /** Wallet clients for anvil accounts 0..9 (local accounts; account 0 deployed the contracts). */
  walletClients: TestWalletClient[]
  /** Shorthand for walletClients[0]. */
  walletClient: TestWalletClient
  contracts: { keyRegistry: Address; messageAnchor: Address; statementVerifier: Address }
  deployBlock: bigint
  /** evm_snapshot; returns the snapshot id. */
  snapshot(): Promise<Hex>
  /** evm_revert to `id` (a snapshot can be reverted to once). */
  revert(id: Hex): Promise<void>
  /** Advances the chain by `blocks` empty blocks. */
  mine(blocks?: number): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts anvil, deploys KeyRegistry and MessageAnchor, and returns clients. Call once per test file.
 *
 * @example
 * let ctx: ChainContext
 * beforeAll(async () => { ctx = await setupChain() })
 * afterAll(() => ctx.stop())
 */
export async function setupChain(options: StartAnvilOptions = {}): Promise<ChainContext> {
  const anvil = await startAnvil(options)
  try {
    const transport = http(anvil.rpcUrl, { retryCount: 0 })
    const publicClient = createPublicClient({ chain: anvil.chain, transport, pollingInterval: 50 })
    const walletClients = anvil.accounts.map((key) =>
      createWalletClient({
        account: privateKeyToAccount(key),
        chain: anvil.chain,
        transport,
        pollingInterval: 50,
      }),
    )
    const walletClient = walletClients[0]!
    const deployment = await deploySealpost(walletClient, publicClient)
    const rpc = (method: string, params: unknown[] = []) =>
      publicClient.request({ method, params } as never) as Promise<unknown>
    return {
      anvil,
      publicClient,
      walletClients,
      walletClient,
      contracts: {
        keyRegistry: deployment.keyRegistry,
        messageAnchor: deployment.messageAnchor,
        statementVerifier: deployment.statementVerifier,
      },
      deployBlock: deployment.deployBlock,
      snapshot: async () => (await rpc('evm_snapshot')) as Hex,
      revert: async (id) => {
        const ok = await rpc('evm_revert', [id])
        if (ok !== true) throw new Error(`evm_revert(${id}) failed`)
      },
      mine: async (blocks = 1) => {
        await rpc('anvil_mine', [`0x${blocks.toString(16)}`])
      },
      stop: () => anvil.stop(),
    }
  } catch (err) {
    await anvil.stop()
    throw err
  }
}
