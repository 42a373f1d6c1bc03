/**
 * A relay node: the WebSocket relay, its SQLite store, a registry watcher and an anchorer, wired together (and, when
 * configured, the Hyperlane relayer role of cross-chain mirroring).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { createPublicClient, createWalletClient, type Hex, http, type PublicClient } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { Anchorer, type AnchorerOptions } from '../anchor/Anchorer.js'
import type { Deployment } from '../chain/deployment.js'
import { withChainErrors } from '../chain/errors.js'
import { RegistryWatcher } from '../chain/registryWatcher.js'
import type { Relayer, RelayOutcome } from '../crosschain/relayer.js'
import { type HyperlaneRelayerConfig, relayerFromConfig } from '../crosschain/relayerConfig.js'
import { tapAnchorLogs } from '../ids/anchorTap.js'
import { tapRegistryWatcher } from '../ids/chainTap.js'
import type { IdsConfig } from '../ids/engine.js'
import { type LiveIds, startLiveIds } from '../ids/liveIds.js'
import type { ResponsePolicy } from '../ids/response.js'
import { JetStreamLease } from '../store/jetStreamLease.js'
import { JetStreamLeaves } from '../store/jetStreamLeaves.js'
import { JetStreamRelayStore } from '../store/jetStreamRelayStore.js'
import { type RelayStore, SqliteRelayStore } from '../store/relayStore.js'
import { ClusterDelivery } from './cluster.js'
import { ClusterAnchor } from './clusterAnchor.js'
import { RelayInternalError, RelayUnavailableError } from './errors.js'
import { forwardLeaves } from './forwardLeaves.js'
import { relayIdsPolicy } from './idsPolicy.js'
import { publishReceipts } from './publishReceipts.js'
import { type RelayLimits, RelayServer } from './RelayServer.js'
import { createSponsor, type Sponsor, type SponsorPolicy } from './sponsor.js'
import { relayHttpHandler } from './sponsorHttp.js'
import { stopWithin } from './stopWithin.js'

/**
 * Options of `startRelayNode()`.
 *
 * @example const options: RelayNodeOptions = { rpc, deployment, dir: '~/.sealpost/relay', anchorAccount }
 */
export type RelayNodeOptions = {
  /** JSON-RPC URL of the chain. */
  rpc: string
  deployment: Deployment
  /**
   * Directory for the node's state. `relay.sqlite` and `anchor.sqlite` go into a subdirectory keyed to the chain and
   * deployment (see {@link relayStateDir}), so state left by a run against another chain is never read.
   */
  dir: string
  port?: number | undefined
  host?: string | undefined
  limits?: Partial<RelayLimits> | undefined
  /** RPC URL the anchorer uses, when it differs from `rpc` (a dedicated endpoint, or a test proxy). */
  anchorRpc?: string | undefined
  /** Pays for anchor transactions. Without it the node relays but does not anchor. */
  anchorAccount?: LocalAccount | undefined
  anchor?:
    | Pick<
        AnchorerOptions,
        | 'batchSize'
        | 'batchIntervalMs'
        | 'confirmations'
        | 'finalityDepth'
        | 'recheckIntervalMs'
        | 'pollingIntervalMs'
      >
    | undefined
  /**
   * Pays for users' signed KeyRegistry operations posted to `POST /v1/sponsor` (docs/protocol.md §9.9), under
   * `policy` (defaults: `defaultSponsorPolicy`). Without it the endpoint answers 404 `not-offered`. Use an account
   * of its own: two senders sharing one account race on nonces.
   */
  sponsor?: { account: LocalAccount; policy?: Partial<SponsorPolicy> | undefined } | undefined
  /** RPC polling interval of the watcher, in ms. Default 1000. */
  pollingInterval?: number | undefined
  durability?: 'process' | 'power' | undefined
  /**
   * Keep envelopes and relay state in a NATS JetStream cluster instead of `relay.sqlite` (docs/architecture.md §5a):
   * its server URLs and the replicas of the stream and bucket (default 3). Stream and bucket names are keyed to the
   * chain and deployment like the state directory.
   */
  nats?:
    | {
        servers: string[]
        replicas?: number | undefined
        /** The anchor lease's expiry and check period (`ClusterAnchor`); defaults 10,000 and 1,000 ms. */
        lease?: { ttlMs?: number | undefined; checkMs?: number | undefined } | undefined
      }
    | undefined
  /**
   * Run a live IDS (docs/ids.md §7): the relay's and the registry watcher's events go to an `IdsEngine`, which
   * writes `ids-alerts.jsonl` (hash-chained), with `events` also `ids-events.jsonl` (every event as a JSON line, for
   * replay: off by default, as it costs more than the engine itself), and on stop `ids-state.json` (restored on the
   * next start) into `dir` (default: the node's `stateDir`). The anchor account counts as a known anchorer. `true`
   * is `{}`.
   */
  ids?:
    | boolean
    | {
        dir?: string | undefined
        config?: Partial<IdsConfig> | undefined
        /** Also write the event stream `ids-events.jsonl` (default false). */
        events?: boolean | undefined
        /** What alerts make the relay do (quarantine, throttle; docs/ids.md §4a). */
        response?: Partial<ResponsePolicy> | undefined
      }
    | undefined
  /**
   * Also run the Hyperlane relayer role (docs/cross-chain.md): deliver the messages of `config`'s origin Mailbox to
   * its destination with the validators' signatures, paying from `account` on the destination, every
   * `config.intervalMs`. Each pass's outcomes go to `onOutcomes`, a failed pass to `onError` (it retries).
   */
  hyperlaneRelayer?:
    | {
        config: HyperlaneRelayerConfig
        account: LocalAccount
        onOutcomes?: ((outcomes: RelayOutcome[]) => void) | undefined
        onError?: ((err: unknown) => void) | undefined
      }
    | undefined
}

/**
 * A running relay node.
 *
 * @example const { url, anchorer, stop }: RelayNode = await startRelayNode(options)
 */
export type RelayNode = {
  url: string
  /** Where this node keeps its databases: the subdirectory of `dir` for this chain and deployment. */
  stateDir: string
  server: RelayServer
  /** The anchorer of a relay on SQLite (in a cluster, see `clusterAnchor`). */
  anchorer: Anchorer | undefined
  /** In a cluster with an anchor account: the anchor lease and, while this relay holds it, its anchorer. */
  clusterAnchor: ClusterAnchor | undefined
  store: RelayStore
  watcher: RegistryWatcher
  publicClient: PublicClient
  /** The sponsor, when the node was given a sponsor account. */
  sponsor: Sponsor | undefined
  /** The live IDS, when the node was started with `ids`. */
  ids: LiveIds | undefined
  /** The Hyperlane relayer role, when the node was started with `hyperlaneRelayer`. */
  hyperlaneRelayer: Relayer | undefined
  /**
   * Stops the server (closing every WebSocket and HTTP connection), the anchorer, the watcher and the store. Each of
   * the server and the anchorer gets `deadlineMs` (default 5000; an anchor transaction may be waiting for its
   * block): past it, `onWarning` hears a `StopTimeoutError` and the stop goes on.
   */
  stop(options?: {
    deadlineMs?: number | undefined
    onWarning?: ((warning: Error) => void) | undefined
  }): Promise<void>
}

/**
 * Starts a relay node. A leaf's path: the relay's LEAF frames go to the anchorer (`forwardLeaves.ts`), which
 * anchors them in batches (`anchor/`); each receipt comes back on the topic it was requested for as a `receipt`
 * envelope (`publishReceipts.ts`), so senders and recipients get it in order with the messages.
 *
 * @example
 * const node = await startRelayNode({ rpc, deployment, dir: '~/.sealpost/relay', port: 8787, anchorAccount })
 * console.log(node.url)
 */
export async function startRelayNode(options: RelayNodeOptions): Promise<RelayNode> {
  const pollingInterval = options.pollingInterval ?? 1000
  const publicClient = createPublicClient({
    transport: http(options.rpc, { retryCount: 1 }),
    pollingInterval,
  }) as PublicClient
  const { hash: deployBlockHash } = await withChainErrors(() =>
    publicClient.getBlock({ blockNumber: options.deployment.deployBlock }),
  )
  const stateDir = relayStateDir(options.dir, options.deployment, deployBlockHash as Hex)
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  writeFileSync(
    join(stateDir, 'chain.json'),
    `${JSON.stringify(
      {
        chainId: options.deployment.chainId,
        keyRegistry: options.deployment.keyRegistry,
        messageAnchor: options.deployment.messageAnchor,
        deployBlock: options.deployment.deployBlock.toString(),
        deployBlockHash,
      },
      null,
      2,
    )}\n`,
  )
  const jetStream = options.nats
    ? await JetStreamRelayStore.open({
        servers: options.nats.servers,
        replicas: options.nats.replicas,
        prefix: `sealpost_${basename(stateDir)}`,
        deployment: `chain ${options.deployment.chainId}, anchor ${options.deployment.messageAnchor.toLowerCase()}, block ${deployBlockHash}`,
      })
    : undefined
  const store: RelayStore =
    jetStream ??
    SqliteRelayStore.open({ path: join(stateDir, 'relay.sqlite'), durability: options.durability })
  // A relay of a cluster delivers what any relay stored, read back from the shared stream (cluster.ts).
  const cluster = jetStream && new ClusterDelivery(jetStream)
  const watcher = new RegistryWatcher({
    publicClient,
    registry: options.deployment.keyRegistry,
    fromBlock: options.deployment.deployBlock,
    pollingInterval,
  })
  const ids = startNodeIds(options, stateDir)
  let untapChain: (() => void) | undefined
  let server: RelayServer | undefined
  let anchorer: Anchorer | undefined
  let clusterAnchor: ClusterAnchor | undefined
  const hyperlane = options.hyperlaneRelayer
  const hyperlaneRelayer =
    hyperlane && relayerFromConfig(hyperlane.config, hyperlane.account, { pollingInterval })
  try {
    if (options.anchorAccount) {
      const anchorRpc = options.anchorRpc ?? options.rpc
      const anchorerOptions = {
        walletClient: createWalletClient({
          account: options.anchorAccount,
          transport: http(anchorRpc, { retryCount: 1 }),
          pollingInterval,
        }),
        publicClient: options.anchorRpc
          ? (createPublicClient({
              transport: http(anchorRpc, { retryCount: 1 }),
              pollingInterval,
            }) as PublicClient)
          : publicClient,
        contract: options.deployment.messageAnchor,
        chainId: options.deployment.chainId,
        ...options.anchor,
      }
      if (jetStream) {
        // In a cluster, the relay holding the anchor lease anchors every relay's leaves (clusterAnchor.ts).
        const prefix = `sealpost_${basename(stateDir)}`
        const replicas = options.nats?.replicas ?? 3
        clusterAnchor = new ClusterAnchor({
          lease: await JetStreamLease.open(jetStream.parts, { prefix, name: 'anchor', replicas }),
          leaves: await JetStreamLeaves.open(jetStream.parts, { prefix, replicas }),
          holder: jetStream.instanceId,
          createAnchorer: (o) => new Anchorer({ ...anchorerOptions, ...o }),
          publish: (envelope) =>
            server ? server.publishSystem(envelope) : Promise.reject(new RelayUnavailableError()),
          ttlMs: options.nats?.lease?.ttlMs,
          checkMs: options.nats?.lease?.checkMs,
        })
      } else
        anchorer = new Anchorer({
          ...anchorerOptions,
          db: { path: join(stateDir, 'anchor.sqlite') },
          onReceipt: publishReceipts(() => server),
        })
      if (anchorer) ids?.anchorHeads(anchorer) // the alert-log head is anchored like messages (protocol §16.1)
    }
    const sponsor =
      options.sponsor &&
      createSponsor({
        publicClient,
        walletClient: createWalletClient({
          account: options.sponsor.account,
          transport: http(options.rpc, { retryCount: 1 }),
          pollingInterval,
        }),
        registry: options.deployment.keyRegistry,
        chainId: options.deployment.chainId,
        policy: options.sponsor.policy,
      })
    server = new RelayServer({
      http: relayHttpHandler(sponsor),
      store,
      watcher,
      chainId: options.deployment.chainId,
      registry: options.deployment.keyRegistry,
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
      limits: options.limits,
      anchorer: clusterAnchor?.sink ?? (anchorer && forwardLeaves(anchorer)),
      fanout: cluster?.fanout,
      ids: ids?.sink,
      idsPolicy:
        ids && relayIdsPolicy({ log: ids.responses, intervalMs: ids.responsePolicy.throttleIntervalMs }),
    })
    // The server wants an unsynced watcher so that it sees every DeviceAdded event; it syncs it on start.
    const { url } = await server.start()
    // Tapped after the server's first sync: the registry's history a starting relay reads is not new activity.
    if (ids) {
      const untapRegistry = tapRegistryWatcher(watcher, ids.sink, {
        submitterOf: (hash) => publicClient.getTransaction({ hash }).then((t) => t.from),
      })
      // Roots anchored by anyone but a known anchorer (this node's account, `ids.config.knownAnchorers`).
      const anchorTap = tapAnchorLogs(publicClient, ids.sink, { contract: options.deployment.messageAnchor })
      untapChain = () => {
        untapRegistry()
        anchorTap.stop()
      }
    }
    await cluster?.start(server, { onError: (err) => reportCluster(server, err) })
    await watcher.start()
    anchorer?.start()
    clusterAnchor?.start()
    hyperlaneRelayer?.start(hyperlane?.config.intervalMs ?? 1000, {
      onOutcomes: hyperlane?.onOutcomes,
      onError: hyperlane?.onError,
    })
    const started = server
    return {
      url,
      stateDir,
      server: started,
      anchorer,
      clusterAnchor,
      store,
      watcher,
      publicClient,
      sponsor,
      ids,
      hyperlaneRelayer,
      async stop({ deadlineMs = 5000, onWarning = () => {} } = {}) {
        if (hyperlaneRelayer)
          await stopWithin('Hyperlane relayer', deadlineMs, () => hyperlaneRelayer.stop(), onWarning)
        if (clusterAnchor)
          await stopWithin('anchor lease', deadlineMs, () => clusterAnchor?.stop(), onWarning)
        await stopWithin('relay server', deadlineMs, () => started.stop(), onWarning)
        await cluster?.stop()
        if (anchorer) await stopWithin('anchorer', deadlineMs, () => anchorer?.stop(), onWarning)
        watcher.stop()
        untapChain?.()
        await ids?.stop()
        await store.close()
      },
    }
  } catch (err) {
    await hyperlaneRelayer?.stop().catch(() => undefined)
    await clusterAnchor?.stop().catch(() => undefined)
    await server?.stop().catch(() => undefined)
    await cluster?.stop().catch(() => undefined)
    await anchorer?.stop().catch(() => undefined)
    watcher.stop()
    untapChain?.()
    await ids?.stop().catch(() => undefined)
    await store.close()
    throw err
  }
}

/**
 * The node's state directory under `dir` for one chain and deployment: chain id, MessageAnchor and the hash of the
 * deployment block. A fresh local chain that reuses the chain id, the contract addresses and even the block number
 * (anvil does) has another block hash, so a database left by an earlier chain (its anchors, whose transactions this
 * chain never saw, would look reorged) is never opened; `chain.json` inside records the full identity.
 *
 * @example relayStateDir('/home/me/.sealpost/relay', deployment, blockHash) // '/home/me/.sealpost/relay/31337-5fbdb231-a1b2c3d4e5f6'
 */
function relayStateDir(
  dir: string,
  deployment: Pick<Deployment, 'chainId' | 'messageAnchor'>,
  deployBlockHash: Hex,
): string {
  const anchor = deployment.messageAnchor.slice(2, 10).toLowerCase()
  return join(dir, `${deployment.chainId}-${anchor}-${deployBlockHash.slice(2, 14).toLowerCase()}`)
}

/** The node's live IDS, when asked for: in `stateDir` unless told otherwise, the anchor account a known anchorer. */
function startNodeIds(options: RelayNodeOptions, stateDir: string): LiveIds | undefined {
  if (!options.ids) return undefined
  const o = options.ids === true ? {} : options.ids
  const anchorers = options.anchorAccount ? [options.anchorAccount.address.toLowerCase()] : []
  const known = [...anchorers, ...(o.config?.knownAnchorers ?? [])]
  return startLiveIds({
    dir: o.dir ?? stateDir,
    config: { ...o.config, knownAnchorers: known },
    response: o.response,
    writeEvents: o.events === true,
  })
}

/** A failure of the cluster's stream consumer (it resumes by itself), as the server's 'error' event. */
function reportCluster(server: RelayServer | undefined, err: unknown): void {
  if (server && server.listenerCount('error') > 0)
    server.emit('error', new RelayInternalError({ operation: 'cluster follow', cause: err }))
}
