/** Smart-contract accounts (issue 12): an ERC-1271 wallet approves, rotates and revokes devices, and recovers its owner key. */
import { type Address, type Hex, pad } from 'viem'
import { generatePrivateKey, type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'
import { testDeviceKeys } from '../../test/utils/devices.js'
import { compileTestContracts, type TestContract } from '../../test/utils/testContracts.js'
import { ContractRevertError } from './errors.js'
import {
  addDevice,
  getDevices,
  getRegistryNonce,
  isDeviceKeyValidAt,
  isDeviceValidAt,
  revokeDevice,
  rotateDevice,
} from './keyRegistry.js'
import { signAddDevice, signRevokeDevice, signRotateDevice } from './registryAuthorizations.js'

let ctx: ChainContext
let registry: Address
let chainId: number
let Wallet: TestContract
const deadline = () => BigInt(Math.floor(Date.now() / 1000) + 3600)

beforeAll(async () => {
  ctx = await setupChain()
  registry = ctx.contracts.keyRegistry
  chainId = ctx.anvil.chainId
  Wallet = compileTestContracts('RecoverableWallet.sol').RecoverableWallet!
}, 120_000)
afterAll(() => ctx?.stop())

/** Deploys a RecoverableWallet owned by `owner`, with anvil account 2 as its guardian. */
async function deployWallet(owner: Address): Promise<Address> {
  const guardian = ctx.walletClients[2]!
  const hash = await guardian.deployContract({
    abi: Wallet.abi,
    bytecode: Wallet.bytecode,
    args: [owner, guardian.account.address],
  })
  const { contractAddress } = await ctx.publicClient.waitForTransactionReceipt({ hash })
  return contractAddress!
}

/** Fresh device keys for `account` on this registry, without the private parts. */
function keysFor(account: Address) {
  const { signingKey: _s, mlsSignKey: _m, ...keys } = testDeviceKeys({ chainId, registry, account })
  return keys
}

async function rejection(p: Promise<unknown>): Promise<ContractRevertError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ContractRevertError)
  return err as ContractRevertError
}

it('an ERC-1271 wallet adds, rotates and revokes devices; a non-owner is refused; recovery replaces the owner key', async () => {
  const owner = privateKeyToAccount(generatePrivateKey())
  const mallory = privateKeyToAccount(generatePrivateKey())
  const wallet = await deployWallet(owner.address)
  const relayer = ctx.walletClients[1]!
  const nonce = () => getRegistryNonce(ctx.publicClient, { registry, account: wallet })

  const add = async (signer: LocalAccount, keys = keysFor(wallet)) => {
    const n = await nonce()
    const d = deadline()
    const signature = await signAddDevice(signer, {
      registry,
      chainId,
      account: wallet,
      ...keys,
      nonce: n,
      deadline: d,
    })
    return addDevice(relayer, { registry, account: wallet, ...keys, nonce: n, deadline: d, signature })
  }
  const revoke = async (signer: LocalAccount, deviceId: Hex) => {
    const n = await nonce()
    const d = deadline()
    const signature = await signRevokeDevice(signer, {
      registry,
      chainId,
      account: wallet,
      deviceId,
      nonce: n,
      deadline: d,
    })
    return revokeDevice(relayer, { registry, account: wallet, deviceId, nonce: n, deadline: d, signature })
  }

  // The wallet's owner approves a device: the registry asks the wallet (ERC-1271), which checks the owner's key.
  const laptop = keysFor(wallet)
  const added = await add(owner, laptop)
  expect(
    await isDeviceKeyValidAt(ctx.publicClient, {
      registry,
      account: wallet,
      ...laptop,
      at: added.blockNumber,
    }),
  ).toBe(true)

  // Someone else's signature for the wallet is refused, and consumes nothing.
  const before = await nonce()
  const refused = await rejection(add(mallory))
  expect(refused.code).toBe('SEALPOST_REGISTRY_INVALID_SIGNATURE')
  expect(refused.errorName).toBe('InvalidSignature')
  expect(await nonce()).toBe(before)

  // The owner rotates the laptop's keys in one transaction.
  const fresh = keysFor(wallet)
  const n = await nonce()
  const d = deadline()
  const rotateSignature = await signRotateDevice(owner, {
    registry,
    chainId,
    account: wallet,
    oldDeviceId: added.deviceId,
    ...fresh,
    nonce: n,
    deadline: d,
  })
  const rotated = await rotateDevice(relayer, {
    registry,
    account: wallet,
    oldDeviceId: added.deviceId,
    ...fresh,
    nonce: n,
    deadline: d,
    signature: rotateSignature,
  })
  const validAt = (deviceId: Hex, at: bigint) =>
    isDeviceValidAt(ctx.publicClient, { registry, account: wallet, deviceId, at })
  expect(await validAt(added.deviceId, rotated.blockNumber - 1n)).toBe(true)
  expect(await validAt(added.deviceId, rotated.blockNumber)).toBe(false)
  expect(await validAt(rotated.deviceId, rotated.blockNumber)).toBe(true)

  // Recovery: the owner key is lost (or stolen); the guardian installs a new one. The old key's signatures stop
  // counting at once, and the new owner revokes the device the old key might still control.
  const newOwner = privateKeyToAccount(generatePrivateKey())
  const guardian = ctx.walletClients[2]!
  const replaced = await guardian.writeContract({
    address: wallet,
    abi: Wallet.abi,
    functionName: 'replaceOwner',
    args: [newOwner.address],
  })
  await ctx.publicClient.waitForTransactionReceipt({ hash: replaced })
  const stale = await rejection(revoke(owner, rotated.deviceId))
  expect(stale.errorName).toBe('InvalidSignature')
  const revoked = await revoke(newOwner, rotated.deviceId)
  expect(await validAt(rotated.deviceId, revoked.blockNumber)).toBe(false)
  const phone = await add(newOwner)

  // The event-based listing shows the wallet's whole history.
  const devices = await getDevices(ctx.publicClient, {
    registry,
    account: wallet,
    fromBlock: ctx.deployBlock,
  })
  expect(devices.map((x) => [x.deviceId, x.revokedAt])).toEqual([
    [added.deviceId, rotated.blockNumber],
    [rotated.deviceId, revoked.blockNumber],
    [phone.deviceId, undefined],
  ])
  // A device of another account is no device of the wallet.
  expect(await validAt(pad('0x01'), phone.blockNumber)).toBe(false)
}, 120_000)
