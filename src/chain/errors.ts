/** Typed Sealpost errors of the chain layer, and `mapChainError` which turns viem errors into them. */
import {
  type Abi,
  type Address,
  ChainMismatchError,
  type Client,
  ContractFunctionRevertedError,
  decodeErrorResult,
  type Hex,
  HttpRequestError,
  SocketClosedError,
  TimeoutError,
  BaseError as ViemBaseError,
  InsufficientFundsError as ViemInsufficientFundsError,
  WebSocketRequestError,
} from 'viem'
import { getChainId } from 'viem/actions'
import { keyRegistryAbi } from '../../contracts/artifacts/KeyRegistry.js'
import { messageAnchorAbi } from '../../contracts/artifacts/MessageAnchor.js'
import { BaseError, InternalError, UsageError, VerificationError } from '../errors.js'

/**
 * The JSON-RPC endpoint could not be reached (connection refused, DNS, timeout, HTTP failure).
 *
 * @example
 * try { await getDevices(client, { registry, account }) } catch (e) { if (e instanceof RpcUnreachableError) retryLater() }
 */
export class RpcUnreachableError extends InternalError {
  override name = 'RpcUnreachableError' as const
  readonly url: string | undefined
  constructor({ url, cause }: { url?: string | undefined; cause?: unknown }) {
    super('The Ethereum RPC endpoint is unreachable.', {
      metaMessages: url ? [`URL: ${url}`] : [],
      cause,
      code: 'SEALPOST_RPC_UNREACHABLE',
      name: 'RpcUnreachableError',
    })
    this.url = url
  }
}

/**
 * The RPC endpoint serves a different chain than the one the caller expects.
 *
 * @example
 * throw new WrongChainError({ expected: 31337, actual: 1 })
 */
export class WrongChainError extends UsageError {
  override name = 'WrongChainError' as const
  readonly expected: number
  readonly actual: number
  constructor({ expected, actual, cause }: { expected: number; actual: number; cause?: unknown }) {
    super(`Connected to chain ${actual}, expected chain ${expected}.`, {
      metaMessages: [`Expected chain id: ${expected}`, `Actual chain id: ${actual}`],
      cause,
      code: 'SEALPOST_WRONG_CHAIN',
      name: 'WrongChainError',
    })
    this.expected = expected
    this.actual = actual
  }
}

/**
 * Stable codes for every custom error of KeyRegistry and MessageAnchor.
 *
 * @example
 * contractErrorCodes.DuplicateKey // 'SEALPOST_REGISTRY_DUPLICATE_KEY'
 */
export const contractErrorCodes = {
  InvalidSignature: 'SEALPOST_REGISTRY_INVALID_SIGNATURE',
  InvalidNonce: 'SEALPOST_REGISTRY_INVALID_NONCE',
  SignatureExpired: 'SEALPOST_REGISTRY_SIGNATURE_EXPIRED',
  DuplicateKey: 'SEALPOST_REGISTRY_DUPLICATE_KEY',
  UnknownDevice: 'SEALPOST_REGISTRY_UNKNOWN_DEVICE',
  DeviceAlreadyRevoked: 'SEALPOST_REGISTRY_DEVICE_ALREADY_REVOKED',
  MalformedKey: 'SEALPOST_REGISTRY_MALFORMED_KEY',
  InvalidProofOfPossession: 'SEALPOST_REGISTRY_INVALID_POP',
  ZeroRoot: 'SEALPOST_ANCHOR_ZERO_ROOT',
  AlreadyAnchored: 'SEALPOST_ANCHOR_ALREADY_ANCHORED',
  InvalidLeafCount: 'SEALPOST_ANCHOR_INVALID_LEAF_COUNT',
  MetaTooLarge: 'SEALPOST_ANCHOR_META_TOO_LARGE',
  InvalidProof: 'SEALPOST_ANCHOR_INVALID_PROOF',
} as const

/**
 * Name of a Sealpost contract custom error.
 *
 * @example
 * const name: ContractErrorName = 'ZeroRoot'
 */
export type ContractErrorName = keyof typeof contractErrorCodes

/**
 * A contract call reverted. `errorName`/`args` hold the decoded custom error; `code` is derived from it
 * (`SEALPOST_REGISTRY_*`, `SEALPOST_ANCHOR_*`), or `SEALPOST_CHAIN_REVERTED` when it could not be decoded.
 *
 * @example
 * catch (e) { if (e instanceof ContractRevertError && e.errorName === 'DuplicateKey') … }
 */
export class ContractRevertError extends VerificationError {
  override name = 'ContractRevertError' as const
  readonly errorName: string | undefined
  readonly args: readonly unknown[]
  constructor({
    errorName,
    args = [],
    functionName,
    cause,
  }: {
    errorName?: string | undefined
    args?: readonly unknown[] | undefined
    functionName?: string | undefined
    cause?: unknown
  }) {
    const code =
      errorName && errorName in contractErrorCodes
        ? contractErrorCodes[errorName as ContractErrorName]
        : 'SEALPOST_CHAIN_REVERTED'
    super(errorName ? `Contract call reverted with ${errorName}.` : 'Contract call reverted.', {
      metaMessages: [
        ...(functionName ? [`Function: ${functionName}`] : []),
        ...(errorName ? [`Error: ${errorName}(${args.map(formatArg).join(', ')})`] : []),
      ],
      cause,
      code,
      name: 'ContractRevertError',
    })
    this.errorName = errorName
    this.args = args
  }
}

/**
 * Any other failed chain request (nonce too low, malformed response, ...).
 *
 * @example
 * throw new ChainRequestError({ cause })
 */
export class ChainRequestError extends InternalError {
  override name = 'ChainRequestError' as const
  constructor({ cause }: { cause?: unknown }) {
    super('The chain request failed.', {
      cause,
      details: cause instanceof ViemBaseError ? cause.shortMessage : undefined,
      code: 'SEALPOST_CHAIN_REQUEST_FAILED',
      name: 'ChainRequestError',
    })
  }
}

/**
 * A transaction could not be paid for: the sending account holds less than gas × price + value. `account` is the
 * payer when known.
 *
 * @example
 * catch (e) { if (e instanceof InsufficientFundsError) console.error(`fund ${e.account} or use a sponsor`) }
 */
export class InsufficientFundsError extends UsageError {
  override name = 'InsufficientFundsError' as const
  readonly account: Address | undefined
  constructor({ account, cause }: { account?: Address | undefined; cause?: unknown }) {
    super(
      account
        ? `The account ${account} has too little ether to pay for this transaction.`
        : 'The sending account has too little ether to pay for this transaction.',
      {
        metaMessages: [
          ...(account ? [`Account: ${account}`] : []),
          'Hint: register through a relay that sponsors registry operations (connectClient does it with its relay), or fund the account',
        ],
        cause,
        code: 'SEALPOST_INSUFFICIENT_FUNDS',
        name: 'InsufficientFundsError',
      },
    )
    this.account = account
  }
}

/**
 * Why a relay refused to sponsor a registry operation, and the stable code of each reason.
 *
 * @example
 * sponsorRefusalCodes['rate-limited'] // 'SEALPOST_SPONSOR_RATE_LIMITED'
 */
export const sponsorRefusalCodes = {
  'bad-request': 'SEALPOST_SPONSOR_BAD_REQUEST',
  'wrong-registry': 'SEALPOST_SPONSOR_WRONG_REGISTRY',
  reverted: 'SEALPOST_SPONSOR_REVERTED',
  'gas-cap': 'SEALPOST_SPONSOR_GAS_CAP',
  'rate-limited': 'SEALPOST_SPONSOR_RATE_LIMITED',
  'budget-exhausted': 'SEALPOST_SPONSOR_BUDGET_EXHAUSTED',
  'not-offered': 'SEALPOST_SPONSOR_NOT_OFFERED',
  failed: 'SEALPOST_SPONSOR_FAILED',
} as const

/**
 * A reason in {@link sponsorRefusalCodes}.
 *
 * @example const reason: SponsorRefusalReason = 'budget-exhausted'
 */
export type SponsorRefusalReason = keyof typeof sponsorRefusalCodes

/**
 * A relay refused to submit a registry operation for its user (docs/protocol.md §9.9): a malformed request, another
 * registry, a call that reverts in simulation (`errorName` is the contract's reason), over the gas cap, rate
 * limited (`retryAfterMs`), the daily budget spent, no sponsor at that relay, or the transaction failed.
 *
 * @example
 * catch (e) { if (e instanceof SponsorRefusedError && e.reason === 'rate-limited') await sleep(e.retryAfterMs ?? 60_000) }
 */
export class SponsorRefusedError extends UsageError {
  override name = 'SponsorRefusedError' as const
  readonly reason: SponsorRefusalReason
  readonly errorName: string | undefined
  readonly retryAfterMs: number | undefined
  constructor({
    reason,
    detail,
    errorName,
    retryAfterMs,
    cause,
  }: {
    reason: SponsorRefusalReason
    detail?: string | undefined
    errorName?: string | undefined
    retryAfterMs?: number | undefined
    cause?: unknown
  }) {
    super(`The relay refused to sponsor the registry operation (${reason}).`, {
      metaMessages: [
        ...(errorName ? [`Contract error: ${errorName}`] : []),
        ...(detail ? [`Detail: ${detail}`] : []),
        ...(retryAfterMs !== undefined ? [`Retry after: ${Math.ceil(retryAfterMs / 1000)} s`] : []),
      ],
      cause,
      code: sponsorRefusalCodes[reason],
      name: 'SponsorRefusedError',
    })
    this.reason = reason
    this.errorName = errorName
    this.retryAfterMs = retryAfterMs
  }
}

/**
 * The relay's sponsor endpoint did not answer (connection refused, timeout) or answered something that is not a
 * sponsor response.
 *
 * @example
 * throw new SponsorUnreachableError({ url: 'http://127.0.0.1:8787/v1/sponsor', cause })
 */
export class SponsorUnreachableError extends InternalError {
  override name = 'SponsorUnreachableError' as const
  readonly url: string
  constructor({ url, cause }: { url: string; cause?: unknown }) {
    super("The relay's sponsor endpoint is unreachable.", {
      metaMessages: [`URL: ${url}`],
      cause,
      code: 'SEALPOST_SPONSOR_UNREACHABLE',
      name: 'SponsorUnreachableError',
    })
    this.url = url
  }
}

/**
 * A write was asked of a client that carries no account (and no `sender` was given).
 *
 * @example
 * throw new NoAccountError({ action: 'deploy the contracts' })
 */
export class NoAccountError extends UsageError {
  override name = 'NoAccountError' as const
  constructor({ action }: { action: string }) {
    super(`The client has no account to ${action} from.`, {
      code: 'SEALPOST_CHAIN_NO_ACCOUNT',
      name: 'NoAccountError',
    })
  }
}

/**
 * anvil did not start or did not answer in time.
 *
 * @example
 * try { await startAnvil() } catch (e) { if (e instanceof AnvilStartError) console.error(e.metaMessages) }
 */
export class AnvilStartError extends InternalError {
  override name = 'AnvilStartError' as const
  constructor({ reason, stderr, cause }: { reason: string; stderr: readonly string[]; cause?: unknown }) {
    super(`anvil failed to start: ${reason}`, {
      metaMessages: stderr.length > 0 ? ['Last stderr lines:', ...stderr] : [],
      cause,
      code: 'SEALPOST_ANVIL_START_FAILED',
      name: 'AnvilStartError',
    })
  }
}

/**
 * A question about a block the watcher has not synced yet; call `await watcher.sync()` first.
 *
 * @example
 * if (block > watcher.syncedTo) await watcher.sync()
 */
export class WatcherBehindError extends UsageError {
  override name = 'WatcherBehindError' as const
  constructor({ block, syncedTo }: { block: bigint; syncedTo: bigint }) {
    super('The registry watcher has not synced up to the requested block.', {
      metaMessages: [`Requested block: ${block}`, `Synced to: ${syncedTo}`],
      code: 'SEALPOST_WATCHER_BEHIND',
      name: 'WatcherBehindError',
    })
  }
}

function formatArg(a: unknown): string {
  return typeof a === 'bigint' ? a.toString() : typeof a === 'string' ? a : JSON.stringify(a)
}

const allAbi = [...keyRegistryAbi, ...messageAnchorAbi] as Abi

function isConnectionFailure(err: unknown): boolean {
  let e: unknown = err
  for (let depth = 0; e && depth < 10; depth++) {
    if (
      e instanceof HttpRequestError ||
      e instanceof WebSocketRequestError ||
      e instanceof SocketClosedError ||
      e instanceof TimeoutError
    )
      return true
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code
      if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ENOTFOUND' || code === 'ETIMEDOUT')
        return true
      if (e.message === 'fetch failed') return true
    }
    e = e && typeof e === 'object' && 'cause' in e ? (e as { cause: unknown }).cause : undefined
  }
  return false
}

/** viem's InsufficientFundsError, or a node message saying the balance does not cover the cost (anvil, geth). */
function isLackOfFunds(err: unknown): boolean {
  let e: unknown = err
  for (let depth = 0; e && depth < 10; depth++) {
    if (e instanceof ViemInsufficientFundsError) return true
    const text =
      e instanceof ViemBaseError ? e.details || e.shortMessage : e instanceof Error ? e.message : ''
    if (
      /insufficient funds|exceeds the balance|lack of funds|exceeds transaction sender account balance/i.test(
        text,
      )
    )
      return true
    e = e && typeof e === 'object' && 'cause' in e ? (e as { cause: unknown }).cause : undefined
  }
  return false
}

function findUrl(err: unknown): string | undefined {
  let e: unknown = err
  for (let depth = 0; e && depth < 10; depth++) {
    if (e instanceof HttpRequestError) return e.url
    e = e && typeof e === 'object' && 'cause' in e ? (e as { cause: unknown }).cause : undefined
  }
  return undefined
}

/**
 * Maps any error thrown by viem (or fetch) to a Sealpost error. Sealpost errors pass through unchanged.
 *
 * @example
 * try { await writeContract(client, request) } catch (e) { throw mapChainError(e) }
 */
export function mapChainError(err: unknown): BaseError {
  if (err instanceof BaseError) return err
  if (err instanceof ViemBaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError)
    if (reverted instanceof ContractFunctionRevertedError) {
      let errorName = reverted.data?.errorName
      let args: readonly unknown[] = reverted.data?.args ?? []
      if (!errorName && reverted.raw && reverted.raw !== '0x') {
        try {
          const decoded = decodeErrorResult({ abi: allAbi, data: reverted.raw as Hex })
          errorName = decoded.errorName
          args = decoded.args ?? []
        } catch {}
      }
      const functionName = (err as { functionName?: string }).functionName
      return new ContractRevertError({ errorName, args, functionName, cause: err })
    }
    const mismatch = err.walk((e) => e instanceof ChainMismatchError)
    if (mismatch instanceof ChainMismatchError) {
      const m = /current chain of the wallet \(id: (\d+)\)[\s\S]*?\(id: (\d+)/.exec(mismatch.message)
      return new WrongChainError({ expected: Number(m?.[2] ?? 0), actual: Number(m?.[1] ?? 0), cause: err })
    }
  }
  if (isConnectionFailure(err)) return new RpcUnreachableError({ url: findUrl(err), cause: err })
  if (isLackOfFunds(err)) return new InsufficientFundsError({ cause: err })
  return new ChainRequestError({ cause: err })
}

/**
 * Runs `fn` and rethrows any failure as a Sealpost error (see {@link mapChainError}).
 *
 * @example
 * const n = await withChainErrors(() => client.getBlockNumber())
 */
export async function withChainErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw mapChainError(err)
  }
}

/**
 * Throws {@link WrongChainError} unless the RPC endpoint reports chain id `expected`.
 *
 * @example
 * await assertChainId(publicClient, 31337)
 */
export async function assertChainId(client: Client, expected: number): Promise<void> {
  const actual = await withChainErrors(() => getChainId(client))
  if (actual !== expected) throw new WrongChainError({ expected, actual })
}
