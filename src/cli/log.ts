/** `sealpost log export [--out FILE]`: the device's tamper-evident log as a transcript a third party can check. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Client } from '../client/Client.js'
import { deviceExists, IdentityNotFoundError, loadDevice } from '../client/identity.js'
import { exportTranscript } from '../client/transcript.js'
import { logExportSpec } from './commands.js'
import type { CliContext } from './context.js'
import { ArgumentError } from './errors.js'
import { parseCommandArgs } from './options.js'
import { deviceAccount } from './session.js'

/**
 * Writes the transcript (JSON) to --out or stdout.
 *
 * @example await logCommand(ctx, ['export', '--out', 'alice.transcript.json'])
 */
export async function logCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv
  if (sub !== 'export')
    throw new ArgumentError(`Unknown command "log ${sub ?? ''}".`, {
      metaMessages: ['Run `sealpost log --help` for its commands.'],
    })
  const { values } = parseCommandArgs(logExportSpec, rest)
  if (!deviceExists(ctx.home, values.device))
    throw new IdentityNotFoundError({ path: join(ctx.home, 'devices', values.device) })
  const account = await deviceAccount(ctx, values.device)
  const deployment = await ctx.deployment()
  // Unlocked once: the client runs with the keys, and the device key signs the export.
  const keys = await loadDevice({ home: ctx.home, name: values.device, passphrase: ctx.passphrase() })
  const client = await Client.create({
    account,
    home: ctx.home,
    rpc: ctx.rpc,
    deployment,
    passphrase: ctx.passphrase(),
    device: values.device,
    keys,
  })
  try {
    const transcript = exportTranscript({
      log: client.log,
      chainId: client.chainId,
      keyRegistry: deployment.keyRegistry,
      messageAnchor: deployment.messageAnchor,
      account: client.account,
      deviceId: client.deviceId,
      signingKey: keys.signingKey,
      block: await client.publicClient.getBlock(),
    })
    const text = `${JSON.stringify(transcript, null, 2)}\n`
    if (values.out) {
      writeFileSync(values.out, text, { mode: 0o600 })
      ctx.out.info(`Wrote ${transcript.entries.length} entries to ${values.out}`)
    } else process.stdout.write(text)
  } finally {
    await client.close()
  }
}
