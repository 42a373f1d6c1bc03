/** Test helper: fresh device keys (P-256 + Ed25519 MLS) with their proofs of possession, and registering them on a test chain. */
import { generateKeyPairSync } from 'node:crypto'
import { type Address, bytesToHex, type Hex } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { addDevice, getRegistryNonce } from '../../src/chain/keyRegistry.js'
import { signAddDevice } from '../../src/chain/registryAuthorizations.js'
import type { WriteClient } from '../../src/chain/sendAndWait.js'
import { DeviceSigningKey } from '../../src/crypto/p256.js'
import { proveDeviceKeys } from '../../src/crypto/pop.js'
import type { ChainContext, TestWalletClient } from './anvil.js'

/**
 * A device's public keys, proofs of possession and private keys.
 *
 * @example const device: TestDeviceKeys = testDeviceKeys({ chainId, registry, account })
 */
export type TestDeviceKeys = {
  p256X: Hex
  p256Y: Hex
  mlsKey: Hex
  popR: Hex
  popS: Hex
  mlsPop: Hex
  signingKey: DeviceSigningKey
  /** Ed25519 PKCS#8 private key of the MLS key. */
  mlsSignKey: Uint8Array
}

/**
 * Generates a device (or completes one whose P-256 `signingKey` is given with a fresh MLS key) and proves both its
 * keys for `account` on `registry`/`chainId`.
 *
 * @example const keys = testDeviceKeys({ chainId: 31337, registry, account: alice.address })
 */
export function testDeviceKeys({
  chainId,
  registry,
  account,
  signingKey = DeviceSigningKey.generate(),
}: {
  chainId: number
  registry: Address
  account: Address
  signingKey?: DeviceSigningKey | undefined
}): TestDeviceKeys {
  const mls = generateKeyPairSync('ed25519')
  const mlsSignKey = new Uint8Array(mls.privateKey.export({ format: 'der', type: 'pkcs8' }))
  const mlsKey = bytesToHex(
    new Uint8Array(mls.publicKey.export({ format: 'der', type: 'spki' })).subarray(12),
  )
  const keys = { p256X: signingKey.p256X, p256Y: signingKey.p256Y, mlsKey }
  const proofs = proveDeviceKeys({ ...keys, signingKey, mlsSignKey, chainId, registry, account })
  return { ...keys, ...proofs, signingKey, mlsSignKey }
}

/**
 * Registers `keys` (fresh ones by default) for `owner` (who signs the EIP-712 authorisation); `submitter`
 * (default: anvil account 0) pays the gas.
 *
 * @example const { deviceId, keys } = await registerTestDevice(ctx, alice)
 */
export async function registerTestDevice(
  ctx: ChainContext,
  owner: LocalAccount | TestWalletClient,
  {
    keys,
    submitter = ctx.walletClient,
  }: { keys?: TestDeviceKeys | undefined; submitter?: WriteClient | undefined } = {},
): Promise<{ deviceId: Hex; keys: TestDeviceKeys; blockNumber: bigint; gasUsed: bigint }> {
  const registry = ctx.contracts.keyRegistry
  const chainId = ctx.anvil.chainId
  const account = 'account' in owner ? owner.account.address : owner.address
  const k = keys ?? testDeviceKeys({ chainId, registry, account })
  const nonce = await getRegistryNonce(ctx.publicClient, { registry, account })
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
  const signature = await signAddDevice(owner, { registry, chainId, ...k, account, nonce, deadline })
  const { deviceId, blockNumber, gasUsed } = await addDevice(submitter, {
    registry,
    account,
    ...k,
    nonce,
    deadline,
    signature,
  })
  return { deviceId, keys: k, blockNumber, gasUsed }
}
