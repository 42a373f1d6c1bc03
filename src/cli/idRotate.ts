/** `sealpost id rotate [--device NAME]`: new keys for a device in one registry transaction, then back in every conversation. */
import { join } from 'node:path'
import type { Hex } from 'viem'
import { sponsorUrlOf } from '../chain/sponsor.js'
import { Client } from '../client/Client.js'
import { connectClient } from '../client/connect.js'
import { deviceExists, IdentityNotFoundError } from '../client/identity.js'
import { offlineTransport } from '../client/transport.js'
import type { CliContext } from './context.js'
import { ArgumentError } from './errors.js'
import { idRotateSpec } from './idCommands.js'
import { parseCommandArgs } from './options.js'
import { resolveRelays } from './session.js'

/**
 * Rotates the device's P-256 and MLS keys (docs/key-management.md §6), connects the new keys to the relay (which
 * publishes their key packages), and waits up to `--wait` seconds while peers' clients re-add the device to its
 * conversations, printing the progress.
 *
 * @example await idRotate(ctx, ['--device', 'laptop'])
 */
export async function idRotate(ctx: CliContext, argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(idRotateSpec, argv)
  const waitS = Number(values.wait)
  if (!Number.isInteger(waitS) || waitS < 0)
    throw new ArgumentError('--wait must be a whole number of seconds (0: do not wait).')
  if (!deviceExists(ctx.home, values.device))
    throw new IdentityNotFoundError({ path: join(ctx.home, 'devices', values.device) })
  const relays = resolveRelays(values.relay)
  const relay = relays[0] as string // its sponsor pays for the rotation
  const [account, deployment] = await Promise.all([ctx.account(), ctx.deployment()])
  const passphrase = ctx.passphrase()
  const base = { account, home: ctx.home, rpc: ctx.rpc, deployment, passphrase, device: values.device }
  const offline = await Client.create({ ...base, transport: offlineTransport })
  const step = ctx.out.step(`Rotating device "${values.device}" (EIP-712 RotateDevice, one transaction)`)
  const result = await offline
    .rotateDevice({ passphrase, sponsor: { url: sponsorUrlOf(relay) } })
    .finally(() => offline.close())
  step(`tx ${result.txHash}, gas ${result.gasUsed}`)
  ctx.out.info(`old      ${result.oldDeviceId} revoked at block ${result.blockNumber}`)
  ctx.out.info(`new      ${result.deviceId} active since block ${result.blockNumber}`)
  const connected = ctx.out.step('Connecting the new keys to the relay and publishing their key packages')
  const client = await connectClient({ ...base, relay: relays, keys: result.keys, register: false })
  connected('authenticated')
  const total = result.conversations.length
  let back = rejoined(client, result.conversations).length
  try {
    if (total > 0 && waitS > 0) {
      const waiting = ctx.out.step(`Waiting for peers to re-add this device to ${total} conversations`)
      const end = Date.now() + waitS * 1000
      while (back < total && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 250))
        back = rejoined(client, result.conversations).length
      }
      waiting(`${back} of ${total}`)
    }
    if (back < total)
      ctx.out.info(
        `${total - back} conversations follow when a member's client next runs (it re-adds this device).`,
      )
  } finally {
    await client.close()
  }
  ctx.out.result({
    ok: true,
    device: values.device,
    oldDeviceId: result.oldDeviceId,
    deviceId: result.deviceId,
    txHash: result.txHash,
    gasUsed: result.gasUsed,
    blockNumber: result.blockNumber,
    conversations: total,
    rejoined: back,
  })
}

/** The conversations among `ids` in which `client`'s device holds a leaf of an active state. */
function rejoined(client: Client, ids: Hex[]): Hex[] {
  const me = client.deviceId.toLowerCase()
  return ids.filter((id) => {
    const direct = client.conversations.get(id)?.info()
    if (direct) return direct.active && direct.members.some((m) => m.deviceId.toLowerCase() === me)
    const group = client.groups.get(id)
    if (!group?.info().active) return false
    return group
      .members()
      .members.some((m) => m.devices.some((d) => d.inGroup && d.deviceId.toLowerCase() === me))
  })
}
