/** `sealpost id fingerprint [0xACCOUNT]`: the safety number of an account's current device set, to compare out of band. */
import type { Address } from 'viem'
import { RegistryWatcher } from '../chain/registryWatcher.js'
import { readAccountAddress } from '../client/identity.js'
import { currentSafetyNumber } from '../client/keyChanges.js'
import { configuredChains, parseAddressArg } from './address.js'
import { type CliContext, publicFor } from './context.js'
import { ArgumentError } from './errors.js'
import { idFingerprintSpec } from './idCommands.js'
import { parseCommandArgs } from './options.js'

/**
 * Prints the safety number (protocol §2.5) of `0xACCOUNT` (default: this home's account) over its active devices at
 * the chain's current block. Reads the registry only: no key file is unlocked.
 *
 * @example await idFingerprint(ctx, ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8'])
 */
export async function idFingerprint(ctx: CliContext, argv: string[]): Promise<void> {
  const { positionals } = parseCommandArgs(idFingerprintSpec, argv)
  const [target, extra] = positionals
  if (extra !== undefined)
    throw new ArgumentError('Name at most one account.', {
      metaMessages: ['Usage: sealpost id fingerprint [0xACCOUNT]'],
    })
  const account: Address = target
    ? parseAddressArg(target, 'ACCOUNT', configuredChains(ctx))
    : readAccountAddress(ctx.home)
  const deployment = await ctx.deployment()
  const watcher = new RegistryWatcher({
    publicClient: publicFor(ctx.rpc),
    registry: deployment.keyRegistry,
    fromBlock: deployment.deployBlock,
  })
  const done = ctx.out.step('Reading the registry')
  const result = await currentSafetyNumber({ watcher, chainId: deployment.chainId, deployment }, account)
  done(`block ${result.block}`)
  const groups = result.safetyNumber.split(' ')
  ctx.out.info(`account        ${result.account}`)
  ctx.out.info(`devices        ${result.devices.length} active at block ${result.block}`)
  for (const id of result.devices) ctx.out.info(`               ${id}`)
  for (let row = 0; row < 3; row++)
    ctx.out.info(
      `${row === 0 ? 'safety number  ' : '               '}${groups.slice(row * 4, row * 4 + 4).join(' ')}`,
    )
  ctx.out.info(
    'Compare it with the account holder out of band: it changes whenever a device is added, revoked or rotated.',
  )
  ctx.out.result({ ok: true, ...result })
}
