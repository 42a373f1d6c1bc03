/** `sealpost up` and `sealpost relay`: run a chain (or use --rpc), the contracts and a relay until Ctrl-C. */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createPublicClient, createWalletClient, type Hex, http } from 'viem'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { type Anvil, startAnvil } from '../chain/anvil.js'
import { deploySealpost } from '../chain/deploy.js'
import { mapChainError } from '../chain/errors.js'
import { type Deployment, readDeployment, writeDeployment } from '../client/deployment.js'
import { DashboardNotBuiltError } from '../dashboard/server.js'
import { UsageError } from '../errors.js'
import { type RelayNode, startRelayNode } from '../relay/node.js'
import type { CliContext } from './context.js'
import { type StackDashboard, serveStackDashboard } from './dashboard.js'

/** What `up` started, for the dashboard and the demo to build on. */
export type Stack = {
  rpc: string
  deployment: Deployment
  relay: RelayNode
  anvil: Anvil | undefined
  /** A funded local key (anvil's first account) when the chain is local. */
  localFunder: LocalAccount | undefined
  stop(): Promise<void>
}

/** Options shared by `up` and `relay`. */
export type StackOptions = {
  port: number
  host: string
  chainPort?: number | undefined
  /** Start a local anvil (ignores ctx.rpc). */
  local: boolean
  blockTime?: number | undefined
  anchorKey?: Hex | undefined
  batchSize?: number | undefined
  batchIntervalMs?: number | undefined
  confirmations?: number | undefined
  /** Deploy if the recorded deployment is missing or has no code. */
  deploy: boolean
}

/**
 * Brings up the stack: a local anvil (or the --rpc chain), the contracts (reused when the recorded deployment
 * still has code), and a relay node with its anchorer. Prints progress; stops everything it started on failure.
 *
 * @example const stack = await startStack(ctx, { port: 8787, host: '127.0.0.1', local: true, deploy: true })
 */
export async function startStack(ctx: CliContext, options: StackOptions): Promise<Stack> {
  let anvil: Anvil | undefined
  try {
    let rpc = ctx.rpc
    if (options.local) {
      const done = ctx.out.step('Starting anvil (hardfork osaka)')
      anvil = await startAnvil({
        ...(options.chainPort !== undefined ? { port: options.chainPort } : {}),
        ...(options.blockTime ? { blockTime: options.blockTime } : {}),
      })
      rpc = anvil.rpcUrl
      done(rpc)
    }
    const localFunder = anvil ? privateKeyToAccount(anvil.accounts[0] as Hex) : undefined
    const anchorAccount = options.anchorKey
      ? privateKeyToAccount(options.anchorKey)
      : anvil
        ? privateKeyToAccount(anvil.accounts[9] as Hex)
        : undefined
    const publicClient = createPublicClient({ transport: http(rpc, { retryCount: 1 }) })
    const chainId = await publicClient.getChainId().catch((err) => {
      throw mapChainError(err)
    })
    const deployment = await ensureDeployment(ctx, {
      rpc,
      chainId,
      deployer: anchorAccount ?? localFunder,
      deploy: options.deploy,
    })
    const done = ctx.out.step('Starting the relay and its anchorer')
    const relay = await startRelayNode({
      rpc,
      deployment,
      dir: join(ctx.home, 'relay'),
      port: options.port,
      host: options.host,
      anchorAccount,
      anchor: {
        ...(options.batchSize ? { batchSize: options.batchSize } : {}),
        ...(options.batchIntervalMs ? { batchIntervalMs: options.batchIntervalMs } : {}),
        ...(options.confirmations ? { confirmations: options.confirmations } : {}),
      },
    })
    done(relay.url)
    if (!anchorAccount) ctx.out.info('! no --anchor-key-env: the relay relays but does not anchor')
    return {
      rpc,
      deployment,
      relay,
      anvil,
      localFunder,
      async stop() {
        await relay.stop()
        await anvil?.stop()
      },
    }
  } catch (err) {
    await anvil?.stop()
    throw err
  }
}

async function ensureDeployment(
  ctx: CliContext,
  {
    rpc,
    chainId,
    deployer,
    deploy,
  }: { rpc: string; chainId: number; deployer: LocalAccount | undefined; deploy: boolean },
): Promise<Deployment> {
  const publicClient = createPublicClient({ transport: http(rpc, { retryCount: 1 }) })
  let recorded: Deployment | undefined
  try {
    recorded = readDeployment(ctx.home)
  } catch {
    recorded = undefined
  }
  if (recorded && recorded.chainId === chainId) {
    const [registryCode, anchorCode] = await Promise.all([
      publicClient.getCode({ address: recorded.keyRegistry }),
      publicClient.getCode({ address: recorded.messageAnchor }),
    ])
    if (registryCode && registryCode !== '0x' && anchorCode && anchorCode !== '0x') {
      ctx.out.info(`Reusing the deployment recorded in ${ctx.home}/deployment.json`)
      return recorded
    }
  }
  if (!deploy || !deployer)
    throw new UsageError('No usable deployment on this chain, and no key to deploy with.', {
      metaMessages: ['Run `sealpost deploy --rpc URL` with a funded account, or pass --anchor-key-env.'],
      code: 'SEALPOST_NO_DEPLOYMENT',
      name: 'DeploymentNotFoundError',
    })
  let done: ((r?: string) => void) | undefined
  const deployed = await deploySealpost(
    createWalletClient({ account: deployer, transport: http(rpc) }),
    publicClient,
    {
      onProgress: (p) => {
        if (p.status === 'sending') done = ctx.out.step(`Deploying ${p.step}`)
        else done?.(`${p.address} (gas ${p.gasUsed})`)
      },
    },
  )
  const deployment: Deployment = {
    chainId,
    keyRegistry: deployed.keyRegistry,
    messageAnchor: deployed.messageAnchor,
    deployBlock: deployed.deployBlock,
    rpcUrl: rpc,
  }
  writeDeployment(ctx.home, deployment)
  return deployment
}

/** Parses the flags `up` and `relay` share. */
export function parseStackFlags(argv: string[], { local }: { local: boolean }) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      'chain-port': { type: 'string' },
      'block-time': { type: 'string' },
      'anchor-key-env': { type: 'string' },
      'batch-size': { type: 'string' },
      'batch-ms': { type: 'string' },
      confirmations: { type: 'string' },
      demo: { type: 'boolean', default: false },
      'dashboard-port': { type: 'string', default: '8788' },
      'dashboard-host': { type: 'string', default: '127.0.0.1' },
      dashboard: { type: 'boolean', default: false },
    },
  })
  const int = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isInteger(n) || n < 0)
      throw new UsageError(`--${name} must be a non-negative integer.`, {
        code: 'SEALPOST_BAD_ARGUMENT',
        name: 'ArgumentError',
      })
    return n
  }
  const keyEnv = values['anchor-key-env']
  const anchorKey = keyEnv ? process.env[keyEnv] : undefined
  if (keyEnv && !/^0x[0-9a-fA-F]{64}$/.test(anchorKey ?? ''))
    throw new UsageError(`Environment variable ${keyEnv} does not hold a 0x-prefixed 32-byte key.`, {
      code: 'SEALPOST_BAD_ARGUMENT',
      name: 'ArgumentError',
    })
  return {
    stack: {
      port: int(values.port, 'port') ?? 8787,
      host: values.host,
      chainPort: int(values['chain-port'], 'chain-port') ?? (local ? 8545 : undefined),
      local,
      blockTime: int(values['block-time'], 'block-time'),
      anchorKey: anchorKey as Hex | undefined,
      batchSize: int(values['batch-size'], 'batch-size'),
      batchIntervalMs: int(values['batch-ms'], 'batch-ms'),
      confirmations: int(values.confirmations, 'confirmations'),
      deploy: true,
    } satisfies StackOptions,
    demo: values.demo,
    dashboardPort: int(values['dashboard-port'], 'dashboard-port') ?? 8788,
    dashboardHost: values['dashboard-host'],
    withDashboard: values.dashboard,
  }
}

/**
 * `sealpost up`: a local anvil (1 s blocks), the contracts and a relay with its anchorer, until Ctrl-C. To run
 * against a real network use `sealpost relay --rpc URL` instead.
 *
 * @example await upCommand(ctx, ['--port', '8787'])
 */
export async function upCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const { stack: options, demo, dashboardPort, dashboardHost } = parseStackFlags(argv, { local: true })
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
  const done = ctx.out.step('Stopping the dashboard, the relay and the chain')
  await dashboard?.stop()
  await stack.stop()
  done()
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
  } = parseStackFlags(argv, { local: false })
  const stack = await startStack(ctx, { ...options, deploy: false })
  const dashboard = withDashboard
    ? await serveStackDashboard(ctx, stack, { port: dashboardPort, host: dashboardHost, demo: false })
    : undefined
  printEndpoints(ctx, stack, dashboard?.server.url)
  await untilSignal()
  const done = ctx.out.step('Stopping the relay')
  await dashboard?.stop()
  await stack.stop()
  done()
}

/** Prints where everything listens. */
export function printEndpoints(ctx: CliContext, stack: Stack, dashboard?: string): void {
  ctx.out.info('')
  if (dashboard) ctx.out.info(`dashboard      ${dashboard}`)
  ctx.out.info(`chain          ${stack.rpc} (chain id ${stack.deployment.chainId})`)
  ctx.out.info(`KeyRegistry    ${stack.deployment.keyRegistry}`)
  ctx.out.info(`MessageAnchor  ${stack.deployment.messageAnchor}`)
  ctx.out.info(`relay          ${stack.relay.url}`)
  ctx.out.info(`home           ${ctx.home}`)
  ctx.out.info('')
  ctx.out.info('Ctrl-C stops everything.')
  ctx.out.result({
    ok: true,
    rpc: stack.rpc,
    relay: stack.relay.url,
    dashboard,
    chainId: stack.deployment.chainId,
    keyRegistry: stack.deployment.keyRegistry,
    messageAnchor: stack.deployment.messageAnchor,
  })
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(signal)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}
