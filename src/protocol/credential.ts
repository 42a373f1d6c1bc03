/** MLS credential identity: binds an MLS leaf to one registered device of one account on one chain. */
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes, isAddress } from 'viem'
import { CodecError } from '../errors.js'

/** Identity carried in every Sealpost MLS `basic` credential. */
export type DeviceIdentity = { chainId: number; account: Address; deviceId: Hex }

/** Version byte of the credential identity encoding. */
export const CREDENTIAL_VERSION = 1
/** Encoded size: version u8 | chainId u64 | account 20 | deviceId 32. */
export const CREDENTIAL_IDENTITY_BYTES = 61

/** The credential identity does not decode. */
export class CredentialIdentityError extends CodecError {
  override name = 'CredentialIdentityError' as const
  constructor({ reason }: { reason: string }) {
    super('MLS credential identity is not a Sealpost device identity.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_CREDENTIAL_MALFORMED',
    })
  }
}

/**
 * Encodes a device identity for the MLS credential (61 bytes, big-endian).
 *
 * @example encodeDeviceIdentity({ chainId: 31337, account, deviceId })
 */
export function encodeDeviceIdentity({ chainId, account, deviceId }: DeviceIdentity): Uint8Array {
  if (!Number.isSafeInteger(chainId) || chainId <= 0)
    throw new CredentialIdentityError({ reason: 'chain id out of range' })
  if (!isAddress(account, { strict: false }))
    throw new CredentialIdentityError({ reason: 'account must be 20 bytes' })
  if (!/^0x[0-9a-fA-F]{64}$/.test(deviceId))
    throw new CredentialIdentityError({ reason: 'deviceId must be 32 bytes' })
  const out = new Uint8Array(CREDENTIAL_IDENTITY_BYTES)
  out[0] = CREDENTIAL_VERSION
  new DataView(out.buffer).setBigUint64(1, BigInt(chainId))
  out.set(hexToBytes(account), 9)
  out.set(hexToBytes(deviceId), 29)
  return out
}

/**
 * Decodes a device identity; throws `CredentialIdentityError` on any other shape.
 *
 * @example const { account, deviceId } = decodeDeviceIdentity(credential.identity)
 */
export function decodeDeviceIdentity(bytes: Uint8Array): DeviceIdentity {
  if (!(bytes instanceof Uint8Array) || bytes.length !== CREDENTIAL_IDENTITY_BYTES)
    throw new CredentialIdentityError({ reason: `expected ${CREDENTIAL_IDENTITY_BYTES} bytes` })
  if (bytes[0] !== CREDENTIAL_VERSION) throw new CredentialIdentityError({ reason: 'unknown version' })
  const chainId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(1)
  if (chainId === 0n || chainId > BigInt(Number.MAX_SAFE_INTEGER))
    throw new CredentialIdentityError({ reason: 'chain id out of range' })
  return {
    chainId: Number(chainId),
    account: getAddress(bytesToHex(bytes.subarray(9, 29))),
    deviceId: bytesToHex(bytes.subarray(29, 61)),
  }
}
