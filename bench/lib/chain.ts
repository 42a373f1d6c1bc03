import { join } from 'node:path'
import { bytesToHex, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { Deployment } from '../../src/client/deployment.js'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'
import { registerTestDevice, testDeviceKeys } from '../../test/utils/devices.js'
import type { Worker } from './proc.js'

/** The benchmark chain: anvil with the contracts and their deployment. */
export type BenchChain = ChainContext & { deployment: Deployment }

/** A registered device whose key a worker process can load, with the deployment its relay must announce. */
export type RegisteredDevice = {
  account: Hex
  deviceId: Hex
  pkcs8: Hex
  expect: { chainId: number; registry: Hex }
}

/** Starts anvil and deploys the contracts. */
export async function benchChain(): Promise<BenchChain> {
  const ctx = await setupChain()
  return {
    ...ctx,
    deployment: {
      chainId: ctx.anvil.chainId,
      keyRegistry: ctx.contracts.keyRegistry,
      messageAnchor: ctx.contracts.messageAnchor,
      deployBlock: ctx.deployBlock,
    },
  }
}

/** Registers `count` devices (with proofs of possession), each for a fresh account (EIP-712 authorisation, submitted by anvil account 0). */
export async function registerDevices(ctx: ChainContext, count: number): Promise<RegisteredDevice[]> {
  const devices: RegisteredDevice[] = []
  for (let i = 0; i < count; i++) {
    const owner = privateKeyToAccount(generatePrivateKey())
    const keys = testDeviceKeys({
      chainId: ctx.anvil.chainId,
      registry: ctx.contracts.keyRegistry,
      account: owner.address,
    })
    const { deviceId } = await registerTestDevice(ctx, owner, { keys })
    const key = keys.signingKey
    devices.push({
      account: owner.address,
      deviceId,
      pkcs8: bytesToHex(key.exportPkcs8()),
      expect: { chainId: ctx.anvil.chainId, registry: ctx.contracts.keyRegistry },
    })
  }
  return devices
}

/**
 * Starts a JetStream relay node in each `server` worker, one after another (the first creates the stream and the
 * bucket), each in `dir/relay-<n>`, with the benchmark limits; returns their URLs in order.
 *
 * @example const urls = await startJetStreamRelays(servers, { chain, nats: cluster.urls, dir })
 */
export async function startJetStreamRelays(
  servers: Worker[],
  {
    chain,
    nats,
    dir,
    limits,
  }: { chain: BenchChain; nats: string[]; dir: string; limits: Record<string, number> },
): Promise<string[]> {
  const urls: string[] = []
  for (const [i, server] of servers.entries()) {
    server.send({
      type: 'start',
      mode: 'relay',
      rpc: chain.anvil.rpcUrl,
      deployment: chain.deployment,
      dir: join(dir, `relay-${i + 1}`),
      limits,
      nats,
    })
    urls.push((await server.next<{ url: string }>('ready')).url)
  }
  return urls
}
