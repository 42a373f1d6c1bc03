/** `sealpost up` and `sealpost relay`: run a chain (or use --rpc), the contracts and a relay until Ctrl-C. */
import { formatEther, type Hex } from 'viem'
import { sponsorUrlOf } from '../chain/sponsor.js'
import { DashboardNotBuiltError } from '../dashboard/errors.js'
import { relaySpec, upSpec } from './commands.js'
import type { CliContext } from './context.js'
import { ArgumentError } from './errors.js'
import { parseCommandArgs } from './options.js'
import { exitAfter, untilSignal } from './signals.js'
import {
  type Stack,
  type StackDashboard,
  type StackOptions,
  serveStackDashboard,
  startStack,
} from './stack.js'

/**
 * Parses the flags of `up` or `relay` with that command's option table (the one `--help` prints), so every flag
 * parsed is listed there and an unknown one is an ArgumentError naming the command.
 *
 * @example const { stack, demo } = parseStackFlags(upSpec, ['--port', '8787', '--demo'], { local: true })
 */
export function parseStackFlags(
  spec: typeof upSpec | typeof relaySpec,
  argv: string[],
  { local }: { local: boolean },
) {
  const values = parseCommandArgs(spec, argv).values as Record<string, string | boolean | undefined>
  const str = (name: string) => {
    const v = values[name]
    return typeof v === 'string' ? v : undefined
  }
  const int = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isInteger(n) || n < 0) throw new ArgumentError(`--${name} must be a non-negative integer.`)
    return n
  }
  const keyEnv = str('anchor-key-env')
  const anchorKey = keyEnv ? process.env[keyEnv] : undefined
  if (keyEnv && !/^0x[0-9a-fA-F]{64}$/.test(anchorKey ?? ''))
    throw new ArgumentError(`Environment variable ${keyEnv} does not hold a 0x-prefixed 32-byte key.`)
  const sponsorEnv = str('sponsor-key-env')
  const sponsorKey = sponsorEnv ? process.env[sponsorEnv] : undefined
  if (sponsorEnv && !/^0x[0-9a-fA-F]{64}$/.test(sponsorKey ?? ''))
    throw new ArgumentError(`Environment variable ${sponsorEnv} does not hold a 0x-prefixed 32-byte key.`)
  const perIp = int(str('sponsor-per-ip'), 'sponsor-per-ip')
  const perAccount = int(str('sponsor-per-account'), 'sponsor-per-account')
  const budget = str('sponsor-daily-budget-wei')
  if (budget !== undefined && !/^[0-9]+$/.test(budget))
    throw new ArgumentError('--sponsor-daily-budget-wei must be a non-negative integer (wei).')
  const batchSize = int(str('batch-size'), 'batch-size')
  const batchIntervalMs = int(str('batch-ms'), 'batch-ms')
  const confirmations = int(str('confirmations'), 'confirmations')
  const nats = str('nats')
    ?.split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '')
  if (nats && (nats.length === 0 || nats.some((u) => !/^(nats|tls):\/\/[^\s/]+$/.test(u))))
    throw new ArgumentError('--nats must be nats:// (or tls://) URLs separated by commas.')
  const chains = int(str('chains'), 'chains')
  if (chains !== undefined && chains !== 1 && chains !== 2)
    throw new ArgumentError('--chains must be 1 or 2 (a second local chain mirrored from the first).')
  if (chains === 2 && str('cluster') !== undefined)
    throw new ArgumentError('--chains 2 runs one relay: it cannot be combined with --cluster.')
  const validatorConfirmations = int(str('validator-confirmations'), 'validator-confirmations')
  if (validatorConfirmations === 0) throw new ArgumentError('--validator-confirmations must be at least 1.')
  const cluster = int(str('cluster'), 'cluster')
  if (cluster !== undefined && (cluster < 1 || cluster > 9))
    throw new ArgumentError(
      '--cluster must be a number of nodes from 1 to 9 (3 keeps a quorum after losing one).',
    )
  return {
    stack: {
      nats,
      cluster,
      ...(chains === 2 ? { chains: 2 as const } : {}),
      ...(validatorConfirmations ? { validatorConfirmations } : {}),
      ...(str('hyperlane-relayer') ? { hyperlaneRelayer: str('hyperlane-relayer') } : {}),
      port: int(str('port'), 'port') ?? 8787,
      host: str('host') ?? '127.0.0.1',
      chainPort: int(str('chain-port'), 'chain-port') ?? (local ? 8545 : undefined),
      local,
      blockTime: int(str('block-time'), 'block-time'),
      anchorKey: anchorKey as Hex | undefined,
      sponsorKey: sponsorKey as Hex | undefined,
      noSponsor: values['no-sponsor'] === true,
      sponsorPolicy: {
        ...(perIp ? { perIp } : {}),
        ...(perAccount ? { perAccount } : {}),
        ...(budget !== undefined ? { dailyBudgetWei: BigInt(budget) } : {}),
      },
      anchor: {
        ...(batchSize ? { batchSize } : {}),
        ...(batchIntervalMs ? { batchIntervalMs } : {}),
        ...(confirmations ? { confirmations } : {}),
      },
      deploy: true,
      ids: local ? values['no-ids'] !== true : values.ids === true,
      idsEvents: local || values['ids-events'] === true,
    } satisfies StackOptions,
    demo: values.demo === true,
    dashboardPort: int(str('dashboard-port'), 'dashboard-port') ?? 8788,
    dashboardHost: str('dashboard-host') ?? '127.0.0.1',
    withDashboard: values.dashboard === true,
  }
}

/**
 * `sealpost up`: a local anvil (1 s blocks), the contracts and a relay with its anchorer, until Ctrl-C; with
 * `--cluster N`, N nats-server nodes and N relays on them instead; with `--chains 2`, a second chain (31338)
 * mirrored from the first through Hyperlane (three validators, the keeper, the relayer in the relay). To run
 * against a real network use `sealpost relay --rpc URL` instead.
 *
 * @example await upCommand(ctx, ['--port', '8787'])
 * @example await upCommand(ctx, ['--chains', '2'])
 * @example await upCommand(ctx, ['--cluster', '3'])
 */
export async function upCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const {
    stack: options,
    demo,
    dashboardPort,
    dashboardHost,
  } = parseStackFlags(upSpec, argv, { local: true })
  ctx.out.info(
    `Writing under ${ctx.home} (relay and anchor databases) and the deployment to ${ctx.deploymentFile}`,
  )
  const stack = await startStack(ctx, { ...options, blockTime: options.blockTime ?? 1 })
  let dashboard: StackDashboard | undefined
  try {
    dashboard = await serveStackDashboard(ctx, stack, { port: dashboardPort, host: dashboardHost, demo })
  } catch (err) {
    if (demo || !(err instanceof DashboardNotBuiltError)) {
      await stack.stop()
      throw err
    }
    ctx.out.info('! the dashboard is not built (npm run build:web); running without it')
  }
  printEndpoints(ctx, stack, dashboard?.server.url)
  await untilSignal()
  const done = ctx.out.step(
    stack.nats
      ? 'Stopping the dashboard, the relays, the NATS nodes and the chain (Ctrl-C again exits at once)'
      : stack.second
        ? 'Stopping the dashboard, the relay, the validators, the keeper and both chains (Ctrl-C again exits at once)'
        : 'Stopping the dashboard, the relay and the chain (Ctrl-C again exits at once)',
  )
  await dashboard?.stop()
  await stack.stop()
  done()
  exitAfter(2000)
}

/**
 * `sealpost relay`: a relay (with anchorer) for the chain at --rpc and the deployment under --home.
 *
 * @example await relayCommand(ctx, ['--port', '8787', '--anchor-key-env', 'ANCHOR_KEY'])
 */
export async function relayCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const {
    stack: options,
    dashboardPort,
    dashboardHost,
    withDashboard,
  } = parseStackFlags(relaySpec, argv, { local: false })
  const stack = await startStack(ctx, { ...options, deploy: false })
  const dashboard = withDashboard
    ? await serveStackDashboard(ctx, stack, { port: dashboardPort, host: dashboardHost, demo: false })
    : undefined
  printEndpoints(ctx, stack, dashboard?.server.url)
  await untilSignal()
  const done = ctx.out.step('Stopping the relay (Ctrl-C again exits at once)')
  await dashboard?.stop()
  await stack.stop()
  done()
  exitAfter(2000)
}

/**
 * Prints where everything listens.
 *
 * @example printEndpoints(ctx, stack, dashboard.server.url)
 */
export function printEndpoints(ctx: CliContext, stack: Stack, dashboard?: string): void {
  ctx.out.info('')
  if (dashboard) ctx.out.info(`dashboard      ${dashboard}`)
  ctx.out.info(`chain          ${stack.rpc} (chain id ${stack.deployment.chainId})`)
  ctx.out.info(`KeyRegistry    ${stack.deployment.keyRegistry}`)
  ctx.out.info(`MessageAnchor  ${stack.deployment.messageAnchor}`)
  const b = stack.second
  if (b) {
    const m = b.mirroring
    ctx.out.info(`chain B        ${b.rpc} (chain id ${b.deployment.chainId})`)
    ctx.out.info(`B KeyRegistry  ${b.deployment.keyRegistry}`)
    ctx.out.info(`B MsgAnchor    ${b.deployment.messageAnchor}`)
    ctx.out.info(`Mailbox        A ${m.origin.mailbox}, B ${m.destination.mailbox}`)
    ctx.out.info(`mirror A → B   sender ${m.sender} on A, SealpostMirror ${m.mirror} on B`)
    ctx.out.info(
      `validators     ${m.destination.threshold} of ${b.validators.map((v) => v.address).join(', ')}`,
    )
    ctx.out.info(`relayer        in the relay, paying on B from ${b.relayer.account.address}`)
    ctx.out.info(`B deployment   ${b.files.deployment} (mirroring: ${b.files.mirroring})`)
    ctx.out.info(`relayer config ${b.files.relayerConfig}`)
    ctx.out.info(
      `inbox pair     A ${b.inbox.origin.inbox}, B ${b.inbox.destination.inbox} (${b.files.inbox})`,
    )
  }
  if (stack.nats) {
    for (const node of stack.nats.nodes)
      ctx.out.info(`NATS ${node.name}        ${node.url} (monitoring ${node.monitorUrl})`)
    stack.relays.forEach((r, i) => {
      ctx.out.info(`relay ${i + 1}        ${r.url}`)
    })
  } else {
    ctx.out.info(`relay          ${stack.relay.url}`)
    ctx.out.info(`relay state    ${stack.relay.stateDir} (keyed to this chain)`)
  }
  const sponsor = stack.relay.sponsor
  if (sponsor) {
    const p = sponsor.policy
    ctx.out.info(
      `sponsor        ${sponsorUrlOf(stack.relay.url)} pays registrations from ${sponsor.account} ` +
        `(${p.perAccount}/account and ${p.perIp}/IP per ${p.windowMs / 60_000} min, ${formatEther(p.dailyBudgetWei)} ETH/day)`,
    )
  }
  const ids = stack.relay.ids
  if (ids) ctx.out.info(`IDS alerts     ${ids.log.path} (sealpost ids tail --log …; events beside it)`)
  ctx.out.info(`home           ${ctx.home}`)
  ctx.out.info(`deployment     ${ctx.deploymentFile}`)
  ctx.out.info('')
  ctx.out.info('Another user (their own --home) joins with:')
  ctx.out.info(`  ${joinLine(ctx, stack)}`)
  ctx.out.info('')
  ctx.out.info('Ctrl-C stops everything.')
  ctx.out.result({
    ok: true,
    rpc: stack.rpc,
    relay: stack.relay.url,
    ...(stack.nats ? { relays: stack.relays.map((r) => r.url), nats: stack.nats.urls } : {}),
    dashboard,
    chainId: stack.deployment.chainId,
    keyRegistry: stack.deployment.keyRegistry,
    messageAnchor: stack.deployment.messageAnchor,
    deploymentFile: ctx.deploymentFile,
    ...(b
      ? {
          chainB: {
            rpc: b.rpc,
            chainId: b.deployment.chainId,
            keyRegistry: b.deployment.keyRegistry,
            messageAnchor: b.deployment.messageAnchor,
            deploymentFile: b.files.deployment,
            mirror: b.mirroring.mirror,
            mirrorSender: b.mirroring.sender,
            mirroringFile: b.files.mirroring,
            relayerConfig: b.files.relayerConfig,
            inboxRoute: b.files.inbox,
          },
        }
      : {}),
    sponsor: stack.relay.sponsor ? sponsorUrlOf(stack.relay.url) : undefined,
    join: joinLine(ctx, stack),
  })
}

/**
 * The shell line another user types to use this stack: the chain, the relay (every relay of a cluster, which the
 * client fails over between) and the deployment record.
 *
 * @example joinLine(ctx, stack) // 'export SEALPOST_RPC=http://127.0.0.1:8545 SEALPOST_RELAY=ws://… SEALPOST_DEPLOYMENT=…'
 */
export function joinLine(ctx: CliContext, stack: Stack): string {
  const quote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`)
  const relays = stack.relays.map((r) => r.url).join(',')
  return `export SEALPOST_RPC=${quote(stack.rpc)} SEALPOST_RELAY=${quote(relays)} SEALPOST_DEPLOYMENT=${quote(ctx.deploymentFile)}`
}
