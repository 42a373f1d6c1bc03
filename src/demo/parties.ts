/** The demo's parties: one passphrase and key cost for all, registered offline or connected to the relay. */
import { join } from 'node:path'
import type { Hex, PublicClient } from 'viem'
import { generatePrivateKey, type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { Client, type ClientParameters } from '../client/Client.js'
import { connectClient } from '../client/connect.js'
import type { Deployment } from '../client/deployment.js'
import { loadDevice } from '../client/identity.js'
import { RelayTransport } from '../client/relayTransport.js'

/**
 * Passphrase of every demo key file (the demo's homes are temporary).
 *
 * @example partyParameters(network, party).passphrase === DEMO_PASSPHRASE
 */
export const DEMO_PASSPHRASE = 'sealpost demo passphrase'

/**
 * scrypt cost of the demo's key files: cheap, so a dozen parties start in seconds.
 *
 * @example await Client.create({ ...options, kdf: { ...DEMO_KDF } })
 */
export const DEMO_KDF = { N: 2 ** 14, r: 8, p: 1 } as const

/**
 * Where the demo's parties live: the chain, the contracts, the relay, and the directory of their homes.
 *
 * @example const network: DemoNetwork = { rpc, deployment, relay: relay.url, dir, pollingInterval: 200 }
 */
export type DemoNetwork = {
  rpc: string
  deployment: Deployment
  /** Relay WebSocket URL. */
  relay: string
  /** Directory holding one home per party. */
  dir: string
  /** Chain polling interval of the parties' clients, in ms. */
  pollingInterval: number
}

/**
 * One party: a home under the network's directory, an account, a device.
 *
 * @example const phone: DemoParty = { name: 'alice', account, device: 'phone' }
 */
export type DemoParty = { name: string; account: LocalAccount; device?: string | undefined }

/**
 * The client parameters of `party` on `network` (without a transport).
 *
 * @example const options = partyParameters(network, { name: 'alice', account })
 */
export function partyParameters(
  network: DemoNetwork,
  party: DemoParty,
): Omit<ClientParameters, 'account' | 'deployment'> & { account: LocalAccount; deployment: Deployment } {
  return {
    account: party.account,
    home: join(network.dir, party.name),
    rpc: network.rpc,
    deployment: network.deployment,
    passphrase: DEMO_PASSPHRASE,
    device: party.device ?? 'default',
    kdf: { ...DEMO_KDF },
    pollingInterval: network.pollingInterval,
  }
}

/**
 * Connects `party` to the relay and starts live mode; registers the device first unless `register` is false.
 *
 * @example const alice = await connectParty(network, { name: 'alice', account })
 */
export function connectParty(
  network: DemoNetwork,
  party: DemoParty,
  { register, beforeStart }: { register?: boolean; beforeStart?: (client: Client) => void } = {},
): Promise<Client> {
  return connectClient({
    ...partyParameters(network, party),
    relay: network.relay,
    ...(register !== undefined ? { register } : {}),
    ...(beforeStart ? { beforeStart } : {}),
  })
}

/**
 * Authenticates `party`'s device to the relay and nothing more: unlike a client, it subscribes to nothing and
 * processes nothing, so probing whether the relay still admits a stolen device leaves the thief's copy of its
 * state as it was (a client that got in would catch up on its own removal).
 *
 * @example await (await authenticateParty(network, phone)).close() // throws RelayAuthError once revoked
 */
export async function authenticateParty(
  network: DemoNetwork,
  party: DemoParty,
): Promise<{ close(): Promise<void> }> {
  const keys = await loadDevice({
    home: join(network.dir, party.name),
    name: party.device ?? 'default',
    passphrase: DEMO_PASSPHRASE,
  })
  return RelayTransport.connect({
    url: network.relay,
    account: party.account.address,
    deviceId: keys.deviceId,
    sign: (m) => keys.signingKey.sign(m),
    expect: { chainId: network.deployment.chainId, registry: network.deployment.keyRegistry },
  })
}

/**
 * Registers `party`'s device on chain without a relay (to show the transaction), then closes it.
 *
 * @example const { txHash, gasUsed } = await registerOffline(network, { name: 'bob', account })
 */
export async function registerOffline(
  network: DemoNetwork,
  party: DemoParty,
): Promise<Awaited<ReturnType<Client['register']>>> {
  const offline = await Client.create(partyParameters(network, party))
  try {
    return await offline.register({ keyPackages: 0 })
  } finally {
    await offline.close()
  }
}

/**
 * Opens `party`'s device with no transport: a device that can seal and sign but not reach the relay (a thief's).
 *
 * @example const stolenPhone = await openOffline(network, { name: 'alice', account, device: 'phone' })
 */
export function openOffline(network: DemoNetwork, party: DemoParty): Promise<Client> {
  return Client.create(partyParameters(network, party))
}

/**
 * The account of `key` or, without one, a fresh account given 10 ETH on the local chain (`anvil_setBalance`): a
 * demo party can always register, however many anvil accounts the caller passed.
 *
 * @example const carol = await fundedAccount(publicClient, keys[2])
 */
export async function fundedAccount(
  publicClient: PublicClient,
  key?: Hex | undefined,
): Promise<LocalAccount> {
  if (key) return privateKeyToAccount(key)
  const account = privateKeyToAccount(generatePrivateKey())
  await publicClient.request({
    method: 'anvil_setBalance' as never,
    params: [account.address, `0x${(10n ** 19n).toString(16)}`] as never,
  })
  return account
}
