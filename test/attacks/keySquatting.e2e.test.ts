// Issue 9, attack 8: key squatting. Registering someone else's device keys must fail or bind nobody.
import { bytesToHex, type Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ContractRevertError } from '../../src/chain/errors.js'
import { DeviceKeyTakenError } from '../../src/client/errors.js'
import { devicePublicKeys, loadDevice } from '../../src/client/identity.js'
import { proveDeviceKeys, signP256Pop } from '../../src/crypto/pop.js'
import { type ChainContext, setupChain } from '../utils/anvil.js'
import { type TestNetwork, testNetwork, testPassphrase } from '../utils/clients.js'
import { registerTestDevice, type TestDeviceKeys, testDeviceKeys } from '../utils/devices.js'

let ctx: ChainContext
let net: TestNetwork

beforeAll(async () => {
  ctx = await setupChain()
  net = testNetwork(ctx)
})
afterAll(async () => {
  await net?.cleanup()
  await ctx?.stop()
})

/** A client's own device keys, as the registry would get them, with proofs for `account`. */
async function clientDeviceKeys(home: string, account: Hex): Promise<TestDeviceKeys> {
  const device = await loadDevice({ home, passphrase: testPassphrase })
  const keys = devicePublicKeys(device)
  const proofs = proveDeviceKeys({
    ...keys,
    signingKey: device.signingKey,
    mlsSignKey: device.mls.signKey,
    chainId: ctx.anvil.chainId,
    registry: ctx.contracts.keyRegistry,
    account,
  })
  return { ...keys, ...proofs, signingKey: device.signingKey, mlsSignKey: device.mls.signKey }
}

async function revertOf(p: Promise<unknown>): Promise<ContractRevertError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ContractRevertError)
  return err as ContractRevertError
}

describe('attack 8: key squatting', () => {
  it("Mallory registering Alice's P-256 key under her own account reverts InvalidProofOfPossession; Alice then registers", async () => {
    const alice = await net.client({ account: net.account(1) })
    const mallory = net.account(2)
    const aliceKeys = await clientDeviceKeys(alice.home, net.account(1).address)
    // Mallory saw Alice's public keys (and even her proofs): none of it works for Mallory's account.
    const copied = await revertOf(registerTestDevice(ctx, mallory, { keys: aliceKeys }))
    expect(copied.code).toBe('SEALPOST_REGISTRY_INVALID_POP')
    expect(copied.errorName).toBe('InvalidProofOfPossession')
    // A proof for another chain or another registry does not help either.
    for (const other of [{ chainId: 1 }, { registry: ctx.contracts.messageAnchor }]) {
      const pop = signP256Pop(aliceKeys.signingKey, {
        ...aliceKeys,
        chainId: ctx.anvil.chainId,
        registry: ctx.contracts.keyRegistry,
        account: net.account(1).address,
        ...other,
      })
      const err = await revertOf(registerTestDevice(ctx, net.account(1), { keys: { ...aliceKeys, ...pop } }))
      expect(err.code).toBe('SEALPOST_REGISTRY_INVALID_POP')
    }
    // Alice's key is not burnt.
    const { deviceId } = await alice.register({ keyPackages: 0 })
    expect(alice.watcher.device(deviceId)?.account).toBe(net.account(1).address)
  })

  it("Mallory's device carrying Alice's MLS key with a garbage proof is ignored by every watcher", async () => {
    const alice = await net.client({ account: net.account(3) })
    const bob = await net.client({ account: net.account(4) })
    const mallory = net.account(5)
    const aliceKeys = await clientDeviceKeys(alice.home, net.account(3).address)
    // Mallory's own P-256 key (so the on-chain proof passes), Alice's MLS key, and an MLS proof she cannot make.
    const own = testDeviceKeys({
      chainId: ctx.anvil.chainId,
      registry: ctx.contracts.keyRegistry,
      account: mallory.address,
    })
    const context = {
      chainId: ctx.anvil.chainId,
      registry: ctx.contracts.keyRegistry,
      account: mallory.address,
    }
    const squat = {
      ...own,
      mlsKey: aliceKeys.mlsKey,
      ...signP256Pop(own.signingKey, { ...own, ...context, mlsKey: aliceKeys.mlsKey }),
      mlsPop: bytesToHex(new Uint8Array(64).fill(0xee)),
    }
    const { deviceId: squatted } = await registerTestDevice(ctx, mallory, { keys: squat })
    await alice.register({ keyPackages: 0 })
    await bob.watcher.sync()
    for (const watcher of [alice.watcher, bob.watcher]) {
      expect(watcher.device(squatted)).toBeUndefined()
      expect(watcher.deviceRecord(squatted)?.invalid).toBe('mls-pop')
      expect(watcher.activeDevicesOf(mallory.address)).toEqual([])
      expect(watcher.isValidAt(mallory.address, squatted, watcher.syncedTo)).toBe(false)
      // Alice's device, registered after the squat, owns her MLS key.
      const [aliceDevice] = watcher.activeDevicesOf(net.account(3).address)
      expect(aliceDevice).toMatchObject({ mlsKey: aliceKeys.mlsKey })
      expect(aliceDevice?.invalid).toBeUndefined()
    }
  })

  it('register() refuses a device key registered to another account with DeviceKeyTakenError', async () => {
    const carol = await net.client({ account: net.account(6) })
    // The device's keys were registered for another account (the holder reused them): a record that
    // register() used to report as success.
    const otherAccount = net.account(7)
    await registerTestDevice(ctx, otherAccount, {
      keys: await clientDeviceKeys(carol.home, otherAccount.address),
    })
    const err = await carol.register({ keyPackages: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(DeviceKeyTakenError)
    expect((err as DeviceKeyTakenError).code).toBe('SEALPOST_DEVICE_KEY_TAKEN')
    expect((err as DeviceKeyTakenError).owner).toBe(otherAccount.address)
  })
})
