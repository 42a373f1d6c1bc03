/** A ts-mls `CryptoProvider` on node:crypto: hashes, HKDF, AEAD and Ed25519 natively, with cached key objects. */
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
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
import {
  type AeadName,
  aeadOpen,
  aeadSeal,
  type HashName,
  hashInfo,
  hkdfExpand,
  hkdfExtract,
} from './nodePrimitives.js'
import { ParallelVerifier } from './parallelVerify.js'
import { SealPool } from './sealPool.js'
import { makeXWingHpke } from './xwingHpke.js'

const kdfHash: Record<Ciphersuite['hpke']['kdf'], HashName> = {
  'HKDF-SHA256': 'SHA-256',
  'HKDF-SHA384': 'SHA-384',
  'HKDF-SHA512': 'SHA-512',
}

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
  const name = hashInfo[alg].node
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
  return {
    size: hashInfo[alg].size,
    async extract(salt, ikm) {
      return hkdfExtract(alg, salt, [ikm])
    },
    async expand(prk, info, len) {
      return hkdfExpand(alg, prk, [info], len)
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
  return {
    async encryptAead(key, nonce, aad, plaintext) {
      return aeadSeal(alg, key, nonce, aad, plaintext)
    },
    async decryptAead(key, nonce, aad, ciphertext) {
      return aeadOpen(alg, key, nonce, aad, ciphertext)
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
  /**
   * Worker threads for batches of X-Wing seals (the Welcome of a commit that adds many members). Default: the
   * process-wide `sharedSealPool` (as many workers as cores, at most 4, started on the first large batch); `0` keeps
   * every seal in-thread.
   */
  sealWorkers?: number | undefined
}

let shared: SealPool | undefined
/**
 * The process-wide seal pool of the node:crypto provider, created on first use. Call `start()` on it to have its
 * workers running before the first large commit.
 *
 * @example await sharedSealPool().start()
 */
export function sharedSealPool(): SealPool {
  shared ??= new SealPool()
  return shared
}

/**
 * Ed25519 signatures on node:crypto with cached `KeyObject`s; verifications issued together run in parallel
 * (`ParallelVerifier`). Private keys may be 32 raw bytes or the 48-byte PKCS#8
 * DER that the ts-mls default provider generates; `keygen()` returns PKCS#8 too, so keys move freely between the
 * two providers.
 *
 * @example const ed = makeNodeEd25519(); const { signKey, publicKey } = await ed.keygen()
 */
export function makeNodeEd25519({ keyCacheSize = 1024 }: NodeCryptoProviderOptions = {}): Signature {
  const privateKeys = new KeyCache(keyCacheSize)
  const verifier = new ParallelVerifier()
  const publicKeys = new KeyCache(keyCacheSize)
  const privateKey = (signKey: Uint8Array) =>
    privateKeys.get(signKey, () => {
      const der = signKey.length === 32 ? Buffer.concat([ED25519_PKCS8_PREFIX, signKey]) : signKey
      return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' })
    })
  // Imported as a JWK: node parses it about four times faster than the same key as SPKI DER, which matters when a
  // commit adding 1,000 members verifies 1,000 new keys.
  const publicKey = (raw: Uint8Array) =>
    publicKeys.get(raw, () =>
      createPublicKey({
        key: {
          kty: 'OKP',
          crv: 'Ed25519',
          x: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url'),
        },
        format: 'jwk',
      }),
    )
  return {
    async sign(signKey, message) {
      return bytes(nodeSign(null, message, privateKey(signKey)))
    },
    async verify(raw, message, signature) {
      if (raw.length !== 32 || signature.length !== 64) return false
      let key: KeyObject
      try {
        key = publicKey(raw)
      } catch {
        return false
      }
      return verifier.verify(key, message, signature)
    },
    async keygen() {
      // Encoded by the generation itself (see xwing.ts: exporting a generated key afterwards can deadlock Node 20).
      const { publicKey: spki, privateKey: pkcs8 } = generateKeyPairSync('ed25519', {
        publicKeyEncoding: { format: 'der', type: 'spki' },
        privateKeyEncoding: { format: 'der', type: 'pkcs8' },
      })
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
 * A ts-mls `CryptoProvider` that runs on node:crypto: hash, HMAC, HKDF, AEAD, Ed25519 signatures (key objects cached
 * by key bytes) and the RNG, without WebCrypto's asynchronous round trips. For X-Wing suites HPKE is Sealpost's own
 * (`makeXWingHpke`: X25519 on node:crypto, ML-KEM-768 from noble, the key-schedule context computed once per `info`,
 * seals of a large Welcome spread over worker threads). Other KEMs and signature schemes stay ts-mls's defaults.
 * Outputs are byte-identical to the default provider's for the same randomness.
 *
 * @example
 * const impl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, createNodeCryptoProvider())
 */
export function createNodeCryptoProvider(options: NodeCryptoProviderOptions = {}): CryptoProvider {
  const ed25519 = makeNodeEd25519(options)
  const pool =
    options.sealWorkers === undefined
      ? sharedSealPool()
      : options.sealWorkers > 0
        ? new SealPool({ size: options.sealWorkers })
        : undefined
  return {
    async getCiphersuiteImpl(cs: Ciphersuite): Promise<CiphersuiteImpl> {
      const base = await defaultCryptoProvider.getCiphersuiteImpl(cs)
      const hpke =
        cs.hpke.kem === 'X-Wing'
          ? makeXWingHpke({ kdf: cs.hpke.kdf, aead: cs.hpke.aead }, { pool })
          : { ...base.hpke, ...makeNodeAead(cs.hpke.aead) }
      return {
        name: cs.name,
        hash: makeNodeHash(cs.hash),
        kdf: makeNodeKdf(kdfHash[cs.hpke.kdf]),
        signature: cs.signature === 'Ed25519' ? ed25519 : base.signature,
        hpke,
        rng: nodeRng,
      }
    },
  }
}

/**
 * The shared node:crypto provider (one key cache and one seal pool for the process).
 *
 * @example const impl = await getMlsCiphersuite(undefined, nodeCryptoProvider)
 */
export const nodeCryptoProvider: CryptoProvider = createNodeCryptoProvider()
