import { bytesToHex, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { Deployment } from '../../src/client/deployment.js'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'
import { registerTestDevice, testDeviceKeys } from '../../test/utils/devices.js'

/** A registered device whose key a worker process can load, with the deployment its relay must announce. */
export type RegisteredDevice = {
  account: Hex
  deviceId: Hex
  pkcs8: Hex
  expect: { chainId: number; registry: Hex }
}

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
