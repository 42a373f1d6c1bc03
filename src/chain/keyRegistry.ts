/** Typed viem actions for KeyRegistry: writes (with proofs of possession), reads (views and events), a decorator. */
import { type Account, type Address, type Client, type Hex, keccak256 } from 'viem'
import { getBlockNumber, getContractEvents, readContract } from 'viem/actions'
import { keyRegistryAbi } from '../../contracts/artifacts/KeyRegistry.js'
import { ChainRequestError, withChainErrors } from './errors.js'
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
  /** Transaction that added it. */
  addedTx: Hex
}

type ReadOptions = { blockNumber?: bigint | undefined }

/**
 * Every device ever registered for `account` (revoked ones included), in registration order, read from the
 * registry's DeviceAdded and DeviceRevoked events between `fromBlock` (pass the deployment's `deployBlock`;
 * default 0) and `blockNumber` (default: the latest block).
 *
 * @example
 * const active = (await getDevices(publicClient, { registry, account, fromBlock: deployment.deployBlock })).filter((d) => !d.revokedAt)
 */
export async function getDevices(
  client: Client,
  {
    registry,
    account,
    blockNumber,
    fromBlock = 0n,
  }: { registry: Address; account: Address; fromBlock?: bigint | undefined } & ReadOptions,
): Promise<DeviceInfo[]> {
  return withChainErrors(async () => {
    const toBlock = blockNumber ?? (await getBlockNumber(client, { cacheTime: 0 }))
    const range = { address: registry, abi: keyRegistryAbi, args: { account }, fromBlock, toBlock } as const
    const [added, revoked] = await Promise.all([
      getContractEvents(client, { ...range, eventName: 'DeviceAdded', strict: true }),
      getContractEvents(client, { ...range, eventName: 'DeviceRevoked', strict: true }),
    ])
    const revokedAt = new Map(revoked.map((l) => [l.args.deviceId.toLowerCase(), l.blockNumber]))
    return added.map((l) => ({
      deviceId: l.args.deviceId,
      account: l.args.account,
      p256X: l.args.p256X,
      p256Y: l.args.p256Y,
      mlsKey: l.args.mlsKey,
      addedAt: l.blockNumber,
      revokedAt: revokedAt.get(l.args.deviceId.toLowerCase()),
      addedTx: l.transactionHash,
    }))
  })
}

/**
 * The registry's one-slot record of a device (KeyRegistry.deviceRecord), or undefined if it was never registered.
 * `mlsKeyHash` is the first 18 bytes of keccak256(mlsKey); `accountIndex` the owner's index (KeyRegistry.accountIndex).
 *
 * @example
 * const record = await getDeviceRecord(publicClient, { registry, deviceId })
 */
export async function getDeviceRecord(
  client: Client,
  { registry, deviceId, blockNumber }: { registry: Address; deviceId: Hex } & ReadOptions,
): Promise<
  { accountIndex: number; addedAt: bigint; revokedAt: bigint | undefined; mlsKeyHash: Hex } | undefined
> {
  const [accountIndex, addedAt, revokedAt, mlsKeyHash] = await withChainErrors(() =>
    readContract(client, {
      address: registry,
      abi: keyRegistryAbi,
      functionName: 'deviceRecord',
      args: [deviceId],
      ...(blockNumber !== undefined ? { blockNumber } : {}),
    }),
  )
  if (accountIndex === 0) return undefined
  return {
    accountIndex,
    addedAt: BigInt(addedAt),
    revokedAt: revokedAt === 0 ? undefined : BigInt(revokedAt),
    mlsKeyHash,
  }
}

/**
 * One device by id, or undefined if it was never registered: its record (one view call), then its keys from the
 * DeviceAdded event of the block it was added in (one single-block log query), checked against the record's MLS
 * key hash.
 *
 * @example
 * const device = await getDevice(publicClient, { registry, deviceId })
 */
export async function getDevice(
  client: Client,
  { registry, deviceId, blockNumber }: { registry: Address; deviceId: Hex } & ReadOptions,
): Promise<DeviceInfo | undefined> {
  const record = await getDeviceRecord(client, { registry, deviceId, blockNumber })
  if (!record) return undefined
  const addedEvents = (toBlock: bigint | 'latest') =>
    withChainErrors(() =>
      getContractEvents(client, {
        address: registry,
        abi: keyRegistryAbi,
        eventName: 'DeviceAdded',
        args: { deviceId },
        fromBlock: record.addedAt,
        toBlock,
        strict: true,
      }),
    )
  // KeyRegistry emits the event in block addedAt. A contract whose record names an earlier block (not KeyRegistry)
  // is searched from addedAt on, so its answer is judged by the verifier's later checks, not refused here.
  let [log] = await addedEvents(record.addedAt)
  if (!log) [log] = await addedEvents(blockNumber ?? 'latest')
  if (!log || !mlsKeyHashMatches(log.args.mlsKey, record.mlsKeyHash)) {
    throw new ChainRequestError({
      cause: new Error(`No DeviceAdded event matching device ${deviceId} in block ${record.addedAt}.`),
    })
  }
  return {
    deviceId,
    account: log.args.account,
    p256X: log.args.p256X,
    p256Y: log.args.p256Y,
    mlsKey: log.args.mlsKey,
    addedAt: record.addedAt,
    revokedAt: record.revokedAt,
    addedTx: log.transactionHash,
  }
}

/** Whether the record's 18-byte MLS key hash is the start of keccak256(mlsKey). */
function mlsKeyHashMatches(mlsKey: Hex, recorded: Hex): boolean {
  return keccak256(mlsKey).slice(0, 38) === recorded.toLowerCase()
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
 * Whether the device with these keys (P-256 point and MLS key) belonged to `account` and was active at block `at`,
 * answered by the registry alone (KeyRegistry.isValidKeyAt): what an on-chain verifier checks for keys in calldata.
 *
 * @example
 * const ok = await isDeviceKeyValidAt(publicClient, { registry, account, p256X, p256Y, mlsKey, at })
 */
export async function isDeviceKeyValidAt(
  client: Client,
  {
    registry,
    account,
    p256X,
    p256Y,
    mlsKey,
    at,
  }: { registry: Address; account: Address; p256X: Hex; p256Y: Hex; mlsKey: Hex; at: bigint },
): Promise<boolean> {
  return withChainErrors(() =>
    readContract(client, {
      address: registry,
      abi: keyRegistryAbi,
      functionName: 'isValidKeyAt',
      args: [account, p256X, p256Y, keccak256(mlsKey), at],
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
  getDevices(
    params: { account: Address; fromBlock?: bigint | undefined } & ReadOptions,
  ): Promise<DeviceInfo[]>
  getDevice(params: { deviceId: Hex } & ReadOptions): Promise<DeviceInfo | undefined>
  isDeviceValidAt(params: { account: Address; deviceId: Hex; at: bigint }): Promise<boolean>
  isDeviceKeyValidAt(params: {
    account: Address
    p256X: Hex
    p256Y: Hex
    mlsKey: Hex
    at: bigint
  }): Promise<boolean>
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
    isDeviceKeyValidAt: (p) => isDeviceKeyValidAt(client, { ...p, registry }),
    getRegistryNonce: (p) => getRegistryNonce(client, { ...p, registry }),
  })
}
