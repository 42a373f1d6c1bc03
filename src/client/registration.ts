/** The device on chain: registering it (then stocking its key packages) and revoking another device of the account. */
import { createWalletClient, type Hex, http, isAddressEqual } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { getBalance, getBlock, getGasPrice } from 'viem/actions'
import { withChainErrors } from '../chain/errors.js'
import {
  addDevice,
  getRegistryNonce,
  type NewDeviceKeys,
  revokeDevice as revokeOnChain,
} from '../chain/keyRegistry.js'
import { signAddDevice, signRevokeDevice } from '../chain/registryAuthorizations.js'
import type { DeviceRecord } from '../chain/registryWatcher.js'
import type { WriteClient } from '../chain/sendAndWait.js'
import { postSponsorRequest } from '../chain/sponsor.js'
import { proveDeviceKeys } from '../crypto/pop.js'
import type { ClientContext } from './context.js'
import { AccountKeyRequiredError, DeviceKeyTakenError, DeviceNotRegisteredError } from './errors.js'
import { devicePublicKeys } from './identity.js'
import { topUpKeyPackages } from './keyPackageStock.js'

/**
 * A relay that submits registry operations for this account (`POST /v1/sponsor`, docs/protocol.md §9.9): used
 * when no `submitter` is configured and the account cannot pay for the transaction, or always with `always`.
 *
 * @example const sponsor: SponsorOption = { url: sponsorUrlOf('ws://127.0.0.1:8787') }
 */
export type SponsorOption = { url: string; always?: boolean | undefined }

/**
 * Options of {@link register}.
 *
 * @example await register(ctx, { keyPackages: 0, sponsor: { url } })
 */
export type RegisterOptions = { keyPackages?: number | undefined; sponsor?: SponsorOption | undefined }

/** Gas a registry operation is budgeted at when deciding whether the account can pay for it itself. */
const REGISTRY_OPERATION_GAS = 1_000_000n

/**
 * This device's on-chain record (after syncing the watcher), if registered.
 *
 * @example const record = await registration(ctx)
 */
export async function registration(
  ctx: Pick<ClientContext, 'watcher' | 'deviceId'>,
): Promise<DeviceRecord | undefined> {
  await ctx.watcher.sync()
  return ctx.watcher.device(ctx.deviceId)
}

/**
 * Throws `DeviceNotRegisteredError` unless this device is registered and not revoked. The watcher follows the chain
 * in the background; only an unknown device forces a sync here.
 *
 * @example await assertActive(ctx)
 */
export async function assertActive(ctx: Pick<ClientContext, 'watcher' | 'deviceId'>): Promise<void> {
  const record = ctx.watcher.device(ctx.deviceId) ?? (await registration(ctx))
  if (!record || record.revokedAt !== undefined)
    throw new DeviceNotRegisteredError({ deviceId: ctx.deviceId, revoked: record?.revokedAt !== undefined })
}

/**
 * Registers this device on chain (EIP-712 authorisation by the account, with the proofs of possession of its
 * P-256 and MLS keys; submitted by `submitter`, by the `sponsor` relay when the account cannot pay, or by the
 * account), then tops its one-time key packages up to `keyPackages` and publishes its last-resort key package
 * (none of either with `keyPackages: 0`).
 * Idempotent. Throws `DeviceKeyTakenError` (SEALPOST_DEVICE_KEY_TAKEN) when the key is registered to another
 * account.
 *
 * @example const { txHash } = await register(ctx, { keyPackages: 5 })
 */
export async function register(
  ctx: ClientContext,
  { keyPackages = 5, sponsor }: RegisterOptions = {},
): Promise<{ deviceId: Hex; txHash?: Hex | undefined; gasUsed?: bigint | undefined; blockNumber: bigint }> {
  let record = await registration(ctx)
  // The watcher hides records it ignores (a failed MLS proof): the owner check reads the raw record.
  const owner = ctx.watcher.deviceRecord(ctx.deviceId)?.account
  if (owner && !isAddressEqual(owner, ctx.account))
    throw new DeviceKeyTakenError({ deviceId: ctx.deviceId, owner, account: ctx.account })
  let txHash: Hex | undefined
  let gasUsed: bigint | undefined
  if (record?.revokedAt !== undefined)
    throw new DeviceNotRegisteredError({ deviceId: ctx.deviceId, revoked: true })
  if (!record) {
    const registry = ctx.deployment.keyRegistry
    const publicKeys = devicePublicKeys(ctx.device)
    const keys = {
      ...publicKeys,
      ...proveDeviceKeys({
        ...publicKeys,
        signingKey: ctx.device.signingKey,
        mlsSignKey: ctx.device.mls.signKey,
        chainId: ctx.chainId,
        registry,
        account: ctx.account,
      }),
    }
    const result = await submitAddDevice(ctx, keys, { sponsor })
    txHash = result.hash
    gasUsed = result.gasUsed
    await ctx.watcher.sync()
    record = ctx.watcher.device(ctx.deviceId)
  }
  if (!record) throw new DeviceNotRegisteredError({ deviceId: ctx.deviceId })
  if (keyPackages > 0) await topUpKeyPackages(ctx, keyPackages)
  return { deviceId: ctx.deviceId, txHash, gasUsed, blockNumber: record.addedAt }
}

/**
 * Authorizes a device's keys for this account (EIP-712 AddDevice signed by the account key, with the current nonce
 * and a deadline an hour ahead) and submits it: by `submitter`, else through `sponsor` when the account cannot pay,
 * else by the account. Used by {@link register} for this device and by `approveLinkRequest` for a linked one.
 *
 * @example const { hash } = await submitAddDevice(ctx, { p256X, p256Y, mlsKey, popR, popS, mlsPop }, { sponsor })
 */
export async function submitAddDevice(
  ctx: Pick<
    ClientContext,
    'wallet' | 'submitter' | 'publicClient' | 'account' | 'rpc' | 'deployment' | 'chainId'
  >,
  keys: NewDeviceKeys,
  { sponsor }: { sponsor?: SponsorOption | undefined } = {},
): Promise<{ hash: Hex; gasUsed: bigint; blockNumber: bigint }> {
  const wallet = requireWallet(ctx)
  const registry = ctx.deployment.keyRegistry
  const nonce = await getRegistryNonce(ctx.publicClient, { registry, account: ctx.account })
  const deadline = await authorizationDeadline(ctx)
  const signature = await signAddDevice(wallet, { registry, chainId: ctx.chainId, ...keys, nonce, deadline })
  const request = { registry, account: ctx.account, ...keys, nonce, deadline, signature }
  const via = await sponsorToUse(ctx, sponsor)
  return via
    ? postSponsorRequest(via, { operation: 'addDevice', chainId: ctx.chainId, ...request })
    : addDevice(walletClient(ctx), request)
}

/**
 * Revokes a device of this account on chain (EIP-712 authorisation by the account; through `sponsor` when the
 * account cannot pay, as in {@link register}).
 *
 * @example await revokeDevice(ctx, oldDeviceId, { sponsor: { url } })
 */
export async function revokeDevice(
  ctx: ClientContext,
  deviceId: Hex,
  { sponsor }: { sponsor?: SponsorOption | undefined } = {},
): Promise<{ txHash: Hex; gasUsed: bigint; blockNumber: bigint }> {
  const wallet = requireWallet(ctx)
  const registry = ctx.deployment.keyRegistry
  const nonce = await getRegistryNonce(ctx.publicClient, { registry, account: ctx.account })
  const deadline = await authorizationDeadline(ctx)
  const signature = await signRevokeDevice(wallet, {
    registry,
    chainId: ctx.chainId,
    deviceId,
    nonce,
    deadline,
  })
  const request = { registry, account: ctx.account, deviceId, nonce, deadline, signature }
  const via = await sponsorToUse(ctx, sponsor)
  const result = via
    ? await postSponsorRequest(via, { operation: 'revokeDevice', chainId: ctx.chainId, ...request })
    : await revokeOnChain(walletClient(ctx), request)
  await ctx.watcher.sync()
  return { txHash: result.hash, gasUsed: result.gasUsed, blockNumber: result.blockNumber }
}

/**
 * The sponsor URL to post to: one is given, no submitter pays, and `always` or the account cannot pay.
 *
 * @example const via = await sponsorToUse(ctx, { url })
 */
export async function sponsorToUse(
  ctx: Pick<ClientContext, 'submitter' | 'publicClient' | 'account'>,
  sponsor: SponsorOption | undefined,
): Promise<string | undefined> {
  if (!sponsor || ctx.submitter) return undefined
  if (sponsor.always) return sponsor.url
  const [balance, gasPrice] = await withChainErrors(() =>
    Promise.all([getBalance(ctx.publicClient, { address: ctx.account }), getGasPrice(ctx.publicClient)]),
  )
  return balance < gasPrice * REGISTRY_OPERATION_GAS ? sponsor.url : undefined
}

/**
 * The account key, or `AccountKeyRequiredError` when the client was given only the address.
 *
 * @example const wallet = requireWallet(ctx)
 */
export function requireWallet(ctx: Pick<ClientContext, 'wallet'>): LocalAccount {
  if (!ctx.wallet) throw new AccountKeyRequiredError()
  return ctx.wallet
}

/**
 * A wallet client that pays for a registry transaction: the `submitter`, else the account.
 *
 * @example await rotateOnChain(walletClient(ctx), request)
 */
export function walletClient(ctx: Pick<ClientContext, 'wallet' | 'submitter' | 'rpc'>): WriteClient {
  const account = ctx.submitter ?? requireWallet(ctx)
  return createWalletClient({ account, transport: http(ctx.rpc, { retryCount: 1 }), chain: undefined })
}

/** How long a registry authorization stays valid, in seconds. */
const AUTHORIZATION_LIFETIME_S = 3600n

/**
 * The deadline of an authorization: an hour after the later of the local clock and the chain's latest block time,
 * so a chain whose clock runs ahead of this machine's (a test chain moved forward, a skewed node) accepts it.
 *
 * @example const deadline = await authorizationDeadline(ctx)
 */
export async function authorizationDeadline(ctx: Pick<ClientContext, 'publicClient'>): Promise<bigint> {
  const block = await withChainErrors(() => getBlock(ctx.publicClient, { blockTag: 'latest' }))
  const local = BigInt(Math.floor(Date.now() / 1000))
  return (block.timestamp > local ? block.timestamp : local) + AUTHORIZATION_LIFETIME_S
}
