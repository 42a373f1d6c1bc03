/** KeyRegistry v2 authorizations: the EIP-712 domain and types, device ids, and signing add, revoke and rotate. */
import {
  type Account,
  type Address,
  type Chain,
  type Client,
  encodePacked,
  type Hex,
  keccak256,
  type LocalAccount,
  type Transport,
} from 'viem'
import { signTypedData } from 'viem/actions'
import { withChainErrors } from './errors.js'

/**
 * EIP-712 domain name and version of KeyRegistry.
 *
 * @example
 * keyRegistryDomainName // 'Sealpost KeyRegistry'
 */
export const keyRegistryDomainName = 'Sealpost KeyRegistry'
/**
 * EIP-712 domain version of KeyRegistry.
 *
 * @example
 * keyRegistryDomainVersion // '2'
 */
export const keyRegistryDomainVersion = '2'

/**
 * EIP-712 types of the AddDevice authorization.
 *
 * @example
 * account.signTypedData({ domain, types: addDeviceTypes, primaryType: 'AddDevice', message })
 */
export const addDeviceTypes = {
  AddDevice: [
    { name: 'account', type: 'address' },
    { name: 'p256X', type: 'bytes32' },
    { name: 'p256Y', type: 'bytes32' },
    { name: 'mlsKey', type: 'bytes' },
    { name: 'mlsPop', type: 'bytes' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const

/**
 * EIP-712 types of the RevokeDevice authorization.
 *
 * @example
 * account.signTypedData({ domain, types: revokeDeviceTypes, primaryType: 'RevokeDevice', message })
 */
export const revokeDeviceTypes = {
  RevokeDevice: [
    { name: 'account', type: 'address' },
    { name: 'deviceId', type: 'bytes32' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const

/**
 * EIP-712 types of the RotateDevice authorization.
 *
 * @example
 * account.signTypedData({ domain, types: rotateDeviceTypes, primaryType: 'RotateDevice', message })
 */
export const rotateDeviceTypes = {
  RotateDevice: [
    { name: 'account', type: 'address' },
    { name: 'oldDeviceId', type: 'bytes32' },
    { name: 'p256X', type: 'bytes32' },
    { name: 'p256Y', type: 'bytes32' },
    { name: 'mlsKey', type: 'bytes' },
    { name: 'mlsPop', type: 'bytes' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const

/**
 * The EIP-712 domain of the registry at `registry` on `chainId`.
 *
 * @example
 * const domain = keyRegistryDomain({ registry, chainId: 31337 })
 */
export function keyRegistryDomain({ registry, chainId }: { registry: Address; chainId: number }) {
  return {
    name: keyRegistryDomainName,
    version: keyRegistryDomainVersion,
    chainId,
    verifyingContract: registry,
  } as const
}

/**
 * Device id as the contract computes it: keccak256(abi.encodePacked(p256X, p256Y)).
 *
 * @example
 * const id = deviceIdOf(x, y)
 */
export function deviceIdOf(p256X: Hex, p256Y: Hex): Hex {
  return keccak256(encodePacked(['bytes32', 'bytes32'], [p256X, p256Y]))
}

/**
 * Who signs an authorization: a viem local account, or a wallet client with an account.
 *
 * @example
 * const signer: RegistrySigner = privateKeyToAccount(key)
 */
export type RegistrySigner = LocalAccount | Client<Transport, Chain | undefined, Account>

type SignBase = { registry: Address; chainId: number; nonce: bigint; deadline: bigint }

/**
 * Parameters of {@link signAddDevice}.
 *
 * @example
 * signAddDevice(owner, { registry, chainId, p256X, p256Y, mlsKey, mlsPop, nonce, deadline })
 */
export type SignAddDeviceParameters = SignBase & {
  p256X: Hex
  p256Y: Hex
  mlsKey: Hex
  /** The MLS key's proof of possession (`signMlsPop`), covered by the account's signature. */
  mlsPop: Hex
  account?: Address
}
/**
 * Parameters of {@link signRevokeDevice}.
 *
 * @example
 * signRevokeDevice(owner, { registry, chainId, deviceId, nonce, deadline })
 */
export type SignRevokeDeviceParameters = SignBase & { deviceId: Hex; account?: Address }
/**
 * Parameters of {@link signRotateDevice}.
 *
 * @example
 * signRotateDevice(owner, { registry, chainId, oldDeviceId, p256X, p256Y, mlsKey, mlsPop, nonce, deadline })
 */
export type SignRotateDeviceParameters = SignBase & {
  oldDeviceId: Hex
  p256X: Hex
  p256Y: Hex
  mlsKey: Hex
  mlsPop: Hex
  account?: Address
}

function signerAddress(signer: RegistrySigner): Address {
  return 'request' in signer ? signer.account.address : signer.address
}

async function sign(signer: RegistrySigner, typedData: Parameters<LocalAccount['signTypedData']>[0]) {
  if ('request' in signer) {
    return withChainErrors(() => signTypedData(signer, { account: signer.account, ...typedData } as never))
  }
  return signer.signTypedData(typedData)
}

/**
 * Signs an AddDevice authorization (EIP-712) with the account's wallet. `account` defaults to the signer.
 *
 * @example
 * const signature = await signAddDevice(owner, { registry, chainId, p256X, p256Y, mlsKey, mlsPop, nonce: 0n, deadline })
 */
export async function signAddDevice(signer: RegistrySigner, params: SignAddDeviceParameters): Promise<Hex> {
  return sign(signer, {
    domain: keyRegistryDomain(params),
    types: addDeviceTypes,
    primaryType: 'AddDevice',
    message: {
      account: params.account ?? signerAddress(signer),
      p256X: params.p256X,
      p256Y: params.p256Y,
      mlsKey: params.mlsKey,
      mlsPop: params.mlsPop,
      nonce: params.nonce,
      deadline: params.deadline,
    },
  })
}

/**
 * Signs a RevokeDevice authorization (EIP-712).
 *
 * @example
 * const signature = await signRevokeDevice(owner, { registry, chainId, deviceId, nonce: 1n, deadline })
 */
export async function signRevokeDevice(
  signer: RegistrySigner,
  params: SignRevokeDeviceParameters,
): Promise<Hex> {
  return sign(signer, {
    domain: keyRegistryDomain(params),
    types: revokeDeviceTypes,
    primaryType: 'RevokeDevice',
    message: {
      account: params.account ?? signerAddress(signer),
      deviceId: params.deviceId,
      nonce: params.nonce,
      deadline: params.deadline,
    },
  })
}

/**
 * Signs a RotateDevice authorization (EIP-712): revoke `oldDeviceId` and add the new key atomically.
 *
 * @example
 * const signature = await signRotateDevice(owner, { registry, chainId, oldDeviceId, p256X, p256Y, mlsKey, mlsPop, nonce, deadline })
 */
export async function signRotateDevice(
  signer: RegistrySigner,
  params: SignRotateDeviceParameters,
): Promise<Hex> {
  return sign(signer, {
    domain: keyRegistryDomain(params),
    types: rotateDeviceTypes,
    primaryType: 'RotateDevice',
    message: {
      account: params.account ?? signerAddress(signer),
      oldDeviceId: params.oldDeviceId,
      p256X: params.p256X,
      p256Y: params.p256Y,
      mlsKey: params.mlsKey,
      mlsPop: params.mlsPop,
      nonce: params.nonce,
      deadline: params.deadline,
    },
  })
}
