/** Synchronous node:crypto primitives shared by the MLS provider, the HPKE implementation and its seal workers. */
import {
  type CipherGCM,
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createHmac,
  type DecipherGCM,
} from 'node:crypto'
import { CryptoError } from 'ts-mls/mlsError.js'

/** Hash algorithm names as ts-mls spells them. */
export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512'
/** AEAD algorithm names as ts-mls spells them. */
export type AeadName = 'AES128GCM' | 'AES256GCM' | 'CHACHA20POLY1305'

/** node:crypto's name and the output size of each hash. */
export const hashInfo: Record<HashName, { node: string; size: number }> = {
  'SHA-256': { node: 'sha256', size: 32 },
  'SHA-384': { node: 'sha384', size: 48 },
  'SHA-512': { node: 'sha512', size: 64 },
}
const nodeAeadName: Record<AeadName, CipherGCMTypes | 'chacha20-poly1305'> = {
  AES128GCM: 'aes-128-gcm',
  AES256GCM: 'aes-256-gcm',
  CHACHA20POLY1305: 'chacha20-poly1305',
}
const TAG_BYTES = 16

/**
 * HKDF-Extract (RFC 5869 §2.2) over the concatenation of `ikm` parts, fed to the HMAC one by one (no copy of large
 * inputs). An empty salt is HashLen zero bytes; HMAC pads short keys with zeros, so both agree.
 *
 * @example const prk = hkdfExtract('SHA-512', salt, [ikm])
 */
export function hkdfExtract(hash: HashName, salt: Uint8Array, ikm: readonly Uint8Array[]): Uint8Array {
  const mac = createHmac(hashInfo[hash].node, salt)
  for (const part of ikm) mac.update(part)
  return new Uint8Array(mac.digest())
}

/**
 * HKDF-Expand (RFC 5869 §2.3) with an `info` given as parts.
 *
 * @example const okm = hkdfExpand('SHA-512', prk, [info], 32)
 */
export function hkdfExpand(
  hash: HashName,
  prk: Uint8Array,
  info: readonly Uint8Array[],
  len: number,
): Uint8Array {
  const { node, size } = hashInfo[hash]
  if (len > 255 * size) throw new CryptoError(`HKDF-Expand length ${len} exceeds 255 * HashLen`)
  const out = new Uint8Array(len)
  let previous: Uint8Array = new Uint8Array(0)
  const counter = new Uint8Array(1)
  for (let offset = 0, i = 1; offset < len; i++) {
    counter[0] = i
    const mac = createHmac(node, prk).update(previous)
    for (const part of info) mac.update(part)
    previous = mac.update(counter).digest()
    out.set(previous.subarray(0, Math.min(size, len - offset)), offset)
    offset += size
  }
  return out
}

/**
 * AEAD encryption (AES-GCM or ChaCha20-Poly1305); the ciphertext carries its 16-byte tag at the end (RFC 5116).
 *
 * @example const ct = aeadSeal('AES256GCM', key, nonce, undefined, plaintext)
 */
export function aeadSeal(
  alg: AeadName,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  plaintext: Uint8Array,
): Uint8Array {
  // Typed as a GCM mode: node's overloads take no union of modes; ChaCha20-Poly1305 has the same AEAD methods.
  const cipher = createCipheriv(nodeAeadName[alg] as CipherGCMTypes, key, nonce, {
    authTagLength: TAG_BYTES,
  }) as CipherGCM
  if (aad && aad.length > 0) cipher.setAAD(aad)
  const head = cipher.update(plaintext)
  const tail = cipher.final()
  const tag = cipher.getAuthTag()
  const out = new Uint8Array(head.length + tail.length + tag.length)
  out.set(head, 0)
  out.set(tail, head.length)
  out.set(tag, head.length + tail.length)
  return out
}

/**
 * AEAD decryption; throws a ts-mls `CryptoError` when the tag does not verify.
 *
 * @example const pt = aeadOpen('AES256GCM', key, nonce, undefined, ciphertext)
 */
export function aeadOpen(
  alg: AeadName,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  ciphertext: Uint8Array,
): Uint8Array {
  if (ciphertext.length < TAG_BYTES) throw new CryptoError('AEAD ciphertext is shorter than its tag')
  try {
    const decipher = createDecipheriv(nodeAeadName[alg] as CipherGCMTypes, key, nonce, {
      authTagLength: TAG_BYTES,
    }) as DecipherGCM
    if (aad && aad.length > 0) decipher.setAAD(aad)
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES))
    const head = decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_BYTES))
    const tail = decipher.final()
    const out = new Uint8Array(head.length + tail.length)
    out.set(head, 0)
    out.set(tail, head.length)
    return out
  } catch (e) {
    throw new CryptoError(`AEAD decryption failed: ${(e as Error).message}`)
  }
}
