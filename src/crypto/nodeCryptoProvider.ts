/** A ts-mls `CryptoProvider` on node:crypto: hashes, HKDF, AEAD and Ed25519 natively, with cached key objects. */
import {
  type CipherGCM,
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type DecipherGCM,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto'
import {
  type Ciphersuite,
  type CiphersuiteImpl,
  type CryptoProvider,
  defaultCryptoProvider,
  type Hash,
  type Hpke,
  type Kdf,
  type Rng,
  type Signature,
} from 'ts-mls'
import { CryptoError } from 'ts-mls/mlsError.js'

/** Hash algorithm names as ts-mls spells them. */
type HashName = Ciphersuite['hash']
/** AEAD algorithm names as ts-mls spells them. */
type AeadName = Ciphersuite['hpke']['aead']

const nodeHashName: Record<HashName, string> = {
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
}
const hashSize: Record<HashName, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 }
const kdfHash: Record<Ciphersuite['hpke']['kdf'], HashName> = {
  'HKDF-SHA256': 'SHA-256',
  'HKDF-SHA384': 'SHA-384',
  'HKDF-SHA512': 'SHA-512',
}
const nodeAeadName: Record<AeadName, CipherGCMTypes | 'chacha20-poly1305'> = {
  AES128GCM: 'aes-128-gcm',
  AES256GCM: 'aes-256-gcm',
  CHACHA20POLY1305: 'chacha20-poly1305',
}
const TAG_BYTES = 16

/** A plain `Uint8Array` copy of a node `Buffer` (a Buffer's `slice` shares memory, which ts-mls does not expect). */
function bytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf)
}

/**
 * Hashes and HMACs on node:crypto.
 *
 * @example const hash = makeNodeHash('SHA-512'); await hash.digest(new Uint8Array([1]))
 */
export function makeNodeHash(alg: HashName): Hash {
  const name = nodeHashName[alg]
  const mac = (key: Uint8Array, data: Uint8Array) => createHmac(name, key).update(data).digest()
  return {
    async digest(data) {
      return bytes(createHash(name).update(data).digest())
    },
    async mac(key, data) {
      return bytes(mac(key, data))
    },
    async verifyMac(key, tag, data) {
      const expected = mac(key, data)
      return expected.length === tag.length && timingSafeEqual(expected, tag)
    },
  }
}

/**
 * HKDF (RFC 5869) on node:crypto HMACs. MLS needs Extract and Expand as separate steps, which `hkdfSync` does not
 * offer, so both are written out over `createHmac`.
 *
 * @example const kdf = makeNodeKdf('SHA-512'); const prk = await kdf.extract(salt, ikm)
 */
export function makeNodeKdf(alg: HashName): Kdf {
  const name = nodeHashName[alg]
  const size = hashSize[alg]
  return {
    size,
    async extract(salt, ikm) {
      // An empty salt is HashLen zero bytes (RFC 5869 §2.2); HMAC pads short keys with zeros, so both agree.
      return bytes(createHmac(name, salt).update(ikm).digest())
    },
    async expand(prk, info, len) {
      if (len > 255 * size) throw new CryptoError(`HKDF-Expand length ${len} exceeds 255 * HashLen`)
      const out = new Uint8Array(len)
      let previous: Buffer = Buffer.alloc(0)
      const counter = new Uint8Array(1)
      for (let offset = 0, i = 1; offset < len; i++) {
        counter[0] = i
        previous = createHmac(name, prk).update(previous).update(info).update(counter).digest()
        out.set(previous.subarray(0, Math.min(size, len - offset)), offset)
        offset += size
      }
      return out
    },
  }
}

/**
 * AEAD encryption (AES-GCM or ChaCha20-Poly1305) on node:crypto; the ciphertext carries its 16-byte tag at the end,
 * as in RFC 5116 and the ts-mls default provider.
 *
 * @example const { encryptAead, decryptAead } = makeNodeAead('AES256GCM')
 */
export function makeNodeAead(alg: AeadName): Pick<Hpke, 'encryptAead' | 'decryptAead'> {
  const name = nodeAeadName[alg]
  const options = { authTagLength: TAG_BYTES }
  return {
    async encryptAead(key, nonce, aad, plaintext) {
      // Typed as a GCM mode: node's overloads take no union of modes; ChaCha20-Poly1305 has the same AEAD methods.
      const cipher = createCipheriv(name as CipherGCMTypes, key, nonce, options) as CipherGCM
      if (aad && aad.length > 0) cipher.setAAD(aad)
      const head = cipher.update(plaintext)
      const tail = cipher.final()
      const tag = cipher.getAuthTag()
      const out = new Uint8Array(head.length + tail.length + tag.length)
      out.set(head, 0)
      out.set(tail, head.length)
      out.set(tag, head.length + tail.length)
      return out
    },
    async decryptAead(key, nonce, aad, ciphertext) {
      if (ciphertext.length < TAG_BYTES) throw new CryptoError('AEAD ciphertext is shorter than its tag')
      try {
        const decipher = createDecipheriv(name as CipherGCMTypes, key, nonce, options) as DecipherGCM
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
    },
  }
}

/** DER prefixes that wrap a raw Ed25519 key (RFC 8410): PKCS#8 private key and SubjectPublicKeyInfo. */
const ED25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
])
const ED25519_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
])

/** A small map that forgets its oldest entries past `limit`, for key objects keyed by their encoding. */
class KeyCache {
  readonly #map = new Map<string, KeyObject>()
  constructor(readonly limit: number) {}
  get(key: Uint8Array, create: () => KeyObject): KeyObject {
    const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64')
    let value = this.#map.get(id)
    if (!value) {
      value = create()
      if (this.#map.size >= this.limit) this.#map.delete(this.#map.keys().next().value as string)
      this.#map.set(id, value)
    }
    return value
  }
}

/** Options of `makeNodeEd25519()` and `createNodeCryptoProvider()`. */
export type NodeCryptoProviderOptions = {
  /** How many private and how many public key objects to keep. Default 1024 each. */
  keyCacheSize?: number | undefined
}

/**
 * Ed25519 signatures on node:crypto with cached `KeyObject`s. Private keys may be 32 raw bytes or the 48-byte PKCS#8
 * DER that the ts-mls default provider generates; `keygen()` returns PKCS#8 too, so keys move freely between the
 * two providers.
 *
 * @example const ed = makeNodeEd25519(); const { signKey, publicKey } = await ed.keygen()
 */
export function makeNodeEd25519({ keyCacheSize = 1024 }: NodeCryptoProviderOptions = {}): Signature {
  const privateKeys = new KeyCache(keyCacheSize)
  const publicKeys = new KeyCache(keyCacheSize)
  const privateKey = (signKey: Uint8Array) =>
    privateKeys.get(signKey, () => {
      const der = signKey.length === 32 ? Buffer.concat([ED25519_PKCS8_PREFIX, signKey]) : signKey
      return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' })
    })
  const publicKey = (raw: Uint8Array) =>
    publicKeys.get(raw, () =>
      createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' }),
    )
  return {
    async sign(signKey, message) {
      return bytes(nodeSign(null, message, privateKey(signKey)))
    },
    async verify(raw, message, signature) {
      if (raw.length !== 32 || signature.length !== 64) return false
      try {
        return nodeVerify(null, message, publicKey(raw), signature)
      } catch {
        return false
      }
    },
    async keygen() {
      const pair = generateKeyPairSync('ed25519')
      const spki = pair.publicKey.export({ format: 'der', type: 'spki' })
      const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' })
      return { signKey: bytes(pkcs8), publicKey: bytes(spki.subarray(ED25519_SPKI_PREFIX.length)) }
    },
  }
}

/**
 * Randomness from node:crypto's CSPRNG.
 *
 * @example nodeRng.randomBytes(32)
 */
export const nodeRng: Rng = {
  randomBytes(n) {
    return randomFillSync(new Uint8Array(n))
  },
}

/**
 * A ts-mls `CryptoProvider` that runs on node:crypto: hash, HMAC, HKDF, the AEAD that protects messages, Ed25519
 * signatures and the RNG. Key objects are cached by key bytes, and nothing goes through WebCrypto's asynchronous
 * round trips. HPKE's KEM (X-Wing, ML-KEM, DHKEM) has no node:crypto primitive, so HPKE stays ts-mls's default
 * implementation, with only its `encryptAead`/`decryptAead` replaced. Signature schemes other than Ed25519 stay
 * default as well. Outputs are byte-identical to the default provider's.
 *
 * @example
 * const impl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, createNodeCryptoProvider())
 */
export function createNodeCryptoProvider(options: NodeCryptoProviderOptions = {}): CryptoProvider {
  const ed25519 = makeNodeEd25519(options)
  return {
    async getCiphersuiteImpl(cs: Ciphersuite): Promise<CiphersuiteImpl> {
      const base = await defaultCryptoProvider.getCiphersuiteImpl(cs)
      return {
        name: cs.name,
        hash: makeNodeHash(cs.hash),
        kdf: makeNodeKdf(kdfHash[cs.hpke.kdf]),
        signature: cs.signature === 'Ed25519' ? ed25519 : base.signature,
        hpke: { ...base.hpke, ...makeNodeAead(cs.hpke.aead) },
        rng: nodeRng,
      }
    },
  }
}

/**
 * The shared node:crypto provider (one key cache for the process).
 *
 * @example const impl = await getMlsCiphersuite(undefined, nodeCryptoProvider)
 */
export const nodeCryptoProvider: CryptoProvider = createNodeCryptoProvider()
