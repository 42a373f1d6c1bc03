/** Device ECDSA P-256 keys on node:crypto: cached KeyObjects, IEEE-P1363 signatures, low-S only. */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto'
import { p256 } from '@noble/curves/nist.js'
import type { Hex } from 'viem'
import { ValidationError } from '../errors.js'

/** Order n of the P-256 group. @example P256_N / 2n */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
const HALF_N = P256_N >> 1n

/** Length of a raw public key (x || y). @example P256_PUBLIC_KEY_BYTES // 64 */
export const P256_PUBLIC_KEY_BYTES = 64
/** Length of a signature (r || s). @example P256_SIGNATURE_BYTES // 64 */
export const P256_SIGNATURE_BYTES = 64

/** A key is malformed: wrong length, not on the curve, not a P-256 key. @example new InvalidKeyError({ reason: 'not on the curve' }) */
export class InvalidKeyError extends ValidationError {
  override name = 'InvalidKeyError' as const
  constructor({ reason }: { reason: string }) {
    super('Key is invalid.', { metaMessages: [`Reason: ${reason}`], code: 'SEALPOST_INVALID_KEY' })
  }
}

/**
 * Throws `InvalidKeyError` unless `bytes` is a 64-byte x||y of a point on P-256 (coordinates below p, not
 * the point at infinity).
 *
 * @example assertValidP256PublicKey(key.publicKey)
 */
export function assertValidP256PublicKey(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== P256_PUBLIC_KEY_BYTES)
    throw new InvalidKeyError({ reason: `P-256 public key must be ${P256_PUBLIC_KEY_BYTES} bytes (x || y)` })
  const sec1 = new Uint8Array(1 + P256_PUBLIC_KEY_BYTES)
  sec1[0] = 0x04
  sec1.set(bytes, 1)
  try {
    p256.Point.fromBytes(sec1).assertValidity()
  } catch {
    throw new InvalidKeyError({ reason: 'point is not on the P-256 curve' })
  }
}

/**
 * A device's signing key. The private KeyObject is imported once and kept; it is never printed.
 *
 * @example
 * const key = DeviceSigningKey.generate()
 * const signature = key.sign(message)
 * verifyP256({ publicKey: key.publicKey, message, signature }) // true
 */
export class DeviceSigningKey {
  readonly #privateKey: KeyObject
  /** Raw public key, x || y (64 bytes). */
  readonly publicKey: Uint8Array
  /** `publicKey` as hex. */
  readonly publicKeyHex: Hex
  /** x coordinate as bytes32 hex (what KeyRegistry stores as p256X). */
  readonly p256X: Hex
  /** y coordinate as bytes32 hex (what KeyRegistry stores as p256Y). */
  readonly p256Y: Hex

  private constructor(privateKey: KeyObject) {
    this.#privateKey = privateKey
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' })
    const x = Buffer.from(jwk.x ?? '', 'base64url')
    const y = Buffer.from(jwk.y ?? '', 'base64url')
    if (x.length !== 32 || y.length !== 32)
      throw new InvalidKeyError({ reason: 'could not read the public point' })
    const publicKey = new Uint8Array(P256_PUBLIC_KEY_BYTES)
    publicKey.set(x, 0)
    publicKey.set(y, 32)
    this.publicKey = publicKey
    this.publicKeyHex = `0x${Buffer.from(publicKey).toString('hex')}`
    this.p256X = `0x${x.toString('hex')}`
    this.p256Y = `0x${y.toString('hex')}`
  }

  /**
   * A fresh random key.
   *
   * @example const key = DeviceSigningKey.generate()
   */
  static generate(): DeviceSigningKey {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    return new DeviceSigningKey(privateKey)
  }

  /**
   * Imports a PKCS#8 DER private key; throws `InvalidKeyError` if it is not a P-256 EC key.
   *
   * @example const key = DeviceSigningKey.fromPkcs8(await decryptSecret({ file, passphrase, kind: 'device-p256' }))
   */
  static fromPkcs8(der: Uint8Array): DeviceSigningKey {
    if (!(der instanceof Uint8Array)) throw new InvalidKeyError({ reason: 'PKCS#8 key must be a Uint8Array' })
    let key: KeyObject
    try {
      key = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' })
    } catch {
      throw new InvalidKeyError({ reason: 'not a PKCS#8 DER private key' })
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      throw new InvalidKeyError({ reason: 'not a P-256 EC key' })
    return new DeviceSigningKey(key)
  }

  /**
   * The private key as PKCS#8 DER (secret: encrypt it at rest, e.g. with `encryptSecret`).
   *
   * @example const der = key.exportPkcs8()
   */
  exportPkcs8(): Uint8Array {
    const der = this.#privateKey.export({ format: 'der', type: 'pkcs8' })
    const out = new Uint8Array(der)
    der.fill(0)
    return out
  }

  /**
   * ECDSA P-256 with SHA-256 over `message`; returns r || s (64 bytes) with s normalised to the low half.
   *
   * @example const signature = key.sign(statementSigningInput(bytes))
   */
  sign(message: Uint8Array): Uint8Array {
    const signature = new Uint8Array(
      nodeSign('sha256', message, { key: this.#privateKey, dsaEncoding: 'ieee-p1363' }),
    )
    const s = bytesToBigInt(signature.subarray(32, 64))
    if (s > HALF_N) signature.set(bigIntToBytes32(P256_N - s), 32)
    return signature
  }

  /** Keeps the key out of logs. @example String(key) // 'DeviceSigningKey(0x<x><y>)' */
  toString(): string {
    return `DeviceSigningKey(${this.publicKeyHex})`
  }

  /** Keeps the key out of JSON. @example JSON.stringify(key) // '{"publicKey":"0x…"}' */
  toJSON(): { publicKey: Hex } {
    return { publicKey: this.publicKeyHex }
  }

  /** Keeps the key out of `console.log`. @example console.log(key) */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString()
  }
}

/** Inputs to `verifyP256`. @example const p: VerifyP256Parameters = { publicKey, message, signature } */
export type VerifyP256Parameters = {
  /** x || y, 64 bytes (or its hex). */
  publicKey: Uint8Array | Hex
  message: Uint8Array
  /** r || s, 64 bytes (or its hex). High-S signatures are rejected. */
  signature: Uint8Array | Hex
}

/**
 * Verifies an ECDSA P-256/SHA-256 signature. Returns false for anything malformed: wrong lengths, a key
 * off the curve, r or s out of range, or a high-S signature (so signatures are not malleable). Public keys
 * are imported once and kept in a small LRU cache.
 *
 * @example verifyP256({ publicKey: key.publicKey, message, signature: key.sign(message) }) // true
 */
export function verifyP256({ publicKey, message, signature }: VerifyP256Parameters): boolean {
  try {
    if (!(message instanceof Uint8Array)) return false
    const sig = toBytes(signature)
    if (sig === undefined || sig.length !== P256_SIGNATURE_BYTES) return false
    const r = bytesToBigInt(sig.subarray(0, 32))
    const s = bytesToBigInt(sig.subarray(32, 64))
    if (r === 0n || r >= P256_N || s === 0n || s > HALF_N) return false
    const key = publicKeyObject(publicKey)
    if (key === undefined) return false
    return nodeVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, sig)
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------------------------
// Public key cache

const CACHE_SIZE = 512
const publicKeyCache = new Map<string, KeyObject>()

function publicKeyObject(publicKey: Uint8Array | Hex): KeyObject | undefined {
  const raw = toBytes(publicKey)
  if (raw === undefined || raw.length !== P256_PUBLIC_KEY_BYTES) return undefined
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex')
  const cached = publicKeyCache.get(id)
  if (cached !== undefined) {
    publicKeyCache.delete(id) // refresh recency
    publicKeyCache.set(id, cached)
    return cached
  }
  try {
    assertValidP256PublicKey(raw)
  } catch {
    return undefined
  }
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: Buffer.from(raw.subarray(0, 32)).toString('base64url'),
      y: Buffer.from(raw.subarray(32, 64)).toString('base64url'),
    },
    format: 'jwk',
  })
  publicKeyCache.set(id, key)
  if (publicKeyCache.size > CACHE_SIZE) {
    const oldest = publicKeyCache.keys().next().value
    if (oldest !== undefined) publicKeyCache.delete(oldest)
  }
  return key
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

const HEX = /^0x(?:[0-9a-fA-F]{2})*$/

function toBytes(value: Uint8Array | Hex): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string' && HEX.test(value)) return new Uint8Array(Buffer.from(value.slice(2), 'hex'))
  return undefined
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') || '0'}`)
}

function bigIntToBytes32(value: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(value.toString(16).padStart(64, '0'), 'hex'))
}
