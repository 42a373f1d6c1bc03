/** A lost or stolen device: revoking every other active device of the account, one authorization each. */
import type { Hex } from 'viem'
import type { ClientContext } from './context.js'
import { assertActive, revokeDevice, type SponsorOption } from './registration.js'

/**
 * What {@link revokeOtherDevices} did: one registry transaction per revoked device, in order.
 *
 * @example const { revoked } = await client.revokeOtherDevices()
 */
export type RevokeOthersResult = {
  /** This device, the one that stays active. */
  kept: Hex
  revoked: { deviceId: Hex; txHash: Hex; gasUsed: bigint; blockNumber: bigint }[]
}

/**
 * Revokes every active device of this account except this one (docs/key-management.md §7): one EIP-712
 * RevokeDevice authorization by the account key and one transaction each (the registry has no batch call; through
 * `sponsor` when the account cannot pay). Peers' committers then evict the revoked devices from every conversation.
 * Throws `DeviceNotRegisteredError` before any transaction when this device is not active itself (the account would
 * be left without a device), and `AccountKeyRequiredError` without the account key.
 *
 * @example const { revoked } = await revokeOtherDevices(ctx, { sponsor: { url } })
 */
export async function revokeOtherDevices(
  ctx: ClientContext,
  {
    sponsor,
    onRevoked,
  }: { sponsor?: SponsorOption | undefined; onRevoked?: ((deviceId: Hex) => void) | undefined } = {},
): Promise<RevokeOthersResult> {
  await ctx.watcher.sync()
  await assertActive(ctx)
  const others = ctx.watcher
    .activeDevicesOf(ctx.account)
    .filter((d) => d.deviceId.toLowerCase() !== ctx.deviceId.toLowerCase())
  const revoked: RevokeOthersResult['revoked'] = []
  for (const device of others) {
    const result = await revokeDevice(ctx, device.deviceId, { sponsor })
    revoked.push({ deviceId: device.deviceId, ...result })
    onRevoked?.(device.deviceId)
  }
  return { kept: ctx.deviceId, revoked }
}
