/** Sends one contract write, waits for its receipt, and maps every failure to a Sealpost error. */
import type { Account, Address, Chain, Client, Hex, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ContractRevertError, InsufficientFundsError, NoAccountError, withChainErrors } from './errors.js'

/**
 * A client that can send transactions (a wallet client), optionally overriding its account.
 *
 * @example
 * const client: WriteClient = createWalletClient({ account, chain, transport: http(url) })
 */
export type WriteClient = Client<Transport, Chain | undefined, Account | undefined>

/**
 * Result of a confirmed write.
 *
 * @example
 * const { hash, gasUsed }: WriteResult = await addDevice(client, params)
 */
export type WriteResult = { hash: Hex; receipt: TransactionReceipt; blockNumber: bigint; gasUsed: bigint }

/**
 * A contract write as {@link sendAndWait} takes it.
 *
 * @example
 * const request: WriteRequest = { address, abi: messageAnchorAbi, functionName: 'anchor', args: [root, 4n, '0x'] }
 */
export type WriteRequest = {
  address: Address
  abi: readonly unknown[]
  functionName: string
  args: readonly unknown[]
}

/**
 * Sends a contract write from `sender` (default: the client's account), waits for `confirmations` (default 1),
 * and maps every failure to a Sealpost error: {@link NoAccountError} without an account, `ContractRevertError`
 * for a revert or a receipt with status 0, `InsufficientFundsError` (naming the payer) when it cannot pay, `RpcUnreachableError` / `ChainRequestError` otherwise.
 *
 * @example
 * const { hash, gasUsed } = await sendAndWait(client, { address, abi, functionName: 'anchor', args }, undefined)
 */
export async function sendAndWait(
  client: WriteClient,
  request: WriteRequest,
  sender: Account | Address | undefined,
  confirmations = 1,
): Promise<WriteResult> {
  const account = sender ?? client.account
  if (!account) throw new NoAccountError({ action: 'send the transaction' })
  try {
    return await withChainErrors(async () => {
      const hash = await writeContract(client, { ...request, account, chain: client.chain ?? null } as never)
      const receipt = await waitForTransactionReceipt(client, { hash, confirmations })
      if (receipt.status !== 'success') {
        throw new ContractRevertError({ functionName: request.functionName })
      }
      return { hash, receipt, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed }
    })
  } catch (err) {
    // Name the payer: the node's message does not, and the caller needs to know whom to fund.
    if (err instanceof InsufficientFundsError && !err.account)
      throw new InsufficientFundsError({
        account: typeof account === 'string' ? account : account.address,
        cause: err.cause,
      })
    throw err
  }
}
