/** The Hyperlane relayer's configuration file (`sealpost relay --hyperlane-relayer FILE`) and the relayer it builds. */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { createPublicClient, createWalletClient, http, type LocalAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { z } from 'zod'
import { directoryCheckpointStore } from './checkpointStore.js'
import { HyperlaneRelayerConfigError } from './errors.js'
import { Relayer } from './relayer.js'

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'not an address')
const block = z.union([z.string().regex(/^\d{1,20}$/), z.number().int().nonnegative()])

const configSchema = z.object({
  origin: z.object({ rpc: z.string().url(), mailbox: address, fromBlock: block }),
  destination: z.object({ rpc: z.string().url(), mailbox: address, domain: z.number().int().positive() }),
  /** One directory per validator (what `sealpost validator --store` writes); relative to the file. */
  validatorStores: z.array(z.string().min(1)).min(1).max(64),
  /** Environment variable holding the key that pays for `Mailbox.process` on the destination. */
  keyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  intervalMs: z.number().int().positive().optional(),
})

/**
 * One (origin, destination) route for the relayer role: both chains' RPC and Mailbox, the validators' checkpoint
 * stores, the environment variable of the destination key, and the poll interval (default 1000 ms).
 *
 * @example
 * const config: HyperlaneRelayerConfig = readHyperlaneRelayerConfig('~/.sealpost/crosschain/hyperlane-relayer.json')
 */
export type HyperlaneRelayerConfig = {
  origin: { rpc: string; mailbox: `0x${string}`; fromBlock: bigint }
  destination: { rpc: string; mailbox: `0x${string}`; domain: number }
  /** Absolute directories, one per validator. */
  validatorStores: string[]
  keyEnv: string
  intervalMs: number
}

/**
 * Reads and checks a relayer configuration file (JSON, the fields of {@link HyperlaneRelayerConfig}; `fromBlock` a
 * decimal string or number; store directories relative to the file). Throws {@link HyperlaneRelayerConfigError}.
 *
 * @example
 * const config = readHyperlaneRelayerConfig('/home/me/.sealpost/crosschain/hyperlane-relayer.json')
 */
export function readHyperlaneRelayerConfig(path: string): HyperlaneRelayerConfig {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (cause) {
    throw new HyperlaneRelayerConfigError({ path, reason: 'not a readable JSON file', cause })
  }
  const parsed = configSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new HyperlaneRelayerConfigError({
      path,
      reason: `${issue?.path.join('.') || 'the file'}: ${issue?.message ?? 'invalid'}`,
    })
  }
  const c = parsed.data
  return {
    origin: {
      ...c.origin,
      mailbox: c.origin.mailbox as `0x${string}`,
      fromBlock: BigInt(c.origin.fromBlock),
    },
    destination: { ...c.destination, mailbox: c.destination.mailbox as `0x${string}` },
    validatorStores: c.validatorStores.map((d) => resolve(dirname(path), d)),
    keyEnv: c.keyEnv,
    intervalMs: c.intervalMs ?? 1000,
  }
}

/**
 * The destination key named by the configuration's `keyEnv`, from `env`. Throws {@link HyperlaneRelayerConfigError}
 * when the variable does not hold a 0x-prefixed 32-byte key.
 *
 * @example
 * const account = relayerAccountFromEnv(config, 'relayer.json')
 */
export function relayerAccountFromEnv(
  config: Pick<HyperlaneRelayerConfig, 'keyEnv'>,
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): LocalAccount {
  const key = env[config.keyEnv]
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new HyperlaneRelayerConfigError({
      path,
      reason: `environment variable ${config.keyEnv} does not hold a 0x-prefixed 32-byte key`,
    })
  return privateKeyToAccount(key as `0x${string}`)
}

/**
 * The {@link Relayer} a configuration describes, paying on the destination from `account`, reading the validators'
 * directory stores.
 *
 * @example
 * const relayer = relayerFromConfig(config, account); relayer.start(config.intervalMs)
 */
export function relayerFromConfig(
  config: HyperlaneRelayerConfig,
  account: LocalAccount,
  { pollingInterval = 250 }: { pollingInterval?: number } = {},
): Relayer {
  const transport = (url: string) => http(url, { retryCount: 0 })
  const originClient = createPublicClient({ transport: transport(config.origin.rpc), pollingInterval })
  const destinationClient = createPublicClient({
    transport: transport(config.destination.rpc),
    pollingInterval,
  })
  return new Relayer({
    origin: { client: originClient, mailbox: config.origin.mailbox, fromBlock: config.origin.fromBlock },
    destination: {
      client: destinationClient,
      wallet: createWalletClient({ account, transport: transport(config.destination.rpc), pollingInterval }),
      mailbox: config.destination.mailbox,
      domain: config.destination.domain,
    },
    stores: config.validatorStores.map((dir) => directoryCheckpointStore(dir)),
  })
}
