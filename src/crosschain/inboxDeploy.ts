/** Deploys a pair of SealpostInbox contracts, one per chain, each enrolling the other as its only remote inbox. */
import { type Address, type Client, getContractAddress, type Hex, isAddressEqual } from 'viem'
import { deployContract, getTransactionCount, waitForTransactionReceipt } from 'viem/actions'
import { sealpostInboxAbi, sealpostInboxBytecode } from '../../contracts/artifacts/SealpostInbox.js'
import { ChainRequestError, NoAccountError, withChainErrors } from '../chain/errors.js'
import type { WriteClient } from '../chain/sendAndWait.js'
import type { HyperlaneCore } from './deploy.js'
import { addressToBytes32 } from './message.js'

/**
 * One chain's end of an inbox pair: where to deploy, and that chain's Hyperlane core (its Mailbox, and the ISM that
 * verifies deliveries to this inbox).
 *
 * @example
 * const end: InboxPairEnd = { wallet: walletA, client: clientA, core: coreA }
 */
export type InboxPairEnd = {
  wallet: WriteClient
  client: Client
  core: Pick<HyperlaneCore, 'domain' | 'mailbox' | 'ism'>
}

/**
 * A deployed inbox pair: the inbox on each chain, by domain, and their deployment blocks (the first blocks that can
 * hold their `EnvelopeReceived` logs) and gas.
 *
 * @example
 * const { a, b }: InboxPair = await deployInboxPair({ a: endA, b: endB })
 */
export type InboxPair = {
  a: { domain: number; inbox: Address; deployBlock: bigint; gasUsed: bigint }
  b: { domain: number; inbox: Address; deployBlock: bigint; gasUsed: bigint }
}

async function deployInbox(
  end: InboxPairEnd,
  remote: { domain: number; inbox: Address },
): Promise<{ address: Address; block: bigint; gasUsed: bigint }> {
  const account = end.wallet.account
  if (!account) throw new NoAccountError({ action: 'deploy SealpostInbox' })
  const hash: Hex = await withChainErrors(() =>
    deployContract(end.wallet, {
      abi: sealpostInboxAbi,
      bytecode: sealpostInboxBytecode,
      args: [end.core.mailbox, end.core.ism, [remote.domain], [addressToBytes32(remote.inbox)]],
      account,
      chain: end.wallet.chain ?? null,
    }),
  )
  const receipt = await withChainErrors(() => waitForTransactionReceipt(end.client, { hash }))
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new ChainRequestError({ cause: new Error(`Deployment of SealpostInbox failed (tx ${hash}).`) })
  return { address: receipt.contractAddress, block: receipt.blockNumber, gasUsed: receipt.gasUsed }
}

/**
 * Deploys SealpostInbox on chain A enrolling B's inbox, then on chain B enrolling A's. B's address is predicted from
 * its deployer's next nonce (the pair has no owner and nothing to set later), and checked once deployed: a deployer
 * that sends another transaction on B in between makes this throw `ChainRequestError`. Use different deployers on
 * the two chains (the same account and nonces would give both inboxes one address and hide a wrong-chain mistake).
 *
 * @example
 * const pair = await deployInboxPair({ a: { wallet: walletA, client: clientA, core: coreA }, b: { wallet: walletB, client: clientB, core: coreB } })
 */
export async function deployInboxPair({ a, b }: { a: InboxPairEnd; b: InboxPairEnd }): Promise<InboxPair> {
  const deployerB = b.wallet.account?.address
  if (!deployerB) throw new NoAccountError({ action: 'deploy SealpostInbox' })
  const nonce = await withChainErrors(() =>
    getTransactionCount(b.client, { address: deployerB, blockTag: 'pending' }),
  )
  const predictedB = getContractAddress({ from: deployerB, nonce: BigInt(nonce) })
  const inboxA = await deployInbox(a, { domain: b.core.domain, inbox: predictedB })
  const inboxB = await deployInbox(b, { domain: a.core.domain, inbox: inboxA.address })
  if (!isAddressEqual(inboxB.address, predictedB))
    throw new ChainRequestError({
      cause: new Error(
        `SealpostInbox on domain ${b.core.domain} landed at ${inboxB.address}, not the ${predictedB} that the inbox on domain ${a.core.domain} enrolled (the deployer sent another transaction in between).`,
      ),
    })
  return {
    a: { domain: a.core.domain, inbox: inboxA.address, deployBlock: inboxA.block, gasUsed: inboxA.gasUsed },
    b: { domain: b.core.domain, inbox: inboxB.address, deployBlock: inboxB.block, gasUsed: inboxB.gasUsed },
  }
}
