/** The on-chain authorship verifier: calldata for StatementVerifier.verify, and its verdict read with one eth_call. */
import {
  type Address,
  type Client,
  ContractFunctionRevertedError,
  encodeFunctionData,
  type Hex,
  toHex,
  BaseError as ViemBaseError,
} from 'viem'
import { readContract } from 'viem/actions'
import { statementVerifierAbi } from '../../contracts/artifacts/StatementVerifier.js'
import { getBlockHeaderRlp } from './blockHeader.js'
import { ContractRevertError, mapChainError } from './errors.js'
import { getDevice } from './keyRegistry.js'

/**
 * Default W_anchor of a deployed StatementVerifier, in seconds (protocol §11.1's default anchor window).
 *
 * @example DEFAULT_ANCHOR_WINDOW_SECONDS // 3600
 */
export const DEFAULT_ANCHOR_WINDOW_SECONDS = 3600n

/**
 * The receipt fields the contract reads: who anchored `root`, and the leaf's audit path (RFC 9162).
 *
 * @example const r: OnChainReceipt = { submitter, root, index: 3, treeSize: 10, path }
 */
export type OnChainReceipt = {
  submitter: Address
  root: Hex
  index: number | bigint
  treeSize: number | bigint
  path: readonly Hex[]
}

/**
 * Every argument of `StatementVerifier.verify`, resolved.
 *
 * @example const input: VerifyCallInput = await prepareVerifyCall(publicClient, { verifier, statement, signature, receipt })
 */
export type VerifyCallInput = {
  /** The 274 encoded statement bytes (its exact signing input after the label). */
  statement: Hex
  /** 64 bytes r ‖ s. */
  signature: Hex
  deviceId: Hex
  key: { p256X: Hex; p256Y: Hex }
  /** RLP header of the block after the statement's referenced block. */
  successorHeader: Hex
  receipt: OnChainReceipt
}

/**
 * The check a StatementVerifier error belongs to; the names match the off-chain verifier's steps.
 *
 * @example const step: OnChainStepName = 'signature'
 */
export type OnChainStepName =
  | 'statement'
  | 'chain'
  | 'sender-binding'
  | 'device-registered'
  | 'block-reference'
  | 'signature'
  | 'key-valid-at-block'
  | 'inclusion'
  | 'anchored'
  | 'time-bounds'

/**
 * Each custom error of StatementVerifier with its check and stable code (docs/errors.md, docs/protocol.md §15).
 *
 * @example statementVerifierErrors.KeyRevoked.step // 'key-valid-at-block'
 */
export const statementVerifierErrors = {
  MalformedStatement: { step: 'statement', code: 'SEALPOST_VERIFIER_MALFORMED_STATEMENT' },
  MalformedSignature: { step: 'statement', code: 'SEALPOST_VERIFIER_MALFORMED_SIGNATURE' },
  WrongChain: { step: 'chain', code: 'SEALPOST_VERIFIER_WRONG_CHAIN' },
  WrongRegistry: { step: 'chain', code: 'SEALPOST_VERIFIER_WRONG_REGISTRY' },
  DeviceMismatch: { step: 'sender-binding', code: 'SEALPOST_VERIFIER_DEVICE_MISMATCH' },
  KeyMismatch: { step: 'device-registered', code: 'SEALPOST_VERIFIER_KEY_MISMATCH' },
  DeviceNotRegistered: { step: 'device-registered', code: 'SEALPOST_VERIFIER_UNKNOWN_DEVICE' },
  BlockUnavailable: { step: 'block-reference', code: 'SEALPOST_VERIFIER_BLOCK_UNAVAILABLE' },
  MalformedHeader: { step: 'block-reference', code: 'SEALPOST_VERIFIER_MALFORMED_HEADER' },
  BlockReferenceMismatch: { step: 'block-reference', code: 'SEALPOST_VERIFIER_BLOCK_REFERENCE' },
  NonCanonicalSignature: { step: 'signature', code: 'SEALPOST_VERIFIER_NON_CANONICAL_SIGNATURE' },
  StatementSignatureInvalid: { step: 'signature', code: 'SEALPOST_VERIFIER_INVALID_SIGNATURE' },
  KeyNotYetValid: { step: 'key-valid-at-block', code: 'SEALPOST_VERIFIER_KEY_NOT_YET_VALID' },
  KeyRevoked: { step: 'key-valid-at-block', code: 'SEALPOST_VERIFIER_KEY_REVOKED' },
  NotIncluded: { step: 'inclusion', code: 'SEALPOST_VERIFIER_NOT_INCLUDED' },
  NotAnchored: { step: 'anchored', code: 'SEALPOST_VERIFIER_NOT_ANCHORED' },
  TreeSizeMismatch: { step: 'anchored', code: 'SEALPOST_VERIFIER_TREE_SIZE_MISMATCH' },
  AnchorNotAfterBlock: { step: 'time-bounds', code: 'SEALPOST_VERIFIER_ANCHOR_NOT_AFTER_BLOCK' },
  AnchorWindowExceeded: { step: 'time-bounds', code: 'SEALPOST_VERIFIER_ANCHOR_WINDOW' },
  RevokedBeforeAnchor: { step: 'time-bounds', code: 'SEALPOST_VERIFIER_REVOKED_BEFORE_ANCHOR' },
} as const satisfies Record<string, { step: OnChainStepName; code: `SEALPOST_${string}` }>

/**
 * Name of a StatementVerifier custom error.
 *
 * @example const name: StatementVerifierErrorName = 'NotAnchored'
 */
export type StatementVerifierErrorName = keyof typeof statementVerifierErrors

/**
 * What `verify` returned for an accepted statement.
 *
 * @example const { account, anchorBlock }: StatementVerdict = verdict.verdict
 */
export type StatementVerdict = {
  account: Address
  deviceId: Hex
  conversation: Hex
  epoch: bigint
  recipientsRoot: Hex
  seq: bigint
  sentAt: bigint
  referencedBlock: bigint
  bodyHash: Hex
  leaf: Hex
  anchorBlock: bigint
  anchorTimestamp: bigint
}

/**
 * The contract's answer: accepted with its verdict, or refused with the custom error it reverted with.
 *
 * @example const v: OnChainVerdict = await verifyOnChain(publicClient, params); if (!v.ok) console.log(v.step, v.code)
 */
export type OnChainVerdict =
  | { ok: true; verdict: StatementVerdict }
  | {
      ok: false
      step: OnChainStepName
      errorName: StatementVerifierErrorName
      code: string
      args: readonly unknown[]
      /** One line: `ErrorName(arg, …)`. */
      message: string
    }

/**
 * Inputs of {@link prepareVerifyCall} and {@link verifyOnChain}: what a verifier holds (a signed statement and its
 * receipt); the device id defaults to the statement's, the key to the registry's DeviceAdded event, the header to
 * the chain's block after the referenced one.
 *
 * @example const p: VerifyOnChainParameters = { verifier, registry, statement: signed.bytes, signature: signed.signature, receipt }
 */
export type VerifyOnChainParameters = {
  verifier: Address
  /** The KeyRegistry to read the key from when `key` is not given. */
  registry: Address
  statement: Uint8Array | Hex
  signature: Hex
  deviceId?: Hex | undefined
  key?: { p256X: Hex; p256Y: Hex } | undefined
  successorHeader?: Hex | undefined
  receipt: OnChainReceipt
  /** Block to run the call at (default: latest). */
  blockNumber?: bigint | undefined
}

/**
 * ABI-encoded calldata of `StatementVerifier.verify(statement, signature, deviceId, p256X, p256Y, successorHeader,
 * receipt)`, for a contract caller or a raw transaction.
 *
 * @example const data = encodeVerifyCalldata(await prepareVerifyCall(publicClient, params))
 */
export function encodeVerifyCalldata(input: VerifyCallInput): Hex {
  return encodeFunctionData({ abi: statementVerifierAbi, functionName: 'verify', args: verifyArgs(input) })
}

/**
 * `verify`'s arguments as a tuple, in ABI order (what a consumer contract forwards, e.g. SignedEscrow.release).
 *
 * @example await wallet.writeContract({ address: escrow, abi, functionName: 'release', args: verifyArgs(input) })
 */
export function verifyArgs(input: VerifyCallInput) {
  const { receipt } = input
  return [
    input.statement,
    input.signature,
    input.deviceId,
    input.key.p256X,
    input.key.p256Y,
    input.successorHeader,
    {
      submitter: receipt.submitter,
      root: receipt.root,
      index: BigInt(receipt.index),
      treeSize: BigInt(receipt.treeSize),
      path: [...receipt.path],
    },
  ] as const
}

/**
 * Resolves every argument of `verify` from a signed statement and its receipt: the device id (the statement's), its
 * key (the registry's DeviceAdded event; zeros for an unknown device, which the contract refuses) and the RLP header
 * of the block after the referenced one (empty if not mined yet, which the contract refuses).
 *
 * @example const input = await prepareVerifyCall(publicClient, { verifier, registry, statement, signature, receipt })
 */
export async function prepareVerifyCall(
  client: Client,
  params: Omit<VerifyOnChainParameters, 'verifier' | 'blockNumber'>,
): Promise<VerifyCallInput> {
  const statement = typeof params.statement === 'string' ? params.statement : toHex(params.statement)
  const bytes = statement.slice(2)
  const deviceId = params.deviceId ?? (bytes.length === 548 ? (`0x${bytes.slice(100, 164)}` as Hex) : ZERO32)
  const referenced = bytes.length === 548 ? BigInt(`0x${bytes.slice(340, 356)}`) : undefined
  const [key, header] = await Promise.all([
    params.key ??
      getDevice(client, { registry: params.registry, deviceId }).then((d) =>
        d ? { p256X: d.p256X, p256Y: d.p256Y } : { p256X: ZERO32, p256Y: ZERO32 },
      ),
    params.successorHeader ??
      (referenced === undefined ? Promise.resolve(undefined) : getBlockHeaderRlp(client, referenced + 1n)),
  ])
  return {
    statement,
    signature: params.signature,
    deviceId,
    key,
    successorHeader: header ?? '0x',
    receipt: params.receipt,
  }
}

/**
 * Asks a StatementVerifier (one eth_call) whether the device signed the statement and it was anchored in time, and
 * returns its verdict: accepted with the proven fields, or refused with the custom error and the check it belongs
 * to. Throws only chain errors (`RpcUnreachableError`, `ChainRequestError`, `ContractRevertError` for a revert that
 * is not a StatementVerifier error).
 *
 * @example
 * const v = await verifyOnChain(publicClient, { verifier, registry, statement: signed.bytes, signature: signed.signature, receipt })
 * if (v.ok) console.log(`signed by ${v.verdict.account}, anchored in block ${v.verdict.anchorBlock}`)
 */
export async function verifyOnChain(
  client: Client,
  params: VerifyOnChainParameters,
): Promise<OnChainVerdict> {
  const input = await prepareVerifyCall(client, params)
  return callVerify(client, params.verifier, input, params.blockNumber)
}

/**
 * Runs `verify` with already resolved arguments (one eth_call) and returns its verdict, as {@link verifyOnChain}.
 *
 * @example const v = await callVerify(publicClient, verifier, input)
 */
export async function callVerify(
  client: Client,
  verifier: Address,
  input: VerifyCallInput,
  blockNumber?: bigint | undefined,
): Promise<OnChainVerdict> {
  try {
    const v = await readContract(client, {
      address: verifier,
      abi: statementVerifierAbi,
      functionName: 'verify',
      args: verifyArgs(input),
      ...(blockNumber !== undefined ? { blockNumber } : {}),
    })
    return { ok: true, verdict: { ...v } }
  } catch (err) {
    const reverted =
      err instanceof ViemBaseError
        ? (err.walk(
            (e) => e instanceof ContractFunctionRevertedError,
          ) as ContractFunctionRevertedError | null)
        : null
    const name = reverted?.data?.errorName
    if (name !== undefined && name in statementVerifierErrors) {
      const errorName = name as StatementVerifierErrorName
      const args = reverted?.data?.args ?? []
      return {
        ok: false,
        step: statementVerifierErrors[errorName].step,
        errorName,
        code: statementVerifierErrors[errorName].code,
        args,
        message: `${errorName}(${args.map(String).join(', ')})`,
      }
    }
    if (reverted) throw new ContractRevertError({ errorName: name, functionName: 'verify', cause: err })
    throw mapChainError(err)
  }
}

const ZERO32: Hex = `0x${'00'.repeat(32)}`
