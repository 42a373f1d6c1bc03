/** `up --chains 2`: the second local chain (31338), Hyperlane's core on both, the mirror pair A → B and its operators. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createPublicClient, createWalletClient, getAddress, type Hex, http } from 'viem'
import { generatePrivateKey, type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { type Anvil, startAnvil } from '../chain/anvil.js'
import { deploySealpost } from '../chain/deploy.js'
import type { Deployment } from '../chain/deployment.js'
import { withChainErrors } from '../chain/errors.js'
import { directoryCheckpointStore } from '../crosschain/checkpointStore.js'
import { deployMirroring, type MirroringDeployment } from '../crosschain/deploy.js'
import { deployInboxPair } from '../crosschain/inboxDeploy.js'
import { INBOX_ROUTE_FILE, type InboxRoute, writeInboxRoute } from '../crosschain/inboxRoute.js'
import { MirrorKeeper } from '../crosschain/keeper.js'
import type { HyperlaneRelayerConfig } from '../crosschain/relayerConfig.js'
import { Validator } from '../crosschain/validator.js'
import { formatError } from '../errors.js'
import type { CliContext } from './context.js'

/** Chain id of the second local chain (the first is anvil's 31337). */
export const SECOND_CHAIN_ID = 31338

/** Validators of the local stack and the ISM's threshold: m-of-n 2-of-3. */
const VALIDATORS = 3
const THRESHOLD = 2

/** The environment variable `hyperlane-relayer.json` names for the destination key of a relayer run elsewhere. */
export const RELAYER_KEY_ENV = 'HYPERLANE_RELAYER_KEY'

/**
 * Options of {@link startSecondChain}.
 *
 * @example const o: SecondChainOptions = { rpcA, deploymentA, keysA: anvilA.accounts, blockTime: 1, confirmations: 2 }
 */
export type SecondChainOptions = {
  rpcA: string
  deploymentA: Deployment
  /** Funded keys of chain A (anvil's): account 0 deploys Hyperlane on A, account 7 runs the keeper. */
  keysA: readonly Hex[]
  /** Block time of chain B in seconds (0: automine). */
  blockTime: number
  /** Port of chain B's anvil; default a free port. */
  port?: number | undefined
  /** Confirmations each validator waits for on A before signing (≥ 1). */
  confirmations: number
  /** Poll interval of the validators, the keeper and the relayer, ms. Default 500. */
  intervalMs?: number | undefined
}

/**
 * What {@link startSecondChain} started: chain B with Sealpost's contracts, the mirroring deployment, the three
 * validators and the keeper (running), and the relayer's route and key for the relay node to run.
 *
 * @example const b: SecondChain = await startSecondChain(ctx, options); console.log(b.mirroring.mirror); await b.stop()
 */
export type SecondChain = {
  rpc: string
  anvil: Anvil
  /** Sealpost's contracts on chain B (deployed by another account than A's, so no address is shared). */
  deployment: Deployment
  mirroring: MirroringDeployment
  validators: Validator[]
  keeper: MirrorKeeper
  /** The relayer role for the relay node: its route and the key that pays `Mailbox.process` on B. */
  relayer: { config: HyperlaneRelayerConfig; account: LocalAccount }
  /** The SealpostInbox pair of `send --via hyperlane` (A → B), as recorded in `files.inbox`. */
  inbox: InboxRoute
  /** The records written next to A's deployment record. */
  files: { deployment: string; mirroring: string; relayerConfig: string; inbox: string }
  /** Stops the validators and the keeper, then chain B. */
  stop(): Promise<void>
}

/**
 * The files `up --chains 2` writes next to chain A's deployment record `deploymentFile`: chain B's deployment record
 * (the same format), the mirroring deployment (`crosschain.json`), the relayer configuration
 * (`hyperlane-relayer.json`, for `sealpost relay --hyperlane-relayer`) and the inbox pair of `send --via hyperlane`
 * (`hyperlane-inbox.json`).
 *
 * @example secondChainFiles('/home/me/.sealpost/deployment.json').deployment // '/home/me/.sealpost/deployment-31338.json'
 */
export function secondChainFiles(deploymentFile: string): SecondChain['files'] {
  const dir = dirname(deploymentFile)
  return {
    deployment: join(dir, `deployment-${SECOND_CHAIN_ID}.json`),
    mirroring: join(dir, 'crosschain.json'),
    relayerConfig: join(dir, 'hyperlane-relayer.json'),
    inbox: join(dir, INBOX_ROUTE_FILE),
  }
}

/**
 * Starts chain B and everything mirroring A → B needs, printing each step: anvil (chain id 31338; automine while
 * deploying, then `blockTime`), Sealpost's contracts on B, Hyperlane's core on both chains with a 2-of-3 multisig
 * ISM of three fresh validator keys, SealpostMirrorSender on A and SealpostMirror on B, the records next to A's, the
 * three validators (directory stores under `<home>/crosschain/validators/`) and the keeper. Stops what it started on
 * failure.
 *
 * @example const b = await startSecondChain(ctx, { rpcA, deploymentA, keysA, blockTime: 1, confirmations: 2 })
 */
export async function startSecondChain(ctx: CliContext, options: SecondChainOptions): Promise<SecondChain> {
  const intervalMs = options.intervalMs ?? 500
  const started: { anvil?: Anvil; validators: Validator[]; keeper?: MirrorKeeper } = { validators: [] }
  const stop = async () => {
    await started.keeper?.stop()
    for (const v of started.validators) await v.stop()
    await started.anvil?.stop()
  }
  try {
    let done = ctx.out.step(`Starting the second anvil (chain id ${SECOND_CHAIN_ID})`)
    const anvil = await startAnvil({
      chainId: SECOND_CHAIN_ID,
      ...(options.port ? { port: options.port } : {}),
    })
    started.anvil = anvil
    done(anvil.rpcUrl)
    const transport = (url: string) => http(url, { retryCount: 1 })
    const clientA = createPublicClient({ transport: transport(options.rpcA), pollingInterval: 250 })
    const clientB = createPublicClient({ transport: transport(anvil.rpcUrl), pollingInterval: 250 })
    // Another deployer on B than on A (A's contracts come from its account 9, its Hyperlane core from account 0):
    // the same deployer and nonces would give both chains the same addresses and hide a wrong-chain mistake.
    const walletB = createWalletClient({
      account: privateKeyToAccount(anvil.accounts[1] as Hex),
      transport: transport(anvil.rpcUrl),
      pollingInterval: 250,
    })
    const walletA = createWalletClient({
      account: privateKeyToAccount(options.keysA[0] as Hex),
      transport: transport(options.rpcA),
      pollingInterval: 250,
    })
    let stepDone: ((r?: string) => void) | undefined
    const deployed = await deploySealpost(walletB, clientB, {
      onProgress: (p) => {
        if (p.status === 'sending') stepDone = ctx.out.step(`Deploying ${p.step} on chain B`)
        else stepDone?.(`${p.address} (gas ${p.gasUsed})`)
      },
    })
    const deployment: Deployment = {
      chainId: SECOND_CHAIN_ID,
      keyRegistry: getAddress(deployed.keyRegistry),
      messageAnchor: getAddress(deployed.messageAnchor),
      statementVerifier: getAddress(deployed.statementVerifier),
      deployBlock: deployed.deployBlock,
      rpcUrl: anvil.rpcUrl,
    }
    const validatorAccounts = Array.from({ length: VALIDATORS }, () =>
      privateKeyToAccount(generatePrivateKey()),
    )
    done = ctx.out.step(
      `Deploying Hyperlane's core on both chains and the mirror pair A → B (${THRESHOLD}-of-${VALIDATORS} validators)`,
    )
    const mirroring = await deployMirroring({
      origin: {
        wallet: walletA,
        client: clientA,
        keyRegistry: options.deploymentA.keyRegistry,
        messageAnchor: options.deploymentA.messageAnchor,
      },
      destination: { wallet: walletB, client: clientB },
      validators: validatorAccounts.map((a) => a.address),
      threshold: THRESHOLD,
    })
    done(`sender ${mirroring.sender} on A, mirror ${mirroring.mirror} on B`)
    done = ctx.out.step('Deploying the SealpostInbox pair A ⇄ B (send --via hyperlane)')
    const pair = await deployInboxPair({
      a: { wallet: walletA, client: clientA, core: mirroring.origin },
      b: { wallet: walletB, client: clientB, core: mirroring.destination },
    })
    done(`${pair.a.inbox} on A, ${pair.b.inbox} on B`)
    if (options.blockTime > 0)
      await withChainErrors(() =>
        clientB.request({
          method: 'evm_setIntervalMining' as never,
          params: [options.blockTime] as never,
        }),
      )
    const storeRoot = join(ctx.home, 'crosschain', 'validators')
    rmSync(storeRoot, { recursive: true, force: true }) // signatures of an earlier run's chains and keys
    const storeDirs = validatorAccounts.map((a) => join(storeRoot, a.address))
    const relayerAccount = privateKeyToAccount(anvil.accounts[2] as Hex)
    const config: HyperlaneRelayerConfig = {
      origin: {
        rpc: options.rpcA,
        mailbox: mirroring.origin.mailbox,
        fromBlock: mirroring.origin.deployBlock,
      },
      destination: {
        rpc: anvil.rpcUrl,
        mailbox: mirroring.destination.mailbox,
        domain: mirroring.destination.domain,
      },
      validatorStores: storeDirs,
      keyEnv: RELAYER_KEY_ENV,
      intervalMs,
    }
    const files = secondChainFiles(ctx.deploymentFile)
    writeRecords(files, { deployment, mirroring, config })
    // The same validators and relayer deliver the inbox pair's messages (the same Mailboxes and ISM).
    const inbox: InboxRoute = {
      origin: {
        domain: mirroring.origin.domain,
        rpcUrl: options.rpcA,
        inbox: getAddress(pair.a.inbox),
        mailbox: getAddress(mirroring.origin.mailbox),
        merkleTreeHook: getAddress(mirroring.origin.merkleTreeHook),
      },
      destination: {
        domain: mirroring.destination.domain,
        rpcUrl: anvil.rpcUrl,
        inbox: getAddress(pair.b.inbox),
        mailbox: getAddress(mirroring.destination.mailbox),
      },
      validatorStores: storeDirs,
      threshold: THRESHOLD,
    }
    writeInboxRoute(files.inbox, inbox)
    done = ctx.out.step(
      `Starting ${VALIDATORS} validators (${options.confirmations} confirmation${options.confirmations === 1 ? '' : 's'} on A) and the mirror keeper`,
    )
    const warn = (role: string) => (err: unknown) => ctx.out.info(`! ${role}: ${formatError(err)}`)
    started.validators = validatorAccounts.map((account, i) => {
      const v = new Validator({
        client: clientA,
        account,
        origin: mirroring.origin.domain,
        merkleTreeHook: mirroring.origin.merkleTreeHook,
        confirmations: options.confirmations,
        store: directoryCheckpointStore(storeDirs[i] as string),
        fromBlock: mirroring.origin.deployBlock,
      })
      v.start(intervalMs, warn(`validator ${i + 1}`))
      return v
    })
    const keeper = new MirrorKeeper({
      client: clientA,
      wallet: createWalletClient({
        account: privateKeyToAccount(options.keysA[7] as Hex),
        transport: transport(options.rpcA),
        pollingInterval: 250,
      }),
      keyRegistry: options.deploymentA.keyRegistry,
      messageAnchor: options.deploymentA.messageAnchor,
      route: mirroring.route,
      fromBlock: mirroring.origin.deployBlock,
    })
    started.keeper = keeper
    keeper.start(intervalMs, { onError: warn('keeper') })
    done(validatorAccounts.map((a) => a.address).join(', '))
    return {
      rpc: anvil.rpcUrl,
      anvil,
      deployment,
      mirroring,
      validators: started.validators,
      keeper,
      relayer: { config, account: relayerAccount },
      inbox,
      files,
      stop,
    }
  } catch (err) {
    await stop().catch(() => undefined)
    throw err
  }
}

/** Writes chain B's deployment record, the mirroring deployment and the relayer configuration (public data). */
function writeRecords(
  files: SecondChain['files'],
  {
    deployment,
    mirroring,
    config,
  }: { deployment: Deployment; mirroring: MirroringDeployment; config: HyperlaneRelayerConfig },
): void {
  mkdirSync(dirname(files.deployment), { recursive: true, mode: 0o700 })
  const json = (v: unknown) =>
    `${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2)}\n`
  writeFileSync(files.deployment, json(deployment))
  const core = (c: MirroringDeployment['origin']) => ({
    domain: c.domain,
    mailbox: c.mailbox,
    merkleTreeHook: c.merkleTreeHook,
    protocolFee: c.protocolFee,
    ismFactory: c.ismFactory,
    ism: c.ism,
    deployBlock: c.deployBlock,
  })
  writeFileSync(
    files.mirroring,
    json({
      origin: { chainId: mirroring.origin.domain, ...core(mirroring.origin), sender: mirroring.sender },
      destination: {
        chainId: mirroring.destination.domain,
        ...core(mirroring.destination),
        mirror: mirroring.mirror,
      },
      validators: mirroring.origin.validators,
      threshold: mirroring.origin.threshold,
    }),
  )
  writeFileSync(files.relayerConfig, json(config))
}
