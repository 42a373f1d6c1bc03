/** Proofs of possession of a device's keys for KeyRegistry v2: the P-256 one (checked on chain) and the MLS one (checked by clients). */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import { type Address, bytesToHex, type Hex, hexToBytes, keccak256 } from 'viem'
import { LABEL_POP_MLS, LABEL_POP_P256, labelledInput } from '../protocol/labels.js'
import type { DeviceSigningKey } from './p256.js'

/**
 * What a proof of possession binds: the chain, the registry, the account the device is registered for, and
 * the device's P-256 key (and, for the P-256 proof, its MLS key).
 *
 * @example const p: PopContext = { chainId: 31337, registry, account, p256X, p256Y, mlsKey }
 */
export type PopContext = {
  chainId: number | bigint
  registry: Address
  account: Address
  p256X: Hex
  p256Y: Hex
  mlsKey: Hex
}

function context({ chainId, registry, account, p256X, p256Y }: PopContext): Uint8Array[] {
  const chain = new Uint8Array(32)
  new DataView(chain.buffer).setBigUint64(24, BigInt(chainId), false)
  return [chain, hexToBytes(registry), hexToBytes(account), hexToBytes(p256X), hexToBytes(p256Y)]
}

/**
 * The 189-byte message the device's P-256 key signs (ECDSA-SHA256) to prove possession:
 * `"sealpost/v2/pop-p256" ‖ 0x00 ‖ chainId u256 ‖ registry(20) ‖ account(20) ‖ p256X ‖ p256Y ‖ keccak256(mlsKey)`,
 * exactly KeyRegistry's `abi.encodePacked` input.
 *
 * @example p256PopMessage({ chainId: 31337, registry, account, p256X, p256Y, mlsKey }).length // 189
 */
export function p256PopMessage(p: PopContext): Uint8Array {
  return labelledInput(LABEL_POP_P256, ...context(p), hexToBytes(keccak256(p.mlsKey)))
}

/**
 * Signs the P-256 proof of possession with the device key; `popR`/`popS` go to `addDevice`/`rotateDevice`.
 *
 * @example const { popR, popS } = signP256Pop(device.signingKey, { chainId, registry, account, p256X, p256Y, mlsKey })
 */
export function signP256Pop(key: DeviceSigningKey, p: PopContext): { popR: Hex; popS: Hex } {
  const signature = key.sign(p256PopMessage(p))
  return { popR: bytesToHex(signature.subarray(0, 32)), popS: bytesToHex(signature.subarray(32, 64)) }
}

/**
 * The message the device's MLS signature key (Ed25519) signs to prove possession:
 * `"sealpost/v2/pop-mls" ‖ 0x00 ‖ chainId u256 ‖ registry(20) ‖ account(20) ‖ p256X ‖ p256Y`. It starts with an
 * ASCII label, so it can never be an MLS `SignContent` (which starts with a short varint length).
 *
 * @example mlsPopMessage({ chainId: 31337, registry, account, p256X, p256Y, mlsKey }).length // 157
 */
export function mlsPopMessage(p: PopContext): Uint8Array {
  return labelledInput(LABEL_POP_MLS, ...context(p))
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/**
 * Signs the MLS proof of possession with the device's MLS Ed25519 key (32 raw bytes or 48-byte PKCS#8, as
 * ts-mls keeps it); the 64-byte signature is `mlsPop` of `addDevice`/`rotateDevice`.
 *
 * @example const mlsPop = signMlsPop(device.mls.signKey, { chainId, registry, account, p256X, p256Y, mlsKey })
 */
export function signMlsPop(signKey: Uint8Array, p: PopContext): Hex {
  const der = signKey.length === 32 ? Buffer.concat([ED25519_PKCS8_PREFIX, signKey]) : Buffer.from(signKey)
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
  return bytesToHex(new Uint8Array(sign(null, mlsPopMessage(p), key)))
}

/**
 * True iff `mlsPop` is the Ed25519 signature of {@link mlsPopMessage} by `mlsKey` (32 bytes). Anything malformed
 * is false, never a throw.
 *
 * @example if (!verifyMlsPop({ ...record, chainId, registry, account: record.account })) ignore(record)
 */
export function verifyMlsPop(p: PopContext & { mlsPop: Hex }): boolean {
  try {
    const raw = hexToBytes(p.mlsKey)
    const signature = hexToBytes(p.mlsPop)
    if (raw.length !== 32 || signature.length !== 64) return false
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, raw]),
      format: 'der',
      type: 'spki',
    })
    return verify(null, mlsPopMessage(p), key, signature)
  } catch {
    return false
  }
}

/**
 * Both proofs of possession of a device for `account`: `popR`/`popS` by its P-256 key and `mlsPop` by its MLS key.
 *
 * @example const proofs = proveDeviceKeys({ signingKey, mlsSignKey, chainId, registry, account, p256X, p256Y, mlsKey })
 */
export function proveDeviceKeys({
  signingKey,
  mlsSignKey,
  ...p
}: PopContext & { signingKey: DeviceSigningKey; mlsSignKey: Uint8Array }): {
  popR: Hex
  popS: Hex
  mlsPop: Hex
} {
  return { ...signP256Pop(signingKey, p), mlsPop: signMlsPop(mlsSignKey, p) }
}
