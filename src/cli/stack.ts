/** The local stack, started in one place for `up`, `relay` and `demo`: anvil, the contracts, a relay node, the dashboard. */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createPublicClient, createWalletClient, type Hex, http } from 'viem'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { type Anvil, startAnvil } from '../chain/anvil.js'
import { deploySealpost, type SealpostDeployment } from '../chain/deploy.js'
import { mapChainError } from '../chain/errors.js'
import { type Deployment, DeploymentNotFoundError, readDeploymentFile } from '../client/deployment.js'
import {
  type HyperlaneRelayerConfig,
  readHyperlaneRelayerConfig,
  relayerAccountFromEnv,
} from '../crosschain/relayerConfig.js'
import { attachChains } from '../dashboard/collect/chains.js'
import { attachClient } from '../dashboard/collect/client.js'
import { attachCluster } from '../dashboard/collect/cluster.js'
import { type Collector, createCollector } from '../dashboard/collect/collector.js'
import { attachRelayNode } from '../dashboard/collect/node.js'
import { DashboardHub, type DashboardServer, startDashboardServer } from '../dashboard/server.js'
import { type DemoTraffic, startDemoTraffic } from '../demo/traffic.js'
import { formatError } from '../errors.js'
import { tapClient } from '../ids/clientTap.js'
import { type RelayNode, type RelayNodeOptions, startRelayNode } from '../relay/node.js'
import type { SponsorPolicy } from '../relay/sponsor.js'
import { stopWithin } from '../relay/stopWithin.js'
import type { CliContext } from './context.js'
import { ArgumentError } from './errors.js'
import { findNatsServer, type NatsCluster, startNatsCluster } from './natsCluster.js'
import { type SecondChain, startSecondChain } from './secondChain.js'

/**
 * What the stack started, for the dashboard and the demo to build on.
 *
 * @example const stack = await startStack(ctx, options); console.log(stack.relay.url); await stack.stop()
 */
export type Stack = {
  rpc: string
  deployment: Deployment
  /** The contracts this run deployed (undefined when a recorded deployment was reused). */
  deployed: SealpostDeployment | undefined
  /** The relay (the first of `relays` in a cluster: the one on --port). */
  relay: RelayNode
  /** Every relay: one, or one per NATS node with `--cluster`. */
  relays: RelayNode[]
  /** The local NATS cluster `--cluster` started. */
  nats: NatsCluster | undefined
  anvil: Anvil | undefined
  /** A funded local key (anvil's first account) when the chain is local. */
  localFunder: LocalAccount | undefined
  /** With `chains: 2`: chain B, the mirroring deployment, its validators and keeper (the first relay relays). */
  second: SecondChain | undefined
  /**
   * Stops the relay nodes, then the validators, the keeper and chain B, then the NATS nodes, then chain A, each
   * within {@link STOP_DEADLINE_MS} (a warning past it).
   */
  stop(): Promise<void>
}

/**
 * How long each part of the stack gets to stop before shutdown goes on without it (a `StopTimeoutError` warning).
 *
 * @example await stopWithin('chain', STOP_DEADLINE_MS, () => anvil.stop(), warn)
 */
export const STOP_DEADLINE_MS = 5000

/**
 * Options of {@link startStack}.
 *
 * @example const options: StackOptions = { port: 0, host: '127.0.0.1', local: true, deploy: true }
 */
export type StackOptions = {
  port: number
  host: string
  chainPort?: number | undefined
  /** Start a local anvil (ignores ctx.rpc). */
  local: boolean
  blockTime?: number | undefined
  anchorKey?: Hex | undefined
  /**
   * Pays for users' registry operations (`POST /v1/sponsor`). Default on the local chain: anvil's account 8 (not the
   * anchoring account 9: two senders sharing one account race on nonces). Elsewhere only when given.
   */
  sponsorKey?: Hex | undefined
  /** Turn the sponsor off. */
  noSponsor?: boolean | undefined
  sponsorPolicy?: Partial<SponsorPolicy> | undefined
  /** Batching of the relay's anchorer. */
  anchor?: RelayNodeOptions['anchor']
  /** RPC polling interval of the relay node, in ms. */
  pollingInterval?: number | undefined
  /** Deploy if the recorded deployment is missing or has no code. */
  deploy: boolean
  /** NATS server URLs: the relay keeps its store in JetStream (`sealpost relay --nats`). */
  nats?: string[] | undefined
  /**
   * Start this many local nats-server nodes (JetStream, one cluster) and as many relays on them (`up --cluster N`);
   * the first relay listens on `port`, the others on free ports.
   */
  cluster?: number | undefined
  /**
   * Run each relay's live IDS (docs/ids.md §7): `ids-alerts.jsonl` and `ids-state.json` in the relay's home
   * (`relay/` under --home). On by default for `up`, `relay --ids` elsewhere.
   */
  ids?: boolean | undefined
  /** With `ids`: also write every IDS event to `ids-events.jsonl` (on for `up`, `relay --ids-events`). */
  idsEvents?: boolean | undefined
  /**
   * 2: also a second local chain (31338) mirrored from the first through Hyperlane, with three validators, a keeper
   * and the relayer role in the first relay (`up --chains 2`; local only).
   */
  chains?: 1 | 2 | undefined
  /** Port of chain B's anvil (default: the chain port + 1, or a free port). */
  chainBPort?: number | undefined
  /** Confirmations the validators wait for on chain A (default 2). */
  validatorConfirmations?: number | undefined
  /** Poll interval of the validators, keeper and relayer of `chains: 2`, ms (default 500). */
  mirrorIntervalMs?: number | undefined
  /** A relayer configuration file: the first relay also runs the Hyperlane relayer (`relay --hyperlane-relayer`). */
  hyperlaneRelayer?: string | undefined
}

/**
 * Brings up the stack: a local anvil (or the --rpc chain), the contracts (reused when the deployment recorded under
 * --home still has code), and a relay node with its anchorer (with `cluster`: that many NATS nodes and relays). Prints progress; stops everything it started on
 * failure.
 *
 * @example const stack = await startStack(ctx, { port: 8787, host: '127.0.0.1', local: true, deploy: true })
 */
export async function startStack(ctx: CliContext, options: StackOptions): Promise<Stack> {
  let anvil: Anvil | undefined
  let nats: NatsCluster | undefined
  let second: SecondChain | undefined
  const relays: RelayNode[] = []
  if (options.chains === 2 && !options.local)
    throw new ArgumentError('--chains 2 starts two local chains: it cannot be used with --rpc.')
  // A configuration that cannot be used is named before anything starts.
  const relayerFile = options.hyperlaneRelayer
  const configured = relayerFile ? readHyperlaneRelayerConfig(relayerFile) : undefined
  const configuredAccount =
    configured && relayerFile ? relayerAccountFromEnv(configured, relayerFile) : undefined
  // A missing nats-server is named before anything starts; the nodes elect their JetStream leader (seconds) while
  // the chain starts and the contracts deploy.
  if (options.cluster) findNatsServer()
  const natsStarting = options.cluster ? startNatsCluster({ size: options.cluster }) : undefined
  natsStarting?.catch(() => undefined) // awaited below; a failure before then must not go unhandled
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
    const { deployment, deployed } = await ensureDeployment(ctx, {
      rpc,
      chainId,
      deployer: anchorAccount ?? localFunder,
      deploy: options.deploy,
    })
    if (options.chains === 2 && anvil)
      second = await startSecondChain(ctx, {
        rpcA: rpc,
        deploymentA: deployment,
        keysA: anvil.accounts,
        blockTime: options.blockTime ?? 0,
        port: options.chainBPort ?? (options.chainPort ? options.chainPort + 1 : undefined),
        confirmations: options.validatorConfirmations ?? 2,
        intervalMs: options.mirrorIntervalMs,
      })
    const hyperlane: { config: HyperlaneRelayerConfig; account: LocalAccount } | undefined =
      second?.relayer ??
      (configured && configuredAccount ? { config: configured, account: configuredAccount } : undefined)
    const onRelayerWarning = (err: unknown) => ctx.out.info(`! Hyperlane relayer: ${formatError(err)}`)
    const sponsorAccount = options.noSponsor
      ? undefined
      : options.sponsorKey
        ? privateKeyToAccount(options.sponsorKey)
        : anvil
          ? privateKeyToAccount(anvil.accounts[8] as Hex)
          : undefined
    // Every relay of a cluster anchors from the same account: only the holder of the anchor lease sends, and a new
    // holder adopts its predecessor's anchor of a batch by that account instead of anchoring it again.
    const relayHome = (i: number) => join(ctx.home, i === 0 ? 'relay' : `relay-${i + 1}`)
    const nodeOptions = (i: number, servers: string[] | undefined): RelayNodeOptions => ({
      rpc,
      deployment,
      dir: relayHome(i),
      ...(options.ids ? { ids: { dir: relayHome(i), events: options.idsEvents === true } } : {}),
      port: i === 0 ? options.port : 0,
      host: options.host,
      anchorAccount,
      anchor: options.anchor,
      // One sponsor account, on the first relay (clients register through the first relay of their list): two
      // relays sending from one account would race on nonces.
      sponsor:
        i === 0 && sponsorAccount ? { account: sponsorAccount, policy: options.sponsorPolicy } : undefined,
      nats: servers && { servers, replicas: Math.min(3, servers.length) },
      ...(options.pollingInterval !== undefined ? { pollingInterval: options.pollingInterval } : {}),
      // The first relay also runs the Hyperlane relayer role (one sender per destination account).
      ...(i === 0 && hyperlane
        ? {
            hyperlaneRelayer: {
              ...hyperlane,
              onError: onRelayerWarning,
              onOutcomes: (outcomes) => {
                for (const o of outcomes)
                  if (o.status === 'refused')
                    ctx.out.info(`! Hyperlane relayer: ${o.messageId} refused: ${formatError(o.error)}`)
              },
            },
          }
        : {}),
    })
    if (natsStarting) {
      const size = options.cluster ?? 0
      const natsDone = ctx.out.step(
        `Starting ${size} NATS node${size === 1 ? '' : 's'} (JetStream, one cluster)`,
      )
      const cluster = await natsStarting
      nats = cluster
      natsDone(cluster.urls.join(', '))
      for (let i = 0; i < size; i++) {
        // Each relay connects to its own node first (and fails over to the others): the load spreads.
        const servers = [...cluster.urls.slice(i), ...cluster.urls.slice(0, i)]
        const done = ctx.out.step(`Starting relay ${i + 1} of ${size} on NATS node n${i}`)
        relays.push(await startRelayNode(nodeOptions(i, servers)))
        done(relays[i]?.url)
      }
    } else {
      const done = ctx.out.step(
        hyperlane
          ? 'Starting the relay, its anchorer and the Hyperlane relayer'
          : 'Starting the relay and its anchorer',
      )
      relays.push(await startRelayNode(nodeOptions(0, options.nats)))
      done(relays[0]?.url)
    }
    const relay = relays[0] as RelayNode
    if (!anchorAccount) ctx.out.info('! no --anchor-key-env: the relay relays but does not anchor')
    const started = nats
    return {
      rpc,
      deployment,
      deployed,
      relay,
      relays,
      nats: started,
      anvil,
      localFunder,
      second,
      async stop() {
        const onWarning = (w: Error) => ctx.out.info(`! ${formatError(w)}`)
        for (const r of relays) await r.stop({ deadlineMs: STOP_DEADLINE_MS, onWarning })
        if (second)
          await stopWithin(
            'validators, keeper and chain B',
            STOP_DEADLINE_MS * 2,
            () => second?.stop(),
            onWarning,
          )
        if (started) await stopWithin('NATS nodes', STOP_DEADLINE_MS * 2, () => started.stop(), onWarning)
        if (anvil) await stopWithin('chain (anvil)', STOP_DEADLINE_MS, () => anvil?.stop(), onWarning)
      },
    }
  } catch (err) {
    for (const r of relays) await r.stop().catch(() => undefined)
    await second?.stop().catch(() => undefined)
    await (nats ?? (await natsStarting?.catch(() => undefined)))?.stop()
    await anvil?.stop()
    throw err
  }
}

/** Reuses the deployment recorded under --home if its contracts have code on this chain, else deploys. */
async function ensureDeployment(
  ctx: CliContext,
  {
    rpc,
    chainId,
    deployer,
    deploy,
  }: { rpc: string; chainId: number; deployer: LocalAccount | undefined; deploy: boolean },
): Promise<{ deployment: Deployment; deployed: SealpostDeployment | undefined }> {
  const publicClient = createPublicClient({ transport: http(rpc, { retryCount: 1 }) })
  let recorded: Deployment | undefined
  try {
    recorded = readDeploymentFile(ctx.deploymentFile)
  } catch {
    recorded = undefined
  }
  if (recorded && recorded.chainId === chainId) {
    const [registryCode, anchorCode] = await Promise.all([
      publicClient.getCode({ address: recorded.keyRegistry }),
      publicClient.getCode({ address: recorded.messageAnchor }),
    ])
    if (registryCode && registryCode !== '0x' && anchorCode && anchorCode !== '0x') {
      ctx.out.info(`Reusing the deployment recorded in ${ctx.deploymentFile}`)
      return { deployment: recorded, deployed: undefined }
    }
  }
  if (!deploy || !deployer) throw new DeploymentNotFoundError({ path: ctx.deploymentFile })
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
    statementVerifier: deployed.statementVerifier,
    deployBlock: deployed.deployBlock,
    rpcUrl: rpc,
  }
  writeDeploymentRecord(ctx.deploymentFile, deployment)
  ctx.out.info(`Deployment recorded in ${ctx.deploymentFile}`)
  return { deployment, deployed }
}

/** Writes the deployment record (public data, mode 0644) where --deployment / SEALPOST_DEPLOYMENT / --home says. */
function writeDeploymentRecord(path: string, deployment: Deployment): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const { deployBlock, ...rest } = deployment
  writeFileSync(path, `${JSON.stringify({ ...rest, deployBlock: deployBlock.toString() }, null, 2)}\n`)
}

/**
 * A dashboard attached to a running stack.
 *
 * @example const { server } = await serveStackDashboard(ctx, stack, { port: 8788, host: '127.0.0.1', demo: false })
 */
export type StackDashboard = {
  server: DashboardServer
  collector: Collector
  demo: DemoTraffic | undefined
  stop(): Promise<void>
}

/**
 * Serves the dashboard for `stack` and, with `demo`, runs the scripted multi-party exchange on it (local chain
 * only: the parties are funded from anvil's accounts).
 *
 * @example const dashboard = await serveStackDashboard(ctx, stack, { port: 8788, host: '127.0.0.1', demo: true })
 */
export async function serveStackDashboard(
  ctx: CliContext,
  stack: Stack,
  { port, host, demo, token }: { port: number; host: string; demo: boolean; token?: string | undefined },
): Promise<StackDashboard> {
  if (demo && !stack.anvil) throw new ArgumentError('--demo needs the local chain.')
  const hub = new DashboardHub()
  const collector = createCollector(hub)
  hub.emit({
    type: 'hello',
    at: Date.now(),
    chainId: stack.deployment.chainId,
    rpc: stack.rpc,
    relay: stack.relay.url,
    keyRegistry: stack.deployment.keyRegistry,
    messageAnchor: stack.deployment.messageAnchor,
    demo,
  })
  const detach = stack.nats
    ? attachCluster(collector, { relays: stack.relays, nats: stack.nats.nodes })
    : attachRelayNode(collector, stack.relay)
  const detachChains = stack.second
    ? attachChains(collector, {
        chains: [
          { name: 'A', rpc: stack.rpc, chainId: stack.deployment.chainId },
          { name: 'B', rpc: stack.second.rpc, chainId: stack.second.deployment.chainId },
        ],
        mirror: {
          originRpc: stack.rpc,
          destinationRpc: stack.second.rpc,
          keyRegistry: stack.deployment.keyRegistry,
          messageAnchor: stack.deployment.messageAnchor,
          mirror: stack.second.mirroring.mirror,
          fromBlock: stack.second.mirroring.origin.deployBlock,
        },
      })
    : undefined
  let server: DashboardServer | undefined
  let traffic: DemoTraffic | undefined
  let dir: string | undefined
  const stop = async () => {
    const onWarning = (w: Error) => ctx.out.info(`! ${formatError(w)}`)
    if (traffic) await stopWithin('demo traffic', STOP_DEADLINE_MS, () => traffic?.stop(), onWarning)
    detach()
    detachChains?.()
    collector.stop()
    // Closes the SSE streams and idle keep-alive connections, which otherwise hold the server open.
    if (server) await stopWithin('dashboard', STOP_DEADLINE_MS, () => server?.stop(), onWarning)
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
  try {
    server = await startDashboardServer({ hub, port, host, token })
    if (demo && stack.anvil) {
      const done = ctx.out.step('Registering the demo parties and opening their conversations')
      dir = mkdtempSync(join(tmpdir(), 'sealpost-up-demo-'))
      traffic = await startDemoTraffic({
        network: { rpc: stack.rpc, deployment: stack.deployment, relay: stack.relay.url, dir },
        keys: stack.anvil.accounts.slice(1, 7) as Hex[],
        observe: (client, label) => {
          const off = attachClient(collector, client, label)
          // The demo's clients feed the relay's IDS too, so its event stream holds what they refused (ids.md §7).
          const untap = stack.relay.ids && tapClient(client, stack.relay.ids.sink)
          return () => {
            off()
            untap?.()
          }
        },
        onError: (err) => ctx.out.debug && console.error(err),
      })
      done(
        'Alice, Bob, Carol, Dave and the team group "ops"; Alice\'s phone is linked by her approval, rotated and revoked (Bob and Carol alerted); Mallory tampers, Rita replays, the revoked phone\'s message is forwarded, Carol forges an admin commit',
      )
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { server, collector, demo: traffic, stop }
}
