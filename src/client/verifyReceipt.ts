/** Verifies an anchoring receipt against the chain: Merkle inclusion, the submitter's anchor, its block, MessageAnchor's own event. */
import {
  type Address,
  BlockNotFoundError,
  type Client,
  type Hex,
  isAddressEqual,
  TransactionReceiptNotFoundError,
} from 'viem'
import { getBlock, getBlockNumber, getChainId, getTransactionReceipt } from 'viem/actions'
import { WrongChainError, withChainErrors } from '../chain/errors.js'
import { findAnchoredEvents, getAnchor } from '../chain/messageAnchor.js'
import { VerificationError } from '../errors.js'
import { rootFromInclusionProof } from '../protocol/merkle.js'
import { type Receipt, ReceiptFieldError, validateReceipt } from '../protocol/receipt.js'

/**
 * Names of the receipt checks, in the order they run.
 *
 * @example const step: ReceiptVerificationStepName = 'inclusion'
 */
export type ReceiptVerificationStepName =
  | 'chain'
  | 'inclusion'
  | 'anchored'
  | 'block'
  | 'event'
  | 'confirmations'

/**
 * One check with its verdict and the data behind it.
 *
 * @example const step: ReceiptVerificationStep = { name: 'anchored', ok: true, detail: 'anchored with 10 leaves' }
 */
export type ReceiptVerificationStep = { name: ReceiptVerificationStepName; ok: boolean; detail: string }

/**
 * A receipt failed one of the checks of {@link verifyReceipt}. `step` names the check.
 *
 * @example
 * const { error } = await verifyReceipt(client, { receipt, messageAnchor, chainId })
 * if (error) console.error(error.step, error.shortMessage)
 */
export class ReceiptVerificationError extends VerificationError {
  override name = 'ReceiptVerificationError' as const
  readonly step: ReceiptVerificationStepName
  constructor({ step, reason }: { step: ReceiptVerificationStepName; reason: string }) {
    super('Anchoring receipt does not verify.', {
      metaMessages: [`Step: ${step}`, `Reason: ${reason}`],
      code: 'SEALPOST_RECEIPT_INVALID',
    })
    this.step = step
  }
}

/**
 * Parameters of {@link verifyReceipt}.
 *
 * @example
 * const p: VerifyReceiptParameters = { receipt, messageAnchor: deployment.messageAnchor, chainId: 31337 }
 */
export type VerifyReceiptParameters = {
  receipt: Receipt
  /** The MessageAnchor contract the verifier trusts (not the one the receipt names). */
  messageAnchor: Address
  /** The chain the verifier expects; the RPC endpoint must serve it too. */
  chainId: number
  /** Confirmations required for the `confirmations` step to pass (default 1: included in a block). */
  minConfirmations?: number | bigint | undefined
}

/**
 * Result of {@link verifyReceipt}. `steps` lists the checks that ran; the first failing one ends the run
 * and is described by `error`.
 *
 * @example
 * const { ok, confirmations, steps } = await verifyReceipt(client, params)
 */
export type VerifyReceiptResult = {
  ok: boolean
  /** Blocks on top of (and including) the receipt's block, 0 if it is not on the chain. */
  confirmations: bigint
  steps: ReceiptVerificationStep[]
  error?: ReceiptVerificationError | undefined
}

/**
 * Verifies `receipt` against the chain behind `publicClient`, trusting neither the relay nor the anchorer:
 * 1. `chain`: receipt chainId and contract are the verifier's;
 * 2. `inclusion`: the audit path leads from `leaf` at `index` of `treeSize` to `root` (RFC 9162);
 * 3. `anchored`: `anchorOf(submitter, root)` exists on chain with `leafCount == treeSize` (a v1 receipt names
 *    no submitter: it is taken from the contract's `Anchored` event of the root in transaction `txHash`);
 * 4. `block`: the anchor's block number and timestamp, and the block's own timestamp, match the receipt;
 * 5. `event`: the contract itself emitted exactly one `Anchored(root, submitter)` in that block, in
 *    transaction `txHash`. Whoever sent the transaction and whatever contract it called first does not matter
 *    (the emitter is the binding); a look-alike contract's identical event never counts. If `txHash` is gone
 *    but the root is anchored in the receipt's block, the detail says the transaction was replaced (a reorg)
 *    and the anchorer's reissued receipt should be used;
 * 6. `confirmations`: at least `minConfirmations` blocks deep.
 *
 * Never throws for a bad receipt (it returns `ok: false` with a {@link ReceiptVerificationError}); throws only
 * chain errors (`RpcUnreachableError`, `ChainRequestError`, and `WrongChainError` when the RPC endpoint serves
 * another chain than `chainId`).
 *
 * @example
 * const result = await verifyReceipt(publicClient, { receipt, messageAnchor, chainId: 31337 })
 * if (!result.ok) console.log(result.error?.step, result.error?.details)
 */
export async function verifyReceipt(
  publicClient: Client,
  { receipt, messageAnchor, chainId, minConfirmations = 1 }: VerifyReceiptParameters,
): Promise<VerifyReceiptResult> {
  const steps: ReceiptVerificationStep[] = []
  let confirmations = 0n
  const pass = (name: ReceiptVerificationStepName, detail: string) => {
    steps.push({ name, ok: true, detail })
  }
  const fail = (name: ReceiptVerificationStepName, detail: string): VerifyReceiptResult => {
    steps.push({ name, ok: false, detail })
    return {
      ok: false,
      confirmations,
      steps,
      error: new ReceiptVerificationError({ step: name, reason: detail }),
    }
  }

  // 0. shape: a malformed field fails the step that would have used it.
  try {
    validateReceipt(receipt)
  } catch (err) {
    const field = err instanceof ReceiptFieldError ? err.field : 'receipt'
    return fail(stepOfField(field), `receipt field ${field} is malformed`)
  }

  // 1. chain
  const rpcChainId = await withChainErrors(() => getChainId(publicClient))
  if (rpcChainId !== chainId) throw new WrongChainError({ expected: chainId, actual: rpcChainId })
  if (receipt.chainId !== chainId)
    return fail('chain', `receipt is for chain ${receipt.chainId}, expected chain ${chainId}`)
  if (!isAddress20(receipt.contract) || !isAddressEqual(receipt.contract, messageAnchor))
    return fail('chain', `receipt names contract ${String(receipt.contract)}, expected ${messageAnchor}`)
  pass('chain', `chain ${chainId}, MessageAnchor ${messageAnchor}`)

  // 2. inclusion
  let computed: Hex
  try {
    computed = rootFromInclusionProof({
      leaf: receipt.leaf,
      index: receipt.index,
      treeSize: receipt.treeSize,
      path: receipt.path,
    })
  } catch (err) {
    const reason = err instanceof VerificationError ? err.metaMessages.join('; ') : 'malformed proof'
    return fail('inclusion', `inclusion proof is malformed (${reason})`)
  }
  if (!isBytes32(receipt.root) || computed !== receipt.root.toLowerCase())
    return fail('inclusion', `path leads to root ${computed}, receipt claims ${String(receipt.root)}`)
  pass('inclusion', `leaf ${receipt.index} of ${receipt.treeSize} leads to root ${computed}`)

  // 3. anchored (a v1 receipt's submitter is the one of the contract's event in its transaction)
  const root = receipt.root.toLowerCase() as Hex
  let submitter = receipt.submitter
  if (submitter === undefined) {
    const events = await findAnchoredEvents(publicClient, {
      contract: messageAnchor,
      root,
      blockNumber: receipt.blockNumber,
    })
    submitter = events.find(
      (e) => e.transactionHash?.toLowerCase() === receipt.txHash.toLowerCase(),
    )?.submitter
    if (submitter === undefined)
      return fail(
        'anchored',
        `v1 receipt: MessageAnchor emitted no Anchored(${root}) in transaction ${receipt.txHash} in block ${receipt.blockNumber}`,
      )
  }
  const anchor = await getAnchor(publicClient, { contract: messageAnchor, submitter, root })
  if (anchor === undefined)
    return fail('anchored', `root ${receipt.root} is not anchored on chain by ${submitter}`)
  if (anchor.leafCount !== receipt.treeSize)
    return fail(
      'anchored',
      `root anchored with ${anchor.leafCount} leaves, receipt claims ${receipt.treeSize}`,
    )
  pass('anchored', `root anchored by ${anchor.submitter} with ${anchor.leafCount} leaves`)

  // 4. block
  const head = await withChainErrors(() => getBlockNumber(publicClient, { cacheTime: 0 }))
  if (anchor.blockNumber !== receipt.blockNumber)
    return fail(
      'block',
      `root anchored in block ${anchor.blockNumber}, receipt claims ${receipt.blockNumber}`,
    )
  if (anchor.timestamp !== receipt.blockTimestamp)
    return fail('block', `anchor timestamp is ${anchor.timestamp}, receipt claims ${receipt.blockTimestamp}`)
  confirmations = head >= receipt.blockNumber ? head - receipt.blockNumber + 1n : 0n
  const block = await withChainErrors(async () => {
    try {
      return await getBlock(publicClient, { blockNumber: receipt.blockNumber })
    } catch (err) {
      if (err instanceof BlockNotFoundError) return undefined
      throw err
    }
  })
  if (block === null || block === undefined)
    return fail('block', `block ${receipt.blockNumber} does not exist`)
  if (block.timestamp !== receipt.blockTimestamp)
    return fail('block', `block timestamp is ${block.timestamp}, receipt claims ${receipt.blockTimestamp}`)
  pass('block', `block ${receipt.blockNumber} (${block.hash}) at ${receipt.blockTimestamp}`)

  // 5. event: MessageAnchor's own Anchored(root, submitter) log, whatever the call path.
  const events = await findAnchoredEvents(publicClient, {
    contract: messageAnchor,
    root,
    submitter,
    blockNumber: receipt.blockNumber,
  })
  if (events.length !== 1)
    return fail(
      'event',
      `MessageAnchor emitted ${events.length} Anchored(${root}, ${submitter}) events in block ${receipt.blockNumber}, expected 1`,
    )
  const [event] = events as [(typeof events)[number]]
  if (event.transactionHash?.toLowerCase() !== receipt.txHash.toLowerCase()) {
    const replaced = `; root ${root} is anchored in block ${receipt.blockNumber} by transaction ${event.transactionHash} (replaced after a reorg?): ask the anchorer for the reissued receipt`
    const txReceipt = await withChainErrors(async () => {
      try {
        return await getTransactionReceipt(publicClient, { hash: receipt.txHash })
      } catch (err) {
        if (err instanceof TransactionReceiptNotFoundError) return undefined
        throw err
      }
    })
    return fail(
      'event',
      txReceipt === undefined
        ? `transaction ${receipt.txHash} not found${replaced}`
        : `transaction ${receipt.txHash} did not anchor this root${replaced}`,
    )
  }
  pass(
    'event',
    `MessageAnchor emitted Anchored(root, ${submitter}) in transaction ${receipt.txHash}, block ${receipt.blockNumber}`,
  )

  // 6. confirmations
  const min = BigInt(minConfirmations)
  if (confirmations < min) return fail('confirmations', `${confirmations} confirmations, need ${min}`)
  pass('confirmations', `${confirmations} confirmations (head ${head})`)
  return { ok: true, confirmations, steps }
}

function stepOfField(field: string): ReceiptVerificationStepName {
  if (field === 'txHash') return 'event'
  if (field === 'blockNumber' || field === 'blockTimestamp') return 'block'
  if (field === 'chainId' || field === 'contract' || field === 'receipt') return 'chain'
  if (field === 'submitter') return 'anchored'
  return 'inclusion'
}

function isAddress20(value: unknown): value is Address {
  return typeof value === 'string' && /^0x[0-9a-fA-F]{40}$/.test(value)
}

function isBytes32(value: unknown): value is Hex {
  return typeof value === 'string' && /^0x[0-9a-fA-F]{64}$/.test(value)
}
