import { generateKeyPairSync } from 'node:crypto'
import { type Address, bytesToHex, decodeEventLog, type Hex, keccak256, pad, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { keyRegistryAbi } from '../../contracts/artifacts/KeyRegistry.js'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'
import { DeviceSigningKey } from '../crypto/p256.js'
import { proveDeviceKeys } from '../crypto/pop.js'
import { ContractRevertError } from './errors.js'
import {
  addDevice,
  getDevice,
  getDeviceRecord,
  getDevices,
  getRegistryNonce,
  isDeviceKeyValidAt,
  isDeviceValidAt,
  keyRegistryActions,
  revokeDevice,
  rotateDevice,
} from './keyRegistry.js'
import { deviceIdOf, signAddDevice, signRevokeDevice, signRotateDevice } from './registryAuthorizations.js'

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn

let ctx: ChainContext
let registry: Address
let chainId: number
let snap: Hex
const owner = privateKeyToAccount('0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6')
const deadline = () => BigInt(Math.floor(Date.now() / 1000) + 3600)

/** A fresh device (P-256 + Ed25519 MLS key) with both proofs of possession for `account` on this registry. */
function deviceKey({ account = owner.address, mlsKey }: { account?: Address; mlsKey?: Hex } = {}) {
  const signingKey = DeviceSigningKey.generate()
  const mls = generateKeyPairSync('ed25519')
  const mlsSignKey = new Uint8Array(mls.privateKey.export({ format: 'der', type: 'pkcs8' }))
  const rawMls = bytesToHex(
    new Uint8Array(mls.publicKey.export({ format: 'der', type: 'spki' })).subarray(12),
  )
  const keys = { p256X: signingKey.p256X, p256Y: signingKey.p256Y, mlsKey: mlsKey ?? rawMls }
  return { ...keys, ...proveDeviceKeys({ ...keys, signingKey, mlsSignKey, chainId, registry, account }) }
}
type DeviceKey = ReturnType<typeof deviceKey>
/** A device whose P-256 proof was made for another chain or registry (all else right). */
function popFor(over: { chainId?: number; registry?: Address }): DeviceKey {
  const signingKey = DeviceSigningKey.generate()
  const mls = generateKeyPairSync('ed25519')
  const mlsSignKey = new Uint8Array(mls.privateKey.export({ format: 'der', type: 'pkcs8' }))
  const mlsKey = bytesToHex(
    new Uint8Array(mls.publicKey.export({ format: 'der', type: 'spki' })).subarray(12),
  )
  const keys = { p256X: signingKey.p256X, p256Y: signingKey.p256Y, mlsKey }
  const context = { chainId, registry, account: owner.address, ...keys }
  const wrong = proveDeviceKeys({ ...context, ...over, signingKey, mlsSignKey })
  const right = proveDeviceKeys({ ...context, signingKey, mlsSignKey })
  return { ...keys, popR: wrong.popR, popS: wrong.popS, mlsPop: right.mlsPop }
}

/** What the registry stores and emits of a device key (not the P-256 proof). */
const stored = ({ p256X, p256Y, mlsKey }: DeviceKey) => ({ p256X, p256Y, mlsKey })

async function add(key?: DeviceKey, signer = owner) {
  key ??= deviceKey({ account: signer.address })
  const nonce = await getRegistryNonce(ctx.publicClient, { registry, account: signer.address })
  const d = deadline()
  const signature = await signAddDevice(signer, { registry, chainId, ...key, nonce, deadline: d })
  return addDevice(ctx.walletClient, { registry, account: signer.address, ...key, deadline: d, signature })
}

async function revoke(deviceId: Hex) {
  const nonce = await getRegistryNonce(ctx.publicClient, { registry, account: owner.address })
  const d = deadline()
  const signature = await signRevokeDevice(owner, { registry, chainId, deviceId, nonce, deadline: d })
  return revokeDevice(ctx.walletClient, {
    registry,
    account: owner.address,
    deviceId,
    nonce,
    deadline: d,
    signature,
  })
}

async function expectRevert(p: Promise<unknown>, code: string, errorName: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ContractRevertError)
  expect((err as ContractRevertError).code).toBe(code)
  expect((err as ContractRevertError).errorName).toBe(errorName)
  return err as ContractRevertError
}

beforeAll(async () => {
  ctx = await setupChain()
  registry = ctx.contracts.keyRegistry
  chainId = ctx.anvil.chainId
})
afterAll(() => ctx.stop())
beforeEach(async () => {
  snap = await ctx.snapshot()
})
afterEach(() => ctx.revert(snap))

describe('happy paths', () => {
  it('adds a device, relayed by another account, and reads it back', async () => {
    const key = deviceKey()
    const res = await add(key)
    // Issue 12: at most 100,000 gas, here for the first device of a fresh account (two fresh slots).
    expect(res.gasUsed).toBeLessThanOrEqual(100_000n)
    expect(res.receipt.from.toLowerCase()).toBe(ctx.walletClient.account.address.toLowerCase())
    expect(res.deviceId).toBe(deviceIdOf(key.p256X, key.p256Y))
    const [log] = res.receipt.logs
    const event = decodeEventLog({ abi: keyRegistryAbi, ...log! })
    expect(event.eventName).toBe('DeviceAdded')
    expect(event.args).toEqual({
      account: owner.address,
      deviceId: res.deviceId,
      ...stored(key),
      mlsPop: key.mlsPop,
    })

    const devices = await getDevices(ctx.publicClient, { registry, account: owner.address })
    expect(devices).toEqual([
      {
        deviceId: res.deviceId,
        account: owner.address,
        ...stored(key),
        addedAt: res.blockNumber,
        revokedAt: undefined,
        addedTx: res.receipt.transactionHash,
      },
    ])
    expect(await getDevice(ctx.publicClient, { registry, deviceId: res.deviceId })).toEqual(devices[0])
    expect(await getDevice(ctx.publicClient, { registry, deviceId: pad('0x01') })).toBeUndefined()
    expect(await getRegistryNonce(ctx.publicClient, { registry, account: owner.address })).toBe(1n)
    // The one-slot record: the owner's index, the block, and the first 18 bytes of keccak256(mlsKey).
    expect(await getDeviceRecord(ctx.publicClient, { registry, deviceId: res.deviceId })).toEqual({
      accountIndex: 1,
      addedAt: res.blockNumber,
      revokedAt: undefined,
      mlsKeyHash: keccak256(key.mlsKey).slice(0, 38),
    })
  })

  it('answers on chain which keys were valid at a block (isValidKeyAt), the MLS key included', async () => {
    const key = deviceKey()
    const { blockNumber } = await add(key)
    const valid = (over: Partial<DeviceKey> & { account?: Address; at?: bigint }) =>
      isDeviceKeyValidAt(ctx.publicClient, {
        registry,
        account: over.account ?? owner.address,
        p256X: over.p256X ?? key.p256X,
        p256Y: over.p256Y ?? key.p256Y,
        mlsKey: over.mlsKey ?? key.mlsKey,
        at: over.at ?? blockNumber,
      })
    expect(await valid({})).toBe(true)
    expect(await valid({ at: blockNumber - 1n })).toBe(false)
    expect(await valid({ mlsKey: deviceKey().mlsKey })).toBe(false)
    expect(await valid({ account: ctx.walletClient.account.address })).toBe(false)
    expect(await valid({ p256Y: pad('0x01') })).toBe(false)
  })

  it('signs with a wallet client too', async () => {
    const signer = ctx.walletClients[3]!
    const key = deviceKey({ account: signer.account.address })
    const d = deadline()
    const signature = await signAddDevice(signer, { registry, chainId, ...key, nonce: 0n, deadline: d })
    const res = await addDevice(ctx.walletClients[4]!, {
      registry,
      account: signer.account.address,
      ...key,
      deadline: d,
      signature,
    })
    expect(await getDevices(ctx.publicClient, { registry, account: signer.account.address })).toHaveLength(1)
    expect(res.deviceId).toBe(deviceIdOf(key.p256X, key.p256Y))
  })

  it('revokes, and isValidAt follows added/revoked blocks', async () => {
    const { deviceId, blockNumber: addedAt } = await add()
    await ctx.mine(2)
    const res = await revoke(deviceId)
    expect(res.gasUsed).toBeLessThanOrEqual(100_000n)
    const revokedAt = res.blockNumber
    const event = decodeEventLog({ abi: keyRegistryAbi, ...res.receipt.logs[0]! })
    expect(event).toMatchObject({ eventName: 'DeviceRevoked', args: { account: owner.address, deviceId } })
    const at = (b: bigint) =>
      isDeviceValidAt(ctx.publicClient, { registry, account: owner.address, deviceId, at: b })
    expect(await at(addedAt - 1n)).toBe(false)
    expect(await at(addedAt)).toBe(true)
    expect(await at(revokedAt - 1n)).toBe(true)
    expect(await at(revokedAt)).toBe(false)
    expect(await at(revokedAt + 10n)).toBe(false)
    // Wrong account never validates.
    expect(
      await isDeviceValidAt(ctx.publicClient, {
        registry,
        account: ctx.walletClient.account.address,
        deviceId,
        at: addedAt,
      }),
    ).toBe(false)
    const [device] = await getDevices(ctx.publicClient, { registry, account: owner.address })
    expect(device).toMatchObject({ addedAt, revokedAt })
    // Historical reads see the device as active.
    const before = await getDevices(ctx.publicClient, {
      registry,
      account: owner.address,
      blockNumber: addedAt,
    })
    expect(before[0]?.revokedAt).toBeUndefined()
  })

  it('rotates atomically and emits DeviceAdded, DeviceRevoked and DeviceRotated', async () => {
    const { deviceId: oldDeviceId } = await add()
    const key = deviceKey()
    const nonce = await getRegistryNonce(ctx.publicClient, { registry, account: owner.address })
    const d = deadline()
    const signature = await signRotateDevice(owner, {
      registry,
      chainId,
      oldDeviceId,
      ...key,
      nonce,
      deadline: d,
    })
    const res = await rotateDevice(ctx.walletClients[1]!, {
      registry,
      account: owner.address,
      oldDeviceId,
      ...key,
      deadline: d,
      signature,
    })
    expect(res.gasUsed).toBeLessThanOrEqual(100_000n)
    const names = res.receipt.logs.map((l) => decodeEventLog({ abi: keyRegistryAbi, ...l }).eventName)
    expect(names.sort()).toEqual(['DeviceAdded', 'DeviceRevoked', 'DeviceRotated'])
    const rotated = res.receipt.logs
      .map((l) => decodeEventLog({ abi: keyRegistryAbi, ...l }))
      .find((e) => e.eventName === 'DeviceRotated')
    expect(rotated?.args).toEqual({ account: owner.address, oldDeviceId, newDeviceId: res.deviceId })
    const devices = await getDevices(ctx.publicClient, { registry, account: owner.address })
    expect(devices.map((x) => [x.deviceId, x.revokedAt])).toEqual([
      [oldDeviceId, res.blockNumber],
      [res.deviceId, undefined],
    ])
    const at = (id: Hex, b: bigint) =>
      isDeviceValidAt(ctx.publicClient, { registry, account: owner.address, deviceId: id, at: b })
    expect(await at(oldDeviceId, res.blockNumber - 1n)).toBe(true)
    expect(await at(oldDeviceId, res.blockNumber)).toBe(false)
    expect(await at(res.deviceId, res.blockNumber)).toBe(true)
  })

  it('works through the client decorator', async () => {
    const client = ctx.walletClient.extend(keyRegistryActions(registry))
    const key = deviceKey()
    const d = deadline()
    const signature = await signAddDevice(owner, { registry, chainId, ...key, nonce: 0n, deadline: d })
    const { deviceId } = await client.addDevice({ account: owner.address, ...key, deadline: d, signature })
    expect((await client.getDevices({ account: owner.address }))[0]?.deviceId).toBe(deviceId)
    expect(await client.getRegistryNonce({ account: owner.address })).toBe(1n)
  })
})

describe('reverts map to ContractRevertError codes', () => {
  it('bad signature (signed by someone else)', async () => {
    const key = deviceKey()
    const d = deadline()
    const signature = await signAddDevice(privateKeyToAccount(ctx.anvil.accounts[2]!), {
      registry,
      chainId,
      ...key,
      account: owner.address,
      nonce: 0n,
      deadline: d,
    })
    const err = await expectRevert(
      addDevice(ctx.walletClient, { registry, account: owner.address, ...key, deadline: d, signature }),
      'SEALPOST_REGISTRY_INVALID_SIGNATURE',
      'InvalidSignature',
    )
    expect(err.metaMessages).toContain('Error: InvalidSignature()')
  })

  it('bad signature (wrong chain id in the domain)', async () => {
    const key = deviceKey()
    const d = deadline()
    const signature = await signAddDevice(owner, { registry, chainId: 1, ...key, nonce: 0n, deadline: d })
    await expectRevert(
      addDevice(ctx.walletClient, { registry, account: owner.address, ...key, deadline: d, signature }),
      'SEALPOST_REGISTRY_INVALID_SIGNATURE',
      'InvalidSignature',
    )
  })

  it('replayed nonce: re-submitting a used signature and nonce', async () => {
    const key = deviceKey()
    const d = deadline()
    const signature = await signAddDevice(owner, { registry, chainId, ...key, nonce: 0n, deadline: d })
    const params = { registry, account: owner.address, ...key, nonce: 0n, deadline: d, signature }
    await addDevice(ctx.walletClient, params)
    const err = await expectRevert(
      addDevice(ctx.walletClient, params),
      'SEALPOST_REGISTRY_INVALID_NONCE',
      'InvalidNonce',
    )
    expect(err.args).toEqual([1n])
    expect(err.metaMessages).toContain('Error: InvalidNonce(1)')
    // The nonce is checked before the deadline.
    await expectRevert(
      addDevice(ctx.walletClient, { ...params, deadline: 1n }),
      'SEALPOST_REGISTRY_INVALID_NONCE',
      'InvalidNonce',
    )
    // Without an explicit nonce the current one (1) is sent, which the old signature does not cover.
    const { nonce: _, ...implicit } = params
    await expectRevert(
      addDevice(ctx.walletClient, implicit),
      'SEALPOST_REGISTRY_INVALID_SIGNATURE',
      'InvalidSignature',
    )
  })

  it('future nonce, for add, revoke and rotate', async () => {
    const { deviceId } = await add()
    const d = deadline()
    const key = deviceKey()
    const base = { registry, chainId, nonce: 5n, deadline: d }
    const addSig = await signAddDevice(owner, { ...base, ...key })
    const err = await expectRevert(
      addDevice(ctx.walletClient, { ...base, account: owner.address, ...key, signature: addSig }),
      'SEALPOST_REGISTRY_INVALID_NONCE',
      'InvalidNonce',
    )
    expect(err.args).toEqual([1n])
    const revokeSig = await signRevokeDevice(owner, { ...base, deviceId })
    await expectRevert(
      revokeDevice(ctx.walletClient, { ...base, account: owner.address, deviceId, signature: revokeSig }),
      'SEALPOST_REGISTRY_INVALID_NONCE',
      'InvalidNonce',
    )
    const rotateSig = await signRotateDevice(owner, { ...base, oldDeviceId: deviceId, ...key })
    await expectRevert(
      rotateDevice(ctx.walletClient, {
        ...base,
        account: owner.address,
        oldDeviceId: deviceId,
        ...key,
        signature: rotateSig,
      }),
      'SEALPOST_REGISTRY_INVALID_NONCE',
      'InvalidNonce',
    )
    expect(await getRegistryNonce(ctx.publicClient, { registry, account: owner.address })).toBe(1n)
  })

  it('signature over nonce N submitted with the current nonce M != N', async () => {
    await add()
    const key = deviceKey()
    const d = deadline()
    const signature = await signAddDevice(owner, { registry, chainId, ...key, nonce: 5n, deadline: d })
    await expectRevert(
      addDevice(ctx.walletClient, {
        registry,
        account: owner.address,
        ...key,
        nonce: 1n,
        deadline: d,
        signature,
      }),
      'SEALPOST_REGISTRY_INVALID_SIGNATURE',
      'InvalidSignature',
    )
    const stale = await signAddDevice(owner, { registry, chainId, ...key, nonce: 0n, deadline: d })
    await expectRevert(
      addDevice(ctx.walletClient, {
        registry,
        account: owner.address,
        ...key,
        nonce: 1n,
        deadline: d,
        signature: stale,
      }),
      'SEALPOST_REGISTRY_INVALID_SIGNATURE',
      'InvalidSignature',
    )
  })

  it('expired deadline', async () => {
    const key = deviceKey()
    const signature = await signAddDevice(owner, { registry, chainId, ...key, nonce: 0n, deadline: 1n })
    const err = await expectRevert(
      addDevice(ctx.walletClient, { registry, account: owner.address, ...key, deadline: 1n, signature }),
      'SEALPOST_REGISTRY_SIGNATURE_EXPIRED',
      'SignatureExpired',
    )
    expect(err.args).toEqual([1n])
  })

  it('duplicate key (registered twice by its holder)', async () => {
    const key = deviceKey()
    const { deviceId } = await add(key)
    const err = await expectRevert(add(key), 'SEALPOST_REGISTRY_DUPLICATE_KEY', 'DuplicateKey')
    expect(err.args).toEqual([deviceId])
  })

  it("key squatting: someone else's P-256 key under another account reverts InvalidProofOfPossession", async () => {
    const mallory = privateKeyToAccount(ctx.anvil.accounts[5]!)
    const victim = deviceKey() // the victim's proofs, for the victim's account (owner)
    // Mallory copies the public key and proofs, before or after the victim registered.
    await expectRevert(add(victim, mallory), 'SEALPOST_REGISTRY_INVALID_POP', 'InvalidProofOfPossession')
    // Nor can she forge a proof for her account: any (r, s) she can make fails the precompile.
    await expectRevert(
      add({ ...victim, popR: victim.popS, popS: victim.popR }, mallory),
      'SEALPOST_REGISTRY_INVALID_POP',
      'InvalidProofOfPossession',
    )
    // With her own MLS key (and a proof she can make for it) the P-256 proof still binds the victim's MLS key.
    const hers = deviceKey({ account: mallory.address })
    await expectRevert(
      add({ ...victim, mlsKey: hers.mlsKey, mlsPop: hers.mlsPop }, mallory),
      'SEALPOST_REGISTRY_INVALID_POP',
      'InvalidProofOfPossession',
    )
    // The victim's key is not burnt: its holder registers it afterwards.
    const { deviceId } = await add(victim)
    expect((await getDevice(ctx.publicClient, { registry, deviceId }))?.account).toBe(owner.address)
  })

  it.each([
    ['another account', () => deviceKey({ account: ctx.walletClients[6]!.account.address })],
    ['another chain', () => ({ ...deviceKey(), ...popFor({ chainId: 1 }) })],
    ['another registry', () => ({ ...deviceKey(), ...popFor({ registry: ctx.contracts.messageAnchor }) })],
  ])('a P-256 proof of possession for %s reverts InvalidProofOfPossession', async (_label, make) => {
    await expectRevert(add(make()), 'SEALPOST_REGISTRY_INVALID_POP', 'InvalidProofOfPossession')
  })

  it('unknown device (never added, or owned by another account)', async () => {
    await expectRevert(revoke(pad('0x1234')), 'SEALPOST_REGISTRY_UNKNOWN_DEVICE', 'UnknownDevice')
    const { deviceId } = await add(undefined, privateKeyToAccount(ctx.anvil.accounts[6]!))
    await expectRevert(revoke(deviceId), 'SEALPOST_REGISTRY_UNKNOWN_DEVICE', 'UnknownDevice')
    // Also once the owner has an index of its own: records name their owner by index, and indexes differ.
    await add()
    await expectRevert(revoke(deviceId), 'SEALPOST_REGISTRY_UNKNOWN_DEVICE', 'UnknownDevice')
  })

  it('already revoked (revoke twice, or rotate a revoked device)', async () => {
    const { deviceId } = await add()
    await revoke(deviceId)
    await expectRevert(revoke(deviceId), 'SEALPOST_REGISTRY_DEVICE_ALREADY_REVOKED', 'DeviceAlreadyRevoked')
    const key = deviceKey()
    const nonce = await getRegistryNonce(ctx.publicClient, { registry, account: owner.address })
    const d = deadline()
    const signature = await signRotateDevice(owner, {
      registry,
      chainId,
      oldDeviceId: deviceId,
      ...key,
      nonce,
      deadline: d,
    })
    await expectRevert(
      rotateDevice(ctx.walletClient, {
        registry,
        account: owner.address,
        oldDeviceId: deviceId,
        ...key,
        deadline: d,
        signature,
      }),
      'SEALPOST_REGISTRY_DEVICE_ALREADY_REVOKED',
      'DeviceAlreadyRevoked',
    )
  })

  it.each([
    [
      'off-curve point',
      (k: ReturnType<typeof deviceKey>) => ({ ...k, p256Y: toHex(BigInt(k.p256Y) ^ 1n, { size: 32 }) }),
    ],
    ['x >= p', (k: ReturnType<typeof deviceKey>) => ({ ...k, p256X: toHex(P, { size: 32 }) })],
    [
      'y >= p',
      (k: ReturnType<typeof deviceKey>) => ({
        ...k,
        p256Y: toHex(BigInt(k.p256Y) + P > 2n ** 256n - 1n ? P : BigInt(k.p256Y) + P, { size: 32 }),
      }),
    ],
    [
      'point at infinity (0, 0)',
      (k: ReturnType<typeof deviceKey>) => ({ ...k, p256X: pad('0x'), p256Y: pad('0x') }),
    ],
    ['empty mlsKey', (k: ReturnType<typeof deviceKey>) => ({ ...k, mlsKey: '0x' as Hex })],
    [
      'oversize mlsKey',
      (k: ReturnType<typeof deviceKey>) => ({ ...k, mlsKey: bytesToHex(new Uint8Array(2593)) }),
    ],
  ])('malformed key: %s', async (_, mutate) => {
    await expectRevert(add(mutate(deviceKey())), 'SEALPOST_REGISTRY_MALFORMED_KEY', 'MalformedKey')
  })

  it('accepts the largest mlsKey (2592 bytes, ML-DSA-87)', async () => {
    const res = await add(deviceKey({ mlsKey: bytesToHex(new Uint8Array(2592).fill(7)) }))
    expect(res.receipt.status).toBe('success')
  })
})
