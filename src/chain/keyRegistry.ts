/** Typed viem actions for KeyRegistry v2: writes (with proofs of possession), views and a client decorator. */
import type { Account, Address, Client, Hex } from 'viem'
import { readContract } from 'viem/actions'
import { keyRegistryAbi } from '../../contracts/artifacts/KeyRegistry.js'
import { withChainErrors } from './errors.js'
import { deviceIdOf } from './registryAuthorizations.js'
import { sendAndWait, type WriteClient, type WriteResult } from './sendAndWait.js'

type WriteBase = {
  registry: Address
  /**
   * The nonce the authorization was signed with. Defaults to the account's current `nonces(account)`,
   * read just before sending. A replayed or future nonce reverts with InvalidNonce.
   */
  nonce?: bigint | undefined
  deadline: bigint
  signature: Hex
  /** Sender (relayer); defaults to the client's account. */
  sender?: Account | Address | undefined
  /** Confirmations to wait for (default 1). */
  confirmations?: number | undefined
}

/**
 * A new device's public keys and its proofs of possession (`proveDeviceKeys` from `crypto/pop.ts`).
 *
 * @example const keys: NewDeviceKeys = { p256X, p256Y, mlsKey, ...proveDeviceKeys({ ... }) }
 */
export type NewDeviceKeys = {
  p256X: Hex
  p256Y: Hex
  mlsKey: Hex
  /** P-256 proof of possession (r, s), checked on chain with the P256VERIFY precompile. */
  popR: Hex
  popS: Hex
  /** MLS proof of possession, emitted in DeviceAdded and checked by every client's RegistryWatcher. */
  mlsPop: Hex
}

/**
 * Parameters of {@link addDevice}.
 *
 * @example
 * addDevice(client, { registry, account, p256X, p256Y, mlsKey, popR, popS, mlsPop, nonce, deadline, signature })
 */
export type AddDeviceParameters = WriteBase & NewDeviceKeys & { account: Address }
/**
 * Parameters of {@link revokeDevice}.
 *
 * @example
 * revokeDevice(client, { registry, account, deviceId, nonce, deadline, signature })
 */
export type RevokeDeviceParameters = WriteBase & { account: Address; deviceId: Hex }
/**
 * Parameters of {@link rotateDevice}.
 *
 * @example
 * rotateDevice(client, { registry, account, oldDeviceId, p256X, p256Y, mlsKey, popR, popS, mlsPop, nonce, deadline, signature })
 */
export type RotateDeviceParameters = WriteBase &
  NewDeviceKeys & {
    account: Address
    oldDeviceId: Hex
  }

function newDevice(p: NewDeviceKeys) {
  return { p256X: p.p256X, p256Y: p.p256Y, mlsKey: p.mlsKey, popR: p.popR, popS: p.popS, mlsPop: p.mlsPop }
}

/** The explicit `nonce`, or the account's current one read from the registry. */
async function resolveNonce(
  client: Client,
  { registry, account, nonce }: { registry: Address; account: Address; nonce?: bigint | undefined },
): Promise<bigint> {
  return nonce ?? getRegistryNonce(client, { registry, account })
}

/**
 * Submits a signed AddDevice authorization with the device's proofs of possession. Anyone may submit (relayed,
 * gasless for the account). `nonce` defaults to the account's current registry nonce. A key registered before
 * reverts `DuplicateKey`; a P-256 proof that is not for this account, chain, registry and key pair reverts
 * `InvalidProofOfPossession` (SEALPOST_REGISTRY_INVALID_POP): nobody can register someone else's key.
 *
 * @example
 * const { deviceId, gasUsed } = await addDevice(walletClient, { registry, account, p256X, p256Y, mlsKey, deadline, signature })
 */
export async function addDevice(
  client: WriteClient,
  params: AddDeviceParameters,
): Promise<WriteResult & { deviceId: Hex }> {
  const nonce = await resolveNonce(client, params)
  const result = await sendAndWait(
    client,
    {
      address: params.registry,
      abi: keyRegistryAbi,
      functionName: 'addDevice',
      args: [params.account, newDevice(params), nonce, params.deadline, params.signature],
    },
    params.sender,
    params.confirmations,
  )
  return { ...result, deviceId: deviceIdOf(params.p256X, params.p256Y) }
}

/**
 * Submits a signed RevokeDevice authorization. `nonce` defaults to the account's current registry nonce.
 *
 * @example
 * await revokeDevice(walletClient, { registry, account, deviceId, deadline, signature })
 */
export async function revokeDevice(
  client: WriteClient,
  params: RevokeDeviceParameters,
): Promise<WriteResult> {
  const nonce = await resolveNonce(client, params)
  return sendAndWait(
    client,
    {
      address: params.registry,
      abi: keyRegistryAbi,
      functionName: 'revokeDevice',
      args: [params.account, params.deviceId, nonce, params.deadline, params.signature],
    },
    params.sender,
    params.confirmations,
  )
}

/**
 * Submits a signed RotateDevice authorization (revokes the old device and adds the new one in one tx).
 * `nonce` defaults to the account's current registry nonce.
 *
 * @example
 * const { deviceId } = await rotateDevice(walletClient, { registry, account, oldDeviceId, p256X, p256Y, mlsKey, deadline, signature })
 */
export async function rotateDevice(
  client: WriteClient,
  params: RotateDeviceParameters,
): Promise<WriteResult & { deviceId: Hex }> {
  const nonce = await resolveNonce(client, params)
  const result = await sendAndWait(
    client,
    {
      address: params.registry,
      abi: keyRegistryAbi,
      functionName: 'rotateDevice',
      args: [params.account, params.oldDeviceId, newDevice(params), nonce, params.deadline, params.signature],
    },
    params.sender,
    params.confirmations,
  )
  return { ...result, deviceId: deviceIdOf(params.p256X, params.p256Y) }
}

/**
 * One registered device, as returned by {@link getDevices} and {@link getDevice}.
 *
 * @example
 * const [first]: DeviceInfo[] = await getDevices(client, { registry, account })
 */
export type DeviceInfo = {
  deviceId: Hex
  account: Address
  p256X: Hex
  p256Y: Hex
  mlsKey: Hex
  /** Block in which the device was added. */
  addedAt: bigint
  /** Block in which it was revoked; undefined while active. */
  revokedAt: bigint | undefined
}

type ReadOptions = { blockNumber?: bigint | undefined }

/**
 * Every device ever registered for `account` (revoked ones included), in registration order.
 *
 * @example
 * const active = (await getDevices(publicClient, { registry, account })).filter((d) => !d.revokedAt)
 */
export async function getDevices(
  client: Client,
  { registry, account, blockNumber }: { registry: Address; account: Address } & ReadOptions,
): Promise<DeviceInfo[]> {
  const rows = await withChainErrors(() =>
    readContract(client, {
      address: registry,
      abi: keyRegistryAbi,
      functionName: 'getDevices',
      args: [account],
      ...(blockNumber !== undefined ? { blockNumber } : {}),
    }),
  )
  return rows.map((d) => ({
    deviceId: d.deviceId,
    account,
    p256X: d.p256X,
    p256Y: d.p256Y,
    mlsKey: d.mlsKey,
    addedAt: d.addedAt,
    revokedAt: d.revokedAt === 0n ? undefined : d.revokedAt,
  }))
}

/**
 * One device by id, or undefined if it was never registered.
 *
 * @example
 * const device = await getDevice(publicClient, { registry, deviceId })
 */
export async function getDevice(
  client: Client,
  { registry, deviceId, blockNumber }: { registry: Address; deviceId: Hex } & ReadOptions,
): Promise<DeviceInfo | undefined> {
  const [account, d] = await withChainErrors(() =>
    readContract(client, {
      address: registry,
      abi: keyRegistryAbi,
      functionName: 'getDevice',
      args: [deviceId],
      ...(blockNumber !== undefined ? { blockNumber } : {}),
    }),
  )
  if (account === '0x0000000000000000000000000000000000000000') return undefined
  return {
    deviceId,
    account,
    p256X: d.p256X,
    p256Y: d.p256Y,
    mlsKey: d.mlsKey,
    addedAt: d.addedAt,
    revokedAt: d.revokedAt === 0n ? undefined : d.revokedAt,
  }
}

/**
 * Whether `deviceId` belonged to `account` and was active at block `at`
 * (addedAt <= at, and not revoked at or before `at`).
 *
 * @example
 * if (!(await isDeviceValidAt(publicClient, { registry, account, deviceId, at: statement.block.number }))) reject()
 */
export async function isDeviceValidAt(
  client: Client,
  { registry, account, deviceId, at }: { registry: Address; account: Address; deviceId: Hex; at: bigint },
): Promise<boolean> {
  return withChainErrors(() =>
    readContract(client, {
      address: registry,
      abi: keyRegistryAbi,
      functionName: 'isValidAt',
      args: [account, deviceId, at],
    }),
  )
}

/**
 * The nonce the next authorization of `account` must be signed with.
 *
 * @example
 * const nonce = await getRegistryNonce(publicClient, { registry, account })
 */
export async function getRegistryNonce(
  client: Client,
  { registry, account }: { registry: Address; account: Address },
): Promise<bigint> {
  return withChainErrors(() =>
    readContract(client, { address: registry, abi: keyRegistryAbi, functionName: 'nonces', args: [account] }),
  )
}

type Omit2<T, K extends PropertyKey> = { [P in keyof T as P extends K ? never : P]: T[P] }

/**
 * Actions added by {@link keyRegistryActions}, bound to one registry address.
 *
 * @example
 * const client = walletClient.extend(keyRegistryActions(registry))
 */
export type KeyRegistryActions = {
  addDevice(params: Omit2<AddDeviceParameters, 'registry'>): Promise<WriteResult & { deviceId: Hex }>
  revokeDevice(params: Omit2<RevokeDeviceParameters, 'registry'>): Promise<WriteResult>
  rotateDevice(params: Omit2<RotateDeviceParameters, 'registry'>): Promise<WriteResult & { deviceId: Hex }>
  getDevices(params: { account: Address } & ReadOptions): Promise<DeviceInfo[]>
  getDevice(params: { deviceId: Hex } & ReadOptions): Promise<DeviceInfo | undefined>
  isDeviceValidAt(params: { account: Address; deviceId: Hex; at: bigint }): Promise<boolean>
  getRegistryNonce(params: { account: Address }): Promise<bigint>
}

/**
 * Client decorator binding the registry actions to `registry`.
 *
 * @example
 * const client = createWalletClient({ account, chain, transport }).extend(keyRegistryActions(registry))
 * await client.getDevices({ account: owner.address })
 */
export function keyRegistryActions(registry: Address) {
  return (client: WriteClient): KeyRegistryActions => ({
    addDevice: (p) => addDevice(client, { ...p, registry }),
    revokeDevice: (p) => revokeDevice(client, { ...p, registry }),
    rotateDevice: (p) => rotateDevice(client, { ...p, registry }),
    getDevices: (p) => getDevices(client, { ...p, registry }),
    getDevice: (p) => getDevice(client, { ...p, registry }),
    isDeviceValidAt: (p) => isDeviceValidAt(client, { ...p, registry }),
    getRegistryNonce: (p) => getRegistryNonce(client, { ...p, registry }),
  })
}
