/** HPKE (RFC 9180, base mode) with the X-Wing KEM on node:crypto, its key-schedule context computed once per `info`. */
import type { Hpke, PrivateKey, PublicKey } from 'ts-mls'
import { CryptoError } from 'ts-mls/mlsError.js'
import {
  type AeadName,
  aeadOpen,
  aeadSeal,
  type HashName,
  hashInfo,
  hkdfExpand,
  hkdfExtract,
} from './nodePrimitives.js'
import type { SealPool } from './sealPool.js'
import {
  XWING,
  XWING_KEM_ID,
  xwingDecapsulate,
  xwingDeriveKeyPair,
  xwingEncapsulate,
  xwingPublicKey,
} from './xwing.js'

/** The KDF and AEAD of an HPKE suite whose KEM is X-Wing. */
export type XWingHpkeSuite = { kdf: 'HKDF-SHA256' | 'HKDF-SHA384' | 'HKDF-SHA512'; aead: AeadName }
/** One seal: the key-schedule context is computed beforehand (`hpkeKeyScheduleContext`). */
export type SealJob = {
  publicKey: Uint8Array
  plaintext: Uint8Array
  aad: Uint8Array | undefined
  context: Uint8Array
  /** 64 bytes of encapsulation randomness, for known-answer tests only. */
  eseed?: Uint8Array | undefined
}

const KDF: Record<XWingHpkeSuite['kdf'], { id: number; hash: HashName }> = {
  'HKDF-SHA256': { id: 1, hash: 'SHA-256' },
  'HKDF-SHA384': { id: 2, hash: 'SHA-384' },
  'HKDF-SHA512': { id: 3, hash: 'SHA-512' },
}
const AEAD: Record<AeadName, { id: number; keyLength: number }> = {
  AES128GCM: { id: 1, keyLength: 16 },
  AES256GCM: { id: 2, keyLength: 32 },
  CHACHA20POLY1305: { id: 3, keyLength: 32 },
}
const NONCE_LENGTH = 12
const text = (s: string) => new TextEncoder().encode(s)
const HPKE_V1 = text('HPKE-v1')
const EMPTY = new Uint8Array(0)

function suiteId(suite: XWingHpkeSuite): Uint8Array {
  const kdf = KDF[suite.kdf].id
  const aead = AEAD[suite.aead].id
  return Uint8Array.from([
    ...text('HPKE'),
    XWING_KEM_ID >> 8,
    XWING_KEM_ID & 0xff,
    kdf >> 8,
    kdf & 0xff,
    aead >> 8,
    aead & 0xff,
  ])
}

function labeledExtract(suite: XWingHpkeSuite, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return hkdfExtract(KDF[suite.kdf].hash, salt, [HPKE_V1, suiteId(suite), text(label), ikm])
}

function labeledExpand(suite: XWingHpkeSuite, prk: Uint8Array, label: string, info: Uint8Array, len: number) {
  const length = Uint8Array.from([len >> 8, len & 0xff])
  return hkdfExpand(KDF[suite.kdf].hash, prk, [length, HPKE_V1, suiteId(suite), text(label), info], len)
}

/** Infos at least this large are remembered by value as well as by identity. */
const LARGE_INFO = 4096
type ContextCache = {
  byIdentity: WeakMap<Uint8Array, Uint8Array>
  last?: { info: Uint8Array; context: Uint8Array }
}
const contextCaches = new Map<string, ContextCache>()

/**
 * HPKE base mode's `key_schedule_context` = mode 0 ‖ psk_id_hash ‖ info_hash (RFC 9180 §5.1). It depends only on the
 * suite and `info`, so it is computed once per `info`: remembered by the array's identity, and for large infos (an
 * MLS Welcome's encrypted GroupInfo, megabytes at 1,000 members) also by value against the last one seen. The output
 * is the same bytes as computing it afresh.
 *
 * @example const context = hpkeKeyScheduleContext({ kdf: 'HKDF-SHA512', aead: 'AES256GCM' }, info)
 */
export function hpkeKeyScheduleContext(suite: XWingHpkeSuite, info: Uint8Array): Uint8Array {
  const key = `${suite.kdf}/${suite.aead}`
  let cache = contextCaches.get(key)
  if (!cache) {
    cache = { byIdentity: new WeakMap() }
    contextCaches.set(key, cache)
  }
  const known = cache.byIdentity.get(info)
  if (known) return known
  const last = cache.last
  if (last && info.length >= LARGE_INFO && view(last.info).equals(view(info))) return last.context
  const size = hashInfo[KDF[suite.kdf].hash].size
  const context = new Uint8Array(1 + 2 * size)
  context.set(labeledExtract(suite, EMPTY, 'psk_id_hash', EMPTY), 1)
  context.set(labeledExtract(suite, EMPTY, 'info_hash', info), 1 + size)
  cache.byIdentity.set(info, context)
  if (info.length >= LARGE_INFO) cache.last = { info: info.slice(), context }
  return context
}

/** A Buffer over the same memory (`Buffer.from(typedArray)` would copy). */
const view = (a: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)

function keySchedule(suite: XWingHpkeSuite, sharedSecret: Uint8Array, context: Uint8Array) {
  const secret = labeledExtract(suite, sharedSecret, 'secret', EMPTY)
  return {
    key: labeledExpand(suite, secret, 'key', context, AEAD[suite.aead].keyLength),
    nonce: labeledExpand(suite, secret, 'base_nonce', context, NONCE_LENGTH),
    exporter: labeledExpand(suite, secret, 'exp', context, hashInfo[KDF[suite.kdf].hash].size),
  }
}

/**
 * Single-shot HPKE seal (base mode, sequence 0) with a precomputed key-schedule context: the part of a seal that
 * runs per recipient, and what the seal workers run.
 *
 * @example const { enc, ct } = hpkeSealWithContext(suite, { publicKey, plaintext, aad: undefined, context })
 */
export function hpkeSealWithContext(
  suite: XWingHpkeSuite,
  job: SealJob,
): { enc: Uint8Array; ct: Uint8Array } {
  const { sharedSecret, enc } = xwingEncapsulate(job.publicKey, job.eseed)
  const { key, nonce } = keySchedule(suite, sharedSecret, job.context)
  return { enc, ct: aeadSeal(suite.aead, key, nonce, job.aad, job.plaintext) }
}

/** The raw bytes behind the key objects this HPKE hands to ts-mls (ts-mls only passes them back). */
type XWingKey = { type: 'public' | 'private'; algorithm: { name: 'X-Wing' }; raw: Uint8Array }
const publicKeyOf = (raw: Uint8Array) =>
  ({ type: 'public', algorithm: { name: 'X-Wing' }, raw }) satisfies XWingKey as unknown as PublicKey
const privateKeyOf = (raw: Uint8Array) =>
  ({ type: 'private', algorithm: { name: 'X-Wing' }, raw }) satisfies XWingKey as unknown as PrivateKey
function rawKey(key: PublicKey | PrivateKey, type: XWingKey['type']): Uint8Array {
  const k = key as unknown as Partial<XWingKey>
  if (k.type !== type || !(k.raw instanceof Uint8Array)) throw new CryptoError(`Not an X-Wing ${type} key`)
  return k.raw
}
function checkedLength(bytes: Uint8Array, length: number, what: string): Uint8Array {
  if (bytes.length !== length) throw new CryptoError(`X-Wing ${what} must be ${length} bytes`)
  return bytes.slice()
}

/** Options of `makeXWingHpke()`. */
export type XWingHpkeOptions = {
  /** Worker threads for batches of seals (a Welcome to many members); seals run in-thread without one. */
  pool?: SealPool | undefined
}

/**
 * A ts-mls `Hpke` for X-Wing suites on node:crypto: X25519 natively, ML-KEM-768 from noble, HKDF and AEAD natively,
 * the key-schedule context computed once per `info`, and batches of seals spread over worker threads when a pool is
 * given. Byte-identical to ts-mls's default HPKE (`@hpke/core` with `@hpke/hybridkem-x-wing`) for the same randomness.
 *
 * @example const hpke = makeXWingHpke({ kdf: 'HKDF-SHA512', aead: 'AES256GCM' })
 */
export function makeXWingHpke(suite: XWingHpkeSuite, { pool }: XWingHpkeOptions = {}): Hpke {
  const open = (privateKey: PrivateKey, enc: Uint8Array, info: Uint8Array) => {
    const sharedSecret = xwingDecapsulate(enc, rawKey(privateKey, 'private'))
    return keySchedule(suite, sharedSecret, hpkeKeyScheduleContext(suite, info))
  }
  const keyPair = (secretKey: Uint8Array, publicKey: Uint8Array) => ({
    privateKey: privateKeyOf(secretKey),
    publicKey: publicKeyOf(publicKey),
  })
  return {
    async seal(publicKey, plaintext, info, aad) {
      const job = {
        publicKey: rawKey(publicKey, 'public'),
        plaintext,
        aad,
        context: hpkeKeyScheduleContext(suite, info),
      }
      return pool ? pool.seal(suite, job) : hpkeSealWithContext(suite, job)
    },
    async open(privateKey, kemOutput, ciphertext, info, aad) {
      const { key, nonce } = open(privateKey, kemOutput, info)
      return aeadOpen(suite.aead, key, nonce, aad, ciphertext)
    },
    async exportSecret(publicKey, exporterContext, length, info) {
      const { sharedSecret, enc } = xwingEncapsulate(rawKey(publicKey, 'public'))
      const { exporter } = keySchedule(suite, sharedSecret, hpkeKeyScheduleContext(suite, info))
      return { enc, secret: labeledExpand(suite, exporter, 'sec', exporterContext, length) }
    },
    async importSecret(privateKey, exporterContext, kemOutput, length, info) {
      const { exporter } = open(privateKey, kemOutput, info)
      return labeledExpand(suite, exporter, 'sec', exporterContext, length)
    },
    async importPrivateKey(k) {
      return privateKeyOf(checkedLength(k, XWING.secretKey, 'secret key'))
    },
    async importPublicKey(k) {
      return publicKeyOf(checkedLength(k, XWING.publicKey, 'public key'))
    },
    async exportPublicKey(k) {
      return rawKey(k, 'public').slice()
    },
    async exportPrivateKey(k) {
      return rawKey(k, 'private').slice()
    },
    async encryptAead(key, nonce, aad, plaintext) {
      return aeadSeal(suite.aead, key, nonce, aad, plaintext)
    },
    async decryptAead(key, nonce, aad, ciphertext) {
      return aeadOpen(suite.aead, key, nonce, aad, ciphertext)
    },
    async deriveKeyPair(ikm) {
      const { secretKey, publicKey } = xwingDeriveKeyPair(ikm)
      return keyPair(secretKey, publicKey)
    },
    async generateKeyPair() {
      const secretKey = crypto.getRandomValues(new Uint8Array(XWING.secretKey))
      return keyPair(secretKey, xwingPublicKey(secretKey))
    },
    keyLength: AEAD[suite.aead].keyLength,
    nonceLength: NONCE_LENGTH,
  }
}
