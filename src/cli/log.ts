/** `sealpost log export|proof`: the device's tamper-evident log as a transcript, or one anchored message's statement proof. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Hex } from 'viem'
import type { Deployment } from '../chain/deployment.js'
import { Client } from '../client/Client.js'
import { type DeviceKeys, deviceExists, IdentityNotFoundError, loadDevice } from '../client/identity.js'
import { findLoggedStatement, statementProofOf } from '../client/statementProof.js'
import { exportTranscript } from '../client/transcript.js'
import { logExportSpec, logProofSpec } from './commands.js'
import { type CliContext, parseBytes32 } from './context.js'
import { ArgumentError } from './errors.js'
import { parseCommandArgs } from './options.js'
import { deviceAccount } from './session.js'

/**
 * `log export` writes the transcript (JSON) to --out or stdout; `log proof` writes the statement proof of one
 * anchored message (by id or entry index) the same way.
 *
 * @example await logCommand(ctx, ['export', '--out', 'alice.transcript.json'])
 */
export async function logCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv
  if (sub === 'export') return logExport(ctx, rest)
  if (sub === 'proof') return logProof(ctx, rest)
  throw new ArgumentError(`Unknown command "log ${sub ?? ''}".`, {
    metaMessages: ['Run `sealpost log --help` for its commands.'],
  })
}

async function logExport(ctx: CliContext, argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(logExportSpec, argv)
  await withLogClient(ctx, values.device, async (client, keys, deployment) => {
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
    write(ctx, values.out, transcript, { what: `${transcript.entries.length} entries` })
  })
}

async function logProof(ctx: CliContext, argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(logProofSpec, argv)
  const [arg] = positionals
  if (arg === undefined || positionals.length > 1)
    throw new ArgumentError(arg ? 'log proof takes one message.' : 'Name the message.', {
      metaMessages: ['Usage: sealpost log proof <0xMESSAGE-ID|ENTRY-INDEX> [--out FILE]'],
    })
  const message: Hex | number = /^(0|[1-9][0-9]{0,14})$/.test(arg)
    ? Number(arg)
    : parseBytes32(arg, 'The message id')
  await withLogClient(ctx, values.device, async (client) => {
    const entries = client.log.entries()
    const logged = findLoggedStatement(entries, message)
    const proof = statementProofOf({ log: { entries: () => entries }, message })
    const note = logged.skip && `StatementVerifier will refuse it: ${logged.skip}`
    write(ctx, values.out, proof, {
      what: `the statement proof of ${logged.kind} message ${logged.messageId} (entry ${logged.entry}, anchored in block ${proof.receipt.blockNumber})`,
      note,
    })
  })
}

/** Opens this device's client offline (no relay): its log, its unlocked keys and the deployment it runs on. */
async function withLogClient(
  ctx: CliContext,
  device: string,
  run: (client: Client, keys: DeviceKeys, deployment: Deployment) => Promise<void>,
): Promise<void> {
  if (!deviceExists(ctx.home, device))
    throw new IdentityNotFoundError({ path: join(ctx.home, 'devices', device) })
  const account = await deviceAccount(ctx, device)
  const deployment = await ctx.deployment()
  // Unlocked once: the client runs with the keys, and the device key signs an export.
  const keys = await loadDevice({ home: ctx.home, name: device, passphrase: ctx.passphrase() })
  const client = await Client.create({
    account,
    home: ctx.home,
    rpc: ctx.rpc,
    deployment,
    passphrase: ctx.passphrase(),
    device,
    keys,
  })
  try {
    await run(client, keys, deployment)
  } finally {
    await client.close()
  }
}

/** Writes `value` as JSON to `out` (mode 0600: it may name who talked to whom) or to stdout (then notes go to stderr). */
function write(
  ctx: CliContext,
  out: string | undefined,
  value: unknown,
  { what, note }: { what: string; note?: string | undefined },
): void {
  const text = `${JSON.stringify(value, null, 2)}\n`
  if (out) {
    writeFileSync(out, text, { mode: 0o600 })
    ctx.out.info(`Wrote ${what} to ${out}`)
    if (note) ctx.out.info(`! ${note}`)
  } else {
    process.stdout.write(text)
    if (note) process.stderr.write(`! ${note}\n`)
  }
}
