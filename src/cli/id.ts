/** `sealpost id new | show | add-device | revoke-device | fingerprint | link | approve | rotate | revoke-others`: the account key and its devices. */
import { join } from 'node:path'
import type { Hex } from 'viem'
import { sponsorUrlOf } from '../chain/sponsor.js'
import { Client } from '../client/Client.js'
import {
  createAccount,
  createDevice,
  deviceExists,
  IdentityNotFoundError,
  listDevices,
  readAccountAddress,
} from '../client/identity.js'
import { offlineTransport } from '../client/transport.js'
import { type CliContext, parseBytes32 } from './context.js'
import { ArgumentError } from './errors.js'
import { idAddDeviceSpec, idNewSpec, idRevokeDeviceSpec, idShowSpec } from './idCommands.js'
import { idFingerprint } from './idFingerprint.js'
import { idApprove, idLink } from './idLink.js'
import { idRevokeOthers } from './idRevokeOthers.js'
import { idRotate } from './idRotate.js'
import { parseCommandArgs } from './options.js'
import { resolveRelay } from './session.js'

/**
 * Runs an `id` subcommand.
 *
 * @example await idCommand(ctx, ['new'])
 */
export async function idCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'new':
      return idNew(ctx, rest)
    case 'show':
      parseCommandArgs(idShowSpec, rest)
      return idShow(ctx)
    case 'add-device':
      return idAddDevice(ctx, rest)
    case 'revoke-device':
      return idRevokeDevice(ctx, rest)
    case 'fingerprint':
      return idFingerprint(ctx, rest)
    case 'link':
      return idLink(ctx, rest)
    case 'approve':
      return idApprove(ctx, rest)
    case 'rotate':
      return idRotate(ctx, rest)
    case 'revoke-others':
      return idRevokeOthers(ctx, rest)
    default:
      throw new ArgumentError(sub ? `Unknown id command "${sub}".` : 'Missing id command.', {
        metaMessages: ['Run `sealpost id --help` for its commands.'],
      })
  }
}

async function idNew(ctx: CliContext, argv: string[]) {
  const { values } = parseCommandArgs(idNewSpec, argv)
  const passphrase = ctx.passphrase()
  const imported = values['import-key-env'] ? process.env[values['import-key-env']] : undefined
  if (values['import-key-env'] && !/^0x[0-9a-fA-F]{64}$/.test(imported ?? ''))
    throw new ArgumentError(
      `Environment variable ${values['import-key-env']} does not hold a 0x-prefixed 32-byte key.`,
    )
  const done = ctx.out.step('Deriving the key-encryption key (scrypt) and writing the account key')
  const account = await createAccount({
    home: ctx.home,
    passphrase,
    ...(imported ? { privateKey: imported as Hex } : {}),
  })
  done(account.address)
  const deviceDone = ctx.out.step(`Generating device "${values.device}" (P-256 + MLS Ed25519 keys)`)
  const device = await createDevice({
    home: ctx.home,
    name: values.device,
    account: account.address,
    passphrase,
  })
  deviceDone(device.deviceId)
  ctx.out.info(`account  ${account.address}`)
  ctx.out.info(`device   ${device.name} ${device.deviceId}`)
  ctx.out.info(`home     ${ctx.home}`)
  ctx.out.info('Next: `sealpost id add-device` registers this device on chain.')
  ctx.out.result({
    ok: true,
    account: account.address,
    device: { name: device.name, deviceId: device.deviceId },
    home: ctx.home,
  })
}

async function idShow(ctx: CliContext) {
  const address = readAccountAddress(ctx.home)
  const local = listDevices(ctx.home)
  let onChain: Awaited<ReturnType<Client['watcher']['devicesOf']>> | undefined
  let chainError: string | undefined
  try {
    const deployment = await ctx.deployment()
    const client = await Client.create({
      account: address,
      home: ctx.home,
      rpc: ctx.rpc,
      transport: offlineTransport,
      deployment,
      passphrase: ctx.passphrase(),
      ...(local[0] ? { device: local[0].name } : {}),
    })
    onChain = client.watcher.devicesOf(address)
    await client.close()
  } catch (err) {
    chainError = err instanceof Error ? err.message.split('\n')[0] : String(err)
  }
  ctx.out.info(`account  ${address}`)
  for (const d of local) {
    const record = onChain?.find((r) => r.deviceId.toLowerCase() === d.deviceId.toLowerCase())
    const status = !onChain
      ? 'chain unknown'
      : !record
        ? 'not registered'
        : record.revokedAt !== undefined
          ? `revoked at block ${record.revokedAt}`
          : `active since block ${record.addedAt}`
    ctx.out.info(`device   ${d.name.padEnd(12)} ${d.deviceId}  ${status}`)
  }
  for (const r of onChain ?? []) {
    if (local.some((d) => d.deviceId.toLowerCase() === r.deviceId.toLowerCase())) continue
    const status =
      r.revokedAt !== undefined ? `revoked at block ${r.revokedAt}` : `active since block ${r.addedAt}`
    ctx.out.info(`device   ${'(elsewhere)'.padEnd(12)} ${r.deviceId}  ${status}`)
  }
  if (chainError) ctx.out.info(`chain    not checked: ${chainError}`)
  ctx.out.result({ ok: true, account: address, devices: local, onChain, chainError })
}

async function idAddDevice(ctx: CliContext, argv: string[]) {
  const { values } = parseCommandArgs(idAddDeviceSpec, argv)
  const sponsor = { url: sponsorUrlOf(resolveRelay(values.relay)) }
  const account = await ctx.account()
  const deployment = await ctx.deployment()
  const passphrase = ctx.passphrase()
  if (!deviceExists(ctx.home, values.device)) {
    const done = ctx.out.step(`Generating device "${values.device}"`)
    const device = await createDevice({
      home: ctx.home,
      name: values.device,
      account: account.address,
      passphrase,
    })
    done(device.deviceId)
  }
  const client = await Client.create({
    account,
    home: ctx.home,
    rpc: ctx.rpc,
    transport: offlineTransport,
    deployment,
    passphrase,
    device: values.device,
  })
  try {
    const done = ctx.out.step('Registering the device (EIP-712 AddDevice) and waiting for the receipt')
    // Submitted by the account if it can pay, else by the relay's sponsor: no user needs ether.
    const result = await client.register({ keyPackages: 0, sponsor })
    done(result.txHash ? `tx ${result.txHash}, gas ${result.gasUsed}` : 'already registered')
    ctx.out.info(`device   ${values.device} ${result.deviceId} active since block ${result.blockNumber}`)
    ctx.out.result({ ok: true, ...result })
  } finally {
    await client.close()
  }
}

async function idRevokeDevice(ctx: CliContext, argv: string[]) {
  const { values, positionals } = parseCommandArgs(idRevokeDeviceSpec, argv)
  const sponsor = { url: sponsorUrlOf(resolveRelay(values.relay)) }
  const [target, extra] = positionals
  if (!target || extra !== undefined)
    throw new ArgumentError('Name one device to revoke (its id or local name).', {
      metaMessages: ['Usage: sealpost id revoke-device DEVICE_ID|NAME'],
    })
  const local = listDevices(ctx.home)
  const byName = local.find((d) => d.name === target)
  const deviceId = byName ? byName.deviceId : parseBytes32(target, 'Device id')
  const signer = local.find((d) => d.deviceId !== deviceId) ?? local[0]
  if (!signer) throw new IdentityNotFoundError({ path: join(ctx.home, 'devices') })
  const account = await ctx.account()
  const client = await Client.create({
    account,
    home: ctx.home,
    rpc: ctx.rpc,
    transport: offlineTransport,
    deployment: await ctx.deployment(),
    passphrase: ctx.passphrase(),
    device: signer.name,
  })
  try {
    const done = ctx.out.step('Revoking the device (EIP-712 RevokeDevice) and waiting for the receipt')
    const result = await client.revokeDevice(deviceId, { sponsor })
    done(`tx ${result.txHash}, gas ${result.gasUsed}`)
    ctx.out.info(`device   ${deviceId} revoked at block ${result.blockNumber}`)
    ctx.out.result({ ok: true, deviceId, ...result })
  } finally {
    await client.close()
  }
}
