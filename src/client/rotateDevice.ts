/** Rotating this device's keys: new P-256 and MLS keys in one registry transaction, then the key file switched. */
import { type Hex, isAddressEqual } from 'viem'
import { getBlock } from 'viem/actions'
import { withChainErrors } from '../chain/errors.js'
import { getRegistryNonce, rotateDevice as rotateOnChain } from '../chain/keyRegistry.js'
import { signRotateDevice } from '../chain/registryAuthorizations.js'
import { postSponsorRequest } from '../chain/sponsor.js'
import { proveDeviceKeys } from '../crypto/pop.js'
import { resolvePassphrase } from '../store/keystore.js'
import type { ClientContext } from './context.js'
import { DeviceNotRegisteredError } from './errors.js'
import {
  completeDeviceRotation,
  type DeviceKeys,
  devicePublicKeys,
  loadPendingRotation,
  prepareDeviceRotation,
} from './identity.js'
import { deserializeGroupState } from './mls.js'
import {
  authorizationDeadline,
  registration,
  requireWallet,
  type SponsorOption,
  sponsorToUse,
  walletClient,
} from './registration.js'

/**
 * Options of {@link rotateDevice}.
 *
 * @example await client.rotateDevice({ passphrase, sponsor: { url: sponsorUrlOf(relay) } })
 */
export type RotateDeviceOptions = {
  /** Encrypts the new key file (default: `SEALPOST_PASSPHRASE`). */
  passphrase?: string | undefined
  /** The relay that submits the transaction when the account cannot pay (as for `register()`). */
  sponsor?: SponsorOption | undefined
}

/**
 * What a rotation did: the device's old and new ids, the registry transaction, the new keys (open the next client
 * with them: `connectClient({ ..., keys })`), and the conversations the device held, which its peers' committers
 * bring to the new keys (docs/key-management.md §6).
 *
 * @example const { deviceId, keys, conversations } = await client.rotateDevice({ passphrase })
 */
export type RotateDeviceResult = {
  oldDeviceId: Hex
  deviceId: Hex
  keys: DeviceKeys
  txHash: Hex
  gasUsed: bigint
  blockNumber: bigint
  conversations: Hex[]
}

/**
 * Replaces this device's P-256 and MLS keys (docs/key-management.md §6): refuses a device that is not active with
 * `DeviceNotRegisteredError` (`SEALPOST_DEVICE_REVOKED` for a revoked one) before anything is written or sent,
 * writes the new keys to `device.rotating.json`, submits one `rotateDevice` transaction (EIP-712 signed by the
 * account; through the sponsor when the account cannot pay), then renames the new key file over `device.json` and
 * deletes the old keys' key packages. The caller stops using `ctx` afterwards: its device id is revoked.
 *
 * @example const result = await rotateDevice(ctx, { passphrase, sponsor })
 */
export async function rotateDevice(
  ctx: ClientContext,
  { passphrase, sponsor }: RotateDeviceOptions = {},
): Promise<RotateDeviceResult> {
  const record = await registration(ctx)
  if (!record || record.revokedAt !== undefined)
    throw new DeviceNotRegisteredError({ deviceId: ctx.deviceId, revoked: record?.revokedAt !== undefined })
  const wallet = requireWallet(ctx)
  const keys = await prepareDeviceRotation({
    device: ctx.device,
    passphrase: resolvePassphrase({ passphrase }),
  })
  const registry = ctx.deployment.keyRegistry
  const publicKeys = devicePublicKeys(keys)
  const proven = {
    ...publicKeys,
    ...proveDeviceKeys({
      ...publicKeys,
      signingKey: keys.signingKey,
      mlsSignKey: keys.mls.signKey,
      chainId: ctx.chainId,
      registry,
      account: ctx.account,
    }),
  }
  const nonce = await getRegistryNonce(ctx.publicClient, { registry, account: ctx.account })
  const deadline = await authorizationDeadline(ctx)
  const signature = await signRotateDevice(wallet, {
    registry,
    chainId: ctx.chainId,
    oldDeviceId: ctx.deviceId,
    ...proven,
    nonce,
    deadline,
  })
  const request = {
    registry,
    account: ctx.account,
    oldDeviceId: ctx.deviceId,
    ...proven,
    nonce,
    deadline,
    signature,
  }
  const via = await sponsorToUse(ctx, sponsor)
  const result = via
    ? await postSponsorRequest(via, { operation: 'rotateDevice', chainId: ctx.chainId, ...request })
    : await rotateOnChain(walletClient(ctx), request)
  completeDeviceRotation(ctx.device.dir)
  ctx.store.clearKeyPackages()
  await ctx.watcher.sync()
  const conversations = ctx.store
    .listGroups()
    .filter((g) => deserializeGroupState(g.state, ctx.config).groupActiveState.kind === 'active')
    .map((g) => g.groupId as Hex)
  return {
    oldDeviceId: ctx.deviceId,
    deviceId: keys.deviceId,
    keys,
    txHash: result.hash,
    gasUsed: result.gasUsed,
    blockNumber: result.blockNumber,
    conversations,
  }
}

/**
 * How old this device's registration is, in milliseconds: now minus the timestamp of the block that added it
 * (`undefined` for a device that is not registered).
 *
 * @example if ((await deviceKeyAge(ctx)) ?? 0 > maxKeyAgeMs) await rotateDevice(ctx)
 */
export async function deviceKeyAge(
  ctx: Pick<ClientContext, 'watcher' | 'deviceId' | 'publicClient'>,
  now = Date.now(),
): Promise<number | undefined> {
  const record = await registration(ctx)
  if (!record) return undefined
  const block = await withChainErrors(() => getBlock(ctx.publicClient, { blockNumber: record.addedAt }))
  return now - Number(block.timestamp) * 1000
}

/**
 * Completes a rotation the process did not finish (stopped between the registry transaction and the rename of the
 * key file): when `device.rotating.json` holds a device that the registry shows active for this account, that file
 * becomes `device.json` and its keys are returned; otherwise `device` is (a pending file whose transaction never
 * landed stays, and the next rotation replaces it).
 *
 * @example const keys = await finishPendingRotation({ device, watcher, passphrase })
 */
export async function finishPendingRotation({
  device,
  watcher,
  passphrase,
}: {
  device: DeviceKeys
  watcher: Pick<ClientContext['watcher'], 'device'>
  passphrase: string
}): Promise<DeviceKeys> {
  const next = await loadPendingRotation({ device, passphrase })
  const record = next && watcher.device(next.deviceId)
  if (!next || !record || record.revokedAt !== undefined || !isAddressEqual(record.account, device.account))
    return device
  completeDeviceRotation(device.dir)
  return next
}
