/** `sealpost id revoke-others`: a lost or stolen device, every other device of the account revoked. */
import { join } from 'node:path'
import { sponsorUrlOf } from '../chain/sponsor.js'
import { Client } from '../client/Client.js'
import { deviceExists, IdentityNotFoundError } from '../client/identity.js'
import { offlineTransport } from '../client/transport.js'
import type { CliContext } from './context.js'
import { idRevokeOthersSpec } from './idCommands.js'
import { parseCommandArgs } from './options.js'
import { resolveRelay } from './session.js'

/**
 * Revokes every active device of the account except `--device` (docs/key-management.md §7), one EIP-712
 * authorization by the account key and one transaction each, printing each as it lands.
 *
 * @example await idRevokeOthers(ctx, ['--device', 'laptop'])
 */
export async function idRevokeOthers(ctx: CliContext, argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(idRevokeOthersSpec, argv)
  if (!deviceExists(ctx.home, values.device))
    throw new IdentityNotFoundError({ path: join(ctx.home, 'devices', values.device) })
  const sponsor = { url: sponsorUrlOf(resolveRelay(values.relay)) }
  const client = await Client.create({
    account: await ctx.account(),
    home: ctx.home,
    rpc: ctx.rpc,
    transport: offlineTransport,
    deployment: await ctx.deployment(),
    passphrase: ctx.passphrase(),
    device: values.device,
  })
  try {
    const done = ctx.out.step(`Revoking every device of ${client.account} except "${values.device}"`)
    const result = await client.revokeOtherDevices({
      sponsor,
      onRevoked: (deviceId) => ctx.out.info(`revoked  ${deviceId}`),
    })
    done(`${result.revoked.length} revoked`)
    ctx.out.info(`kept     ${values.device} ${result.kept}`)
    ctx.out.result({ ok: true, ...result })
  } finally {
    await client.close()
  }
}
