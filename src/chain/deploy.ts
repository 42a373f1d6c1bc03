/** Deploys KeyRegistry and MessageAnchor and reports addresses, deploy block, tx hashes and gas. */
import type { Address, Client, Hex } from 'viem'
import { deployContract, waitForTransactionReceipt } from 'viem/actions'
import { keyRegistryAbi, keyRegistryBytecode } from '../../contracts/artifacts/KeyRegistry.js'
import { messageAnchorAbi, messageAnchorBytecode } from '../../contracts/artifacts/MessageAnchor.js'
import { ChainRequestError, NoAccountError, withChainErrors } from './errors.js'
import type { WriteClient } from './sendAndWait.js'

/**
 * Progress events of {@link deploySealpost}.
 *
 * @example
 * onProgress: (p: DeployProgress) => console.log(p.step, p.status)
 */
export type DeployProgress =
  | { step: 'keyRegistry' | 'messageAnchor'; status: 'sending' }
  | { step: 'keyRegistry' | 'messageAnchor'; status: 'mined'; address: Address; hash: Hex; gasUsed: bigint }

/**
 * Addresses and receipts data of a Sealpost deployment.
 *
 * @example
 * const { keyRegistry, deployBlock }: SealpostDeployment = await deploySealpost(w, p)
 */
export type SealpostDeployment = {
  keyRegistry: Address
  messageAnchor: Address
  /** First block that can hold Sealpost events (the KeyRegistry deployment block). */
  deployBlock: bigint
  txHashes: { keyRegistry: Hex; messageAnchor: Hex }
  gasUsed: { keyRegistry: bigint; messageAnchor: bigint }
}

/**
 * Deploys both contracts from the wallet client's account, one after the other, and waits for them.
 *
 * @example
 * const { keyRegistry, messageAnchor, deployBlock } = await deploySealpost(walletClient, publicClient, {
 *   onProgress: (p) => console.log(p.step, p.status),
 * })
 */
export async function deploySealpost(
  walletClient: WriteClient,
  publicClient: Client,
  { onProgress }: { onProgress?: ((p: DeployProgress) => void) | undefined } = {},
): Promise<SealpostDeployment> {
  const account = walletClient.account
  if (!account) {
    throw new NoAccountError({ action: 'deploy the contracts' })
  }
  const deployOne = async (step: 'keyRegistry' | 'messageAnchor') => {
    onProgress?.({ step, status: 'sending' })
    const hash = await withChainErrors(() =>
      step === 'keyRegistry'
        ? deployContract(walletClient, {
            abi: keyRegistryAbi,
            bytecode: keyRegistryBytecode,
            account,
            chain: walletClient.chain ?? null,
          })
        : deployContract(walletClient, {
            abi: messageAnchorAbi,
            bytecode: messageAnchorBytecode,
            account,
            chain: walletClient.chain ?? null,
          }),
    )
    const receipt = await withChainErrors(() => waitForTransactionReceipt(publicClient, { hash }))
    if (receipt.status !== 'success' || !receipt.contractAddress) {
      throw new ChainRequestError({ cause: new Error(`Deployment of ${step} failed (tx ${hash}).`) })
    }
    onProgress?.({ step, status: 'mined', address: receipt.contractAddress, hash, gasUsed: receipt.gasUsed })
    return { address: receipt.contractAddress, hash, gasUsed: receipt.gasUsed, block: receipt.blockNumber }
  }
  const registry = await deployOne('keyRegistry')
  const anchor = await deployOne('messageAnchor')
  return {
    keyRegistry: registry.address,
    messageAnchor: anchor.address,
    deployBlock: registry.block,
    txHashes: { keyRegistry: registry.hash, messageAnchor: anchor.hash },
    gasUsed: { keyRegistry: registry.gasUsed, messageAnchor: anchor.gasUsed },
  }
}
