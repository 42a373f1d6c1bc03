/** `sealpost validator`: a Hyperlane validator for Sealpost mirroring, signing checkpoints of the --rpc chain. */
import { join } from 'node:path'
import { type Address, createPublicClient, type Hex, http, isAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { getChainId } from 'viem/actions'
import { withChainErrors } from '../chain/errors.js'
import { directoryCheckpointStore } from '../crosschain/checkpointStore.js'
import { Validator } from '../crosschain/validator.js'
import type { CliContext } from './context.js'
import { ArgumentError } from './errors.js'
import { parseCommandArgs } from './options.js'
import { untilSignal } from './signals.js'
import { validatorSpec } from './validatorSpec.js'

const count = (flag: string, value: string, min: number): number => {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < min) throw new ArgumentError(`--${flag} must be an integer ≥ ${min}.`)
  return n
}

/**
 * Runs `sealpost validator`.
 *
 * @example await validatorCommand(ctx, ['--merkle-tree-hook', hook, '--key-env', 'VALIDATOR_KEY', '--once'])
 */
export async function validatorCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(validatorSpec, argv)
  const hook = values['merkle-tree-hook']
  if (!hook || !isAddress(hook)) throw new ArgumentError('--merkle-tree-hook ADDR is required.')
  const keyVar = values['key-env']
  const key = keyVar ? process.env[keyVar] : undefined
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new ArgumentError(
      '--key-env VAR must name an environment variable holding a 0x-prefixed 32-byte key.',
    )
  const account = privateKeyToAccount(key as Hex)
  const confirmations = count('confirmations', values.confirmations, 1)
  const fromBlock = BigInt(count('from-block', values['from-block'], 0))
  const interval = count('interval-ms', values['interval-ms'], 1)
  const dir = values.store ?? join(ctx.home, 'validator', account.address)
  const client = createPublicClient({ transport: http(ctx.rpc, { retryCount: 0 }), pollingInterval: 250 })
  const origin = await withChainErrors(() => getChainId(client))
  const validator = new Validator({
    client,
    account,
    origin,
    merkleTreeHook: hook as Address,
    confirmations,
    store: directoryCheckpointStore(dir),
    fromBlock,
  })
  ctx.out.info(
    `validator ${account.address} on domain ${origin}, hook ${hook}, ${confirmations} confirmations`,
  )
  ctx.out.info(`store     ${dir}`)
  const report = (signed: Awaited<ReturnType<Validator['poll']>>) => {
    for (const s of signed)
      ctx.out.info(`signed    #${s.checkpoint.index} ${s.checkpoint.messageId} root ${s.checkpoint.root}`)
  }
  if (values.once) {
    const signed = await validator.poll()
    report(signed)
    ctx.out.result({
      ok: true,
      validator: account.address,
      signed: signed.length,
      nextBlock: validator.nextBlock.toString(),
    })
    return
  }
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      try {
        report(await validator.poll())
      } catch (e) {
        ctx.out.info(`poll failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)} (retrying)`)
      }
      await new Promise((ok) => setTimeout(ok, interval))
    }
  })()
  await untilSignal()
  stopped = true
  await loop
  ctx.out.result({ ok: true, validator: account.address, signed: validator.signedCount })
}
