/** MLS ciphersuite selection for ts-mls, with the post-quantum X-Wing suite as the default. */
import {
  type CiphersuiteImpl,
  type CiphersuiteName,
  type CryptoProvider,
  ciphersuites,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
} from 'ts-mls'
import { UsageError } from '../errors.js'
import { nodeCryptoProvider } from './nodeCryptoProvider.js'

/** Default suite: X-Wing (ML-KEM-768 + X25519) hybrid KEM, AES-256-GCM, SHA-512, Ed25519 (id 83). */
export const DEFAULT_CIPHERSUITE: CiphersuiteName = 'MLS_256_XWING_AES256GCM_SHA512_Ed25519'

/** Suites whose signature scheme is Ed25519, the MLS leaf key type Sealpost registers on chain. */
export const supportedCiphersuites = (Object.keys(ciphersuites) as CiphersuiteName[]).filter((name) =>
  name.endsWith('_Ed25519'),
)

/** The requested ciphersuite is unknown or not supported by Sealpost. */
export class UnsupportedCiphersuiteError extends UsageError {
  override name = 'UnsupportedCiphersuiteError' as const
  constructor({ ciphersuite }: { ciphersuite: string }) {
    super(`Ciphersuite "${ciphersuite}" is not supported.`, {
      metaMessages: [`Supported: ${supportedCiphersuites.join(', ')}`],
      code: 'SEALPOST_UNSUPPORTED_CIPHERSUITE',
    })
  }
}

const cache = new Map<string, Promise<CiphersuiteImpl>>()
/**
 * Sealpost's default: the node:crypto provider (hash, HKDF, AES-GCM, Ed25519 with cached KeyObjects; X-Wing from
 * ts-mls). It is differentially tested against ts-mls's default provider and interoperates with it.
 */
let defaultProvider: CryptoProvider | undefined = nodeCryptoProvider

/**
 * Sets the crypto provider that `getMlsCiphersuite()` uses when its caller passes none (the `Client` among them);
 * `undefined` selects ts-mls's own default provider (WebCrypto and noble). Call it at start-up, before any group state exists: members of a
 * group interoperate across providers, but cached implementations are not swapped under a running client.
 *
 * @example setDefaultMlsCryptoProvider(createNodeCryptoProvider())
 */
export function setDefaultMlsCryptoProvider(provider: CryptoProvider | undefined): void {
  defaultProvider = provider
  cache.clear()
}

/**
 * Resolves (and caches) the ts-mls implementation of a ciphersuite.
 *
 * @example const impl = await getMlsCiphersuite() // X-Wing suite, id 83
 */
export function getMlsCiphersuite(
  name: string = DEFAULT_CIPHERSUITE,
  provider?: CryptoProvider,
): Promise<CiphersuiteImpl> {
  if (!supportedCiphersuites.includes(name as CiphersuiteName))
    throw new UnsupportedCiphersuiteError({ ciphersuite: name })
  const key = provider ? undefined : name
  const cached = key ? cache.get(key) : undefined
  if (cached) return cached
  const impl = getCiphersuiteImpl(
    getCiphersuiteFromName(name as CiphersuiteName),
    provider ?? defaultProvider,
  )
  if (key) cache.set(key, impl)
  return impl
}

/**
 * The numeric id of a ciphersuite as registered with IANA (RFC 9420 §17.1) or ts-mls.
 *
 * @example ciphersuiteId('MLS_256_XWING_AES256GCM_SHA512_Ed25519') // 83
 */
export function ciphersuiteId(name: CiphersuiteName): number {
  return ciphersuites[name]
}
