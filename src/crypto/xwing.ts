/** The X-Wing hybrid KEM (ML-KEM-768 + X25519, draft-connolly-cfrg-xwing-kem) with X25519 on node:crypto. */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject, randomFillSync } from 'node:crypto'
import { sha3_256, shake256 } from '@noble/hashes/sha3.js'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import { CryptoError } from 'ts-mls/mlsError.js'

/** Sizes of X-Wing's keys and ciphertext, in bytes. */
export const XWING = { publicKey: 1216, secretKey: 32, enc: 1120, sharedSecret: 32 } as const
/** The HPKE KEM id of X-Wing. */
export const XWING_KEM_ID = 0x647a

const ML_KEM_PUBLIC = 1184
const ML_KEM_CT = 1088
/** The combiner's label `\.//^\`. */
const XWING_LABEL = Uint8Array.from([0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c])
/** DER prefixes wrapping a raw X25519 key (RFC 8410): PKCS#8 private key and SubjectPublicKeyInfo. */
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex')
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex')

function x25519Private(secret: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([X25519_PKCS8, secret]), format: 'der', type: 'pkcs8' })
}

/** X25519(secret, basepoint): the public key of a private key object. */
function x25519Base(secret: KeyObject): Uint8Array {
  const spki = createPublicKey(secret).export({ format: 'der', type: 'spki' })
  return new Uint8Array(spki.subarray(X25519_SPKI.length))
}

/** X25519(secret, point); the point is imported as a JWK, which node parses faster than SPKI DER. */
function x25519(secret: KeyObject, point: Uint8Array): Uint8Array {
  const x = Buffer.from(point.buffer, point.byteOffset, point.byteLength).toString('base64url')
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' })
  return new Uint8Array(diffieHellman({ privateKey: secret, publicKey }))
}

function combiner(ssM: Uint8Array, ssX: Uint8Array, ctX: Uint8Array, pkX: Uint8Array): Uint8Array {
  return sha3_256.create().update(ssM).update(ssX).update(ctX).update(pkX).update(XWING_LABEL).digest()
}

/** The decapsulation key expanded from its 32-byte seed. */
function expand(secretKey: Uint8Array) {
  if (secretKey.length !== XWING.secretKey) throw new CryptoError('X-Wing secret key must be 32 bytes')
  const expanded = shake256(secretKey, { dkLen: 96 })
  const { publicKey: pkM, secretKey: skM } = ml_kem768.keygen(expanded.subarray(0, 64))
  const skX = x25519Private(expanded.subarray(64, 96))
  return { skM, skX, pkM, pkX: x25519Base(skX) }
}

/**
 * The 1216-byte public key (ML-KEM-768 key then X25519 key) of a 32-byte X-Wing secret key.
 *
 * @example const publicKey = xwingPublicKey(secretKey)
 */
export function xwingPublicKey(secretKey: Uint8Array): Uint8Array {
  const { pkM, pkX } = expand(secretKey)
  const out = new Uint8Array(XWING.publicKey)
  out.set(pkM, 0)
  out.set(pkX, ML_KEM_PUBLIC)
  return out
}

/**
 * X-Wing encapsulation. `eseed` (64 bytes: ML-KEM randomness, then the X25519 ephemeral secret) makes it
 * deterministic for known-answer tests; without it both halves are fresh randomness.
 *
 * @example const { sharedSecret, enc } = xwingEncapsulate(publicKey)
 */
export function xwingEncapsulate(
  publicKey: Uint8Array,
  eseed?: Uint8Array,
): { sharedSecret: Uint8Array; enc: Uint8Array } {
  if (publicKey.length !== XWING.publicKey) throw new CryptoError('X-Wing public key must be 1216 bytes')
  if (eseed !== undefined && eseed.length !== 64) throw new CryptoError('X-Wing eseed must be 64 bytes')
  const seed = eseed ?? randomFillSync(new Uint8Array(64))
  const pkM = publicKey.subarray(0, ML_KEM_PUBLIC)
  const pkX = publicKey.subarray(ML_KEM_PUBLIC)
  const skE = x25519Private(seed.subarray(32, 64))
  const ctX = x25519Base(skE)
  const ssX = x25519(skE, pkX)
  const { cipherText: ctM, sharedSecret: ssM } = ml_kem768.encapsulate(pkM, seed.subarray(0, 32))
  const enc = new Uint8Array(XWING.enc)
  enc.set(ctM, 0)
  enc.set(ctX, ML_KEM_CT)
  return { sharedSecret: combiner(ssM, ssX, ctX, pkX), enc }
}

/**
 * X-Wing decapsulation with the 32-byte secret key.
 *
 * @example const sharedSecret = xwingDecapsulate(enc, secretKey)
 */
export function xwingDecapsulate(enc: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (enc.length !== XWING.enc) throw new CryptoError('X-Wing ciphertext must be 1120 bytes')
  const { skM, skX, pkX } = expand(secretKey)
  const ctX = enc.subarray(ML_KEM_CT)
  const ssM = ml_kem768.decapsulate(enc.subarray(0, ML_KEM_CT), skM)
  return combiner(ssM, x25519(skX, ctX), ctX, pkX)
}

/**
 * X-Wing's DeriveKeyPair for HPKE: the secret key is SHAKE256(ikm) truncated to 32 bytes.
 *
 * @example const { secretKey, publicKey } = xwingDeriveKeyPair(ikm)
 */
export function xwingDeriveKeyPair(ikm: Uint8Array): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = shake256(ikm, { dkLen: 32 })
  return { secretKey, publicKey: xwingPublicKey(secretKey) }
}
