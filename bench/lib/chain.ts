/** Chain helpers for benchmarks: an anvil with the contracts, and devices registered on it. */
import { randomBytes } from 'node:crypto'
import { bytesToHex, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { addDevice, signAddDevice } from '../../src/chain/keyRegistry.js'
import type { Deployment } from '../../src/client/deployment.js'
import { DeviceSigningKey } from '../../src/crypto/p256.js'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'

/** A registered device whose key a worker process can load. */
export type RegisteredDevice = { account: Hex; deviceId: Hex; pkcs8: Hex }

/** Starts anvil and deploys the contracts. */
export async function benchChain(): Promise<ChainContext & { deployment: Deployment }> {
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

/** Registers `count` devices, each for a fresh account (EIP-712 authorisation, submitted by anvil account 0). */
export async function registerDevices(ctx: ChainContext, count: number): Promise<RegisteredDevice[]> {
  const devices: RegisteredDevice[] = []
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
  for (let i = 0; i < count; i++) {
    const owner = privateKeyToAccount(generatePrivateKey())
    const key = DeviceSigningKey.generate()
    const params = {
      registry: ctx.contracts.keyRegistry,
      chainId: ctx.anvil.chainId,
      p256X: key.p256X,
      p256Y: key.p256Y,
      mlsKey: bytesToHex(randomBytes(32)),
      nonce: 0n,
      deadline,
    }
    const signature = await signAddDevice(owner, params)
    const { deviceId } = await addDevice(ctx.walletClient, { ...params, account: owner.address, signature })
    devices.push({ account: owner.address, deviceId, pkcs8: bytesToHex(key.exportPkcs8()) })
  }
  return devices
}
