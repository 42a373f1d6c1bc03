/** Deploys KeyRegistry, MessageAnchor and StatementVerifier and reports addresses, deploy block, tx hashes and gas. */
import type { Address, Client, Hex } from 'viem'
import { deployContract, waitForTransactionReceipt } from 'viem/actions'
import { keyRegistryAbi, keyRegistryBytecode } from '../../contracts/artifacts/KeyRegistry.js'
import { messageAnchorAbi, messageAnchorBytecode } from '../../contracts/artifacts/MessageAnchor.js'
import {
  statementVerifierAbi,
  statementVerifierBytecode,
} from '../../contracts/artifacts/StatementVerifier.js'
import { ChainRequestError, NoAccountError, withChainErrors } from './errors.js'
import type { WriteClient } from './sendAndWait.js'
import { DEFAULT_ANCHOR_WINDOW_SECONDS } from './statementVerifier.js'

/** The contracts {@link deploySealpost} deploys, in order. @example const step: DeployStep = 'statementVerifier' */
export type DeployStep = 'keyRegistry' | 'messageAnchor' | 'statementVerifier'

/**
 * Progress events of {@link deploySealpost}.
 *
 * @example
 * onProgress: (p: DeployProgress) => console.log(p.step, p.status)
 */
export type DeployProgress =
  | { step: DeployStep; status: 'sending' }
  | { step: DeployStep; status: 'mined'; address: Address; hash: Hex; gasUsed: bigint }

/**
 * Addresses and receipts data of a Sealpost deployment.
 *
 * @example
 * const { keyRegistry, deployBlock }: SealpostDeployment = await deploySealpost(w, p)
 */
export type SealpostDeployment = {
  keyRegistry: Address
  messageAnchor: Address
  /** The StatementVerifier bound to both (W_anchor = 1 hour). */
  statementVerifier: Address
  /** First block that can hold Sealpost events (the KeyRegistry deployment block). */
  deployBlock: bigint
  txHashes: Record<DeployStep, Hex>
  gasUsed: Record<DeployStep, bigint>
}

/**
 * Deploys the three contracts from the wallet client's account, one after the other, and waits for them.
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
  const chain = walletClient.chain ?? null
  const deployOne = async (step: DeployStep, links: Address[] = []) => {
    onProgress?.({ step, status: 'sending' })
    const hash = await withChainErrors(() =>
      step === 'keyRegistry'
        ? deployContract(walletClient, { abi: keyRegistryAbi, bytecode: keyRegistryBytecode, account, chain })
        : step === 'messageAnchor'
          ? deployContract(walletClient, {
              abi: messageAnchorAbi,
              bytecode: messageAnchorBytecode,
              account,
              chain,
            })
          : deployContract(walletClient, {
              abi: statementVerifierAbi,
              bytecode: statementVerifierBytecode,
              args: [links[0]!, links[1]!, DEFAULT_ANCHOR_WINDOW_SECONDS],
              account,
              chain,
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
  const verifier = await deployOne('statementVerifier', [registry.address, anchor.address])
  return {
    keyRegistry: registry.address,
    messageAnchor: anchor.address,
    statementVerifier: verifier.address,
    deployBlock: registry.block,
    txHashes: { keyRegistry: registry.hash, messageAnchor: anchor.hash, statementVerifier: verifier.hash },
    gasUsed: {
      keyRegistry: registry.gasUsed,
      messageAnchor: anchor.gasUsed,
      statementVerifier: verifier.gasUsed,
    },
  }
}
