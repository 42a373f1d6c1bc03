/** Global CLI options (--home, --rpc, --deployment, --json, --debug) and the environment variables behind them. */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { mapChainError, WrongChainError } from '../chain/errors.js'
import { type Deployment, deploymentPath, readDeploymentFile } from '../client/deployment.js'
import { loadAccount } from '../client/identity.js'
import { resolvePassphrase } from '../store/keystore.js'
import { ArgumentError } from './errors.js'
import { resolveMaxKeyAge } from './keyAge.js'
import type { Output } from './output.js'

/**
 * Everything a command needs from the global flags.
 *
 * @example const account = await ctx.account(); const deployment = await ctx.deployment()
 */
export type CliContext = {
  home: string
  rpc: string
  /** The deployment record: --deployment FILE, else SEALPOST_DEPLOYMENT, else `<home>/deployment.json`. */
  deploymentFile: string
  /** Whether `deploymentFile` was named (flag or environment) rather than defaulted from --home. */
  deploymentNamed: boolean
  out: Output
  /** The rotation policy, in ms: --max-key-age, else SEALPOST_MAX_KEY_AGE (key-management.md §6). */
  maxKeyAge: number | undefined
  /** The passphrase from SEALPOST_PASSPHRASE (or --passphrase-env NAME). */
  passphrase(): string
  /** Unlocks the account key under --home. */
  account(): Promise<LocalAccount>
  /** The recorded deployment; checks the chain id against --rpc. */
  deployment(): Promise<Deployment>
}

/**
 * Default RPC URL when neither --rpc, SEALPOST_RPC nor a recorded deployment names one.
 *
 * @example createContext({ out }).rpc // DEFAULT_RPC when nothing else names one
 */
export const DEFAULT_RPC = 'http://127.0.0.1:8545'

/**
 * Resolves --home: flag, then SEALPOST_HOME, then ~/.sealpost.
 *
 * @example resolveHome(undefined, { SEALPOST_HOME: '/tmp/alice' }) // '/tmp/alice'
 */
export function resolveHome(flag: string | undefined, env = process.env): string {
  return resolve(flag ?? env.SEALPOST_HOME ?? join(homedir(), '.sealpost'))
}

/**
 * Resolves the deployment record: --deployment, then SEALPOST_DEPLOYMENT, then `<home>/deployment.json`.
 *
 * @example resolveDeploymentFile(undefined, '/tmp/alice', {}) // { path: '/tmp/alice/deployment.json', named: false }
 */
export function resolveDeploymentFile(
  flag: string | undefined,
  home: string,
  env = process.env,
): { path: string; named: boolean } {
  const named = flag ?? (env.SEALPOST_DEPLOYMENT || undefined)
  return named === undefined
    ? { path: deploymentPath(home), named: false }
    : { path: resolve(named), named: true }
}

/**
 * Builds the command context from the parsed global flags.
 *
 * @example const ctx = createContext({ home: flags.home, rpc: flags.rpc, out })
 */
export function createContext({
  home: homeFlag,
  rpc: rpcFlag,
  deployment: deploymentFlag,
  passphraseEnv,
  maxKeyAge,
  out,
}: {
  home?: string | undefined
  rpc?: string | undefined
  deployment?: string | undefined
  passphraseEnv?: string | undefined
  maxKeyAge?: string | undefined
  out: Output
}): CliContext {
  const home = resolveHome(homeFlag)
  const { path: deploymentFile, named: deploymentNamed } = resolveDeploymentFile(deploymentFlag, home)
  let recorded: Deployment | undefined
  try {
    recorded = readDeploymentFile(deploymentFile)
  } catch {
    recorded = undefined
  }
  const rpc = rpcFlag ?? process.env.SEALPOST_RPC ?? recorded?.rpcUrl ?? DEFAULT_RPC
  const passphrase = () =>
    resolvePassphrase({ passphrase: passphraseEnv ? process.env[passphraseEnv] : undefined })
  return {
    home,
    rpc,
    deploymentFile,
    deploymentNamed,
    out,
    maxKeyAge: resolveMaxKeyAge(maxKeyAge),
    passphrase,
    account: () => loadAccount({ home, passphrase: passphrase() }),
    async deployment() {
      const deployment = readDeploymentFile(deploymentFile)
      const chainId = await createPublicClient({ transport: http(rpc, { retryCount: 0 }) })
        .getChainId()
        .catch((err) => {
          throw mapChainError(err)
        })
      if (chainId !== deployment.chainId)
        throw new WrongChainError({ expected: deployment.chainId, actual: chainId })
      return deployment
    },
  }
}

/**
 * A wallet client for `account` on `rpc` (chain taken from the node).
 *
 * @example await deploySealpost(walletFor(account, ctx.rpc), publicFor(ctx.rpc))
 */
export function walletFor(
  account: LocalAccount,
  rpc: string,
): WalletClient<Transport, Chain | undefined, Account> {
  return createWalletClient({ account, transport: http(rpc, { retryCount: 0 }) })
}

/**
 * A public client on `rpc`.
 *
 * @example const chainId = await publicFor(ctx.rpc).getChainId()
 */
export function publicFor(rpc: string): PublicClient {
  return createPublicClient({ transport: http(rpc, { retryCount: 0 }) })
}

/**
 * Parses a 0x-prefixed 32-byte hex value from the command line.
 *
 * @example const deviceId = parseBytes32(argv[0], 'Device id')
 */
export function parseBytes32(value: string, what: string): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value))
    throw new ArgumentError(`${what} must be 0x followed by 64 hex digits.`)
  return value.toLowerCase() as Hex
}
