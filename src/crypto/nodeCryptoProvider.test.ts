/** Differential tests: the node:crypto provider against ts-mls's default provider, primitive by primitive and in MLS. */
import { randomBytes } from 'node:crypto'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import {
  type CiphersuiteImpl,
  type ClientConfig,
  type ClientState,
  createApplicationMessage,
  createCommit,
  createGroup,
  defaultCapabilities,
  defaultCryptoProvider,
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  defaultLifetime,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  emptyPskIndex,
  generateKeyPackage,
  joinGroup,
  processPrivateMessage,
} from 'ts-mls'
import { beforeAll, describe, expect, test } from 'vitest'
import { DEFAULT_CIPHERSUITE, getMlsCiphersuite } from './mls.js'
import { createNodeCryptoProvider, makeNodeAead, makeNodeEd25519, makeNodeKdf } from './nodeCryptoProvider.js'

const suites = [DEFAULT_CIPHERSUITE, 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519'] as const

const rand = (n: number) => new Uint8Array(randomBytes(n))
const sizes = [0, 1, 31, 32, 64, 65, 1024, 4099]

describe.each(suites)('%s: node provider vs default provider', (name) => {
  let ours: CiphersuiteImpl
  let theirs: CiphersuiteImpl
  beforeAll(async () => {
    ours = await getMlsCiphersuite(name, createNodeCryptoProvider())
    theirs = await getMlsCiphersuite(name, defaultCryptoProvider)
  })

  test('hash, mac and verifyMac agree', async () => {
    for (const n of sizes) {
      const data = rand(n)
      const key = rand((n % 80) + 1)
      expect(await ours.hash.digest(data)).toEqual(await theirs.hash.digest(data))
      const mac = await ours.hash.mac(key, data)
      expect(mac).toEqual(await theirs.hash.mac(key, data))
      expect(await ours.hash.verifyMac(key, mac, data)).toBe(true)
      expect(await theirs.hash.verifyMac(key, mac, data)).toBe(true)
      mac[0]! ^= 1
      expect(await ours.hash.verifyMac(key, mac, data)).toBe(false)
      expect(await ours.hash.verifyMac(key, mac.subarray(1), data)).toBe(false)
    }
  })

  test('HKDF extract and expand agree, with empty and non-empty salts', async () => {
    // The default KDF takes only empty or HashLen salts, the only ones MLS passes.
    expect(ours.kdf.size).toBe(theirs.kdf.size)
    for (const saltLen of [0, ours.kdf.size]) {
      const salt = rand(saltLen)
      const ikm = rand(48)
      const prk = await ours.kdf.extract(salt, ikm)
      expect(prk).toEqual(await theirs.kdf.extract(salt, ikm))
      for (const len of [1, 16, ours.kdf.size, ours.kdf.size + 1, 3 * ours.kdf.size + 7]) {
        const info = rand(len % 20)
        expect(await ours.kdf.expand(prk, info, len)).toEqual(await theirs.kdf.expand(prk, info, len))
      }
    }
  })

  test('AEAD: each decrypts what the other encrypts, and rejects tampering', async () => {
    for (const n of sizes) {
      const key = rand(ours.hpke.keyLength)
      const nonce = rand(ours.hpke.nonceLength)
      const plaintext = rand(n)
      for (const aad of [undefined, new Uint8Array(), rand(23)]) {
        const a = await ours.hpke.encryptAead(key, nonce, aad, plaintext)
        const b = await theirs.hpke.encryptAead(key, nonce, aad, plaintext)
        expect(a).toEqual(b)
        expect(await theirs.hpke.decryptAead(key, nonce, aad, a)).toEqual(plaintext)
        expect(await ours.hpke.decryptAead(key, nonce, aad, b)).toEqual(plaintext)
        const bad = a.slice()
        bad[bad.length - 1]! ^= 1
        await expect(ours.hpke.decryptAead(key, nonce, aad, bad)).rejects.toThrow(/AEAD decryption failed/)
      }
    }
    await expect(
      ours.hpke.decryptAead(rand(ours.hpke.keyLength), rand(12), undefined, rand(5)),
    ).rejects.toThrow()
  })

  test('Ed25519: keys and signatures cross-verify, in both key formats', async () => {
    for (const [signer, verifier] of [
      [ours, theirs],
      [theirs, ours],
    ] as const) {
      const { signKey, publicKey } = await signer.signature.keygen()
      expect(signKey.length).toBe(48)
      const msg = rand(100)
      const sig = await signer.signature.sign(signKey, msg)
      expect(await verifier.signature.verify(publicKey, msg, sig)).toBe(true)
      // Ed25519 is deterministic: both sign alike, also from the raw 32-byte seed.
      expect(await verifier.signature.sign(signKey, msg)).toEqual(sig)
      expect(await ours.signature.sign(signKey.slice(16), msg)).toEqual(sig)
      sig[0]! ^= 1
      expect(await verifier.signature.verify(publicKey, msg, sig)).toBe(false)
    }
    const { publicKey } = await ours.signature.keygen()
    expect(await ours.signature.verify(publicKey.subarray(1), rand(3), rand(64))).toBe(false)
    expect(await ours.signature.verify(publicKey, rand(3), rand(63))).toBe(false)
  })

  test('HPKE seals to the other side', async () => {
    const { privateKey, publicKey } = await theirs.hpke.generateKeyPair()
    const pub = await ours.hpke.importPublicKey(await theirs.hpke.exportPublicKey(publicKey))
    const info = rand(9)
    const sealed = await ours.hpke.seal(pub, rand(77), info)
    expect((await theirs.hpke.open(privateKey, sealed.enc, sealed.ct, info)).length).toBe(77)
  })

  test('rng returns plain Uint8Arrays of the requested length', () => {
    const a = ours.rng.randomBytes(32)
    expect(a.constructor).toBe(Uint8Array)
    expect(a.length).toBe(32)
    expect(a).not.toEqual(ours.rng.randomBytes(32))
  })
})

test('ChaCha20-Poly1305 agrees with @noble/ciphers (the default provider uses it)', async () => {
  const aead = makeNodeAead('CHACHA20POLY1305')
  for (const n of sizes) {
    const [key, nonce, aad, plaintext] = [rand(32), rand(12), rand(n % 17), rand(n)]
    const ct = await aead.encryptAead(key, nonce, aad, plaintext)
    expect(ct).toEqual(chacha20poly1305(key, nonce, aad).encrypt(plaintext))
    expect(await aead.decryptAead(key, nonce, aad, ct)).toEqual(plaintext)
  }
})

test('HKDF-SHA256 matches RFC 5869 test case 1', async () => {
  const kdf = makeNodeKdf('SHA-256')
  const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))
  const prk = await kdf.extract(hex('000102030405060708090a0b0c'), hex('0b'.repeat(22)))
  expect(Buffer.from(prk).toString('hex')).toBe(
    '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5',
  )
  const okm = await kdf.expand(prk, hex('f0f1f2f3f4f5f6f7f8f9'), 42)
  expect(Buffer.from(okm).toString('hex')).toBe(
    '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  )
  await expect(kdf.expand(prk, new Uint8Array(), 255 * 32 + 1)).rejects.toThrow(/exceeds/)
})

test('Ed25519 matches RFC 8032 test 1', async () => {
  const ed = makeNodeEd25519({ keyCacheSize: 1 })
  const seed = Uint8Array.from(
    Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'),
  )
  const sig = await ed.sign(seed, new Uint8Array())
  expect(Buffer.from(sig).toString('hex')).toBe(
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  )
  // A second key evicts the first from the one-entry cache; signing still works.
  await ed.sign((await ed.keygen()).signKey, new Uint8Array())
  expect(await ed.sign(seed, new Uint8Array())).toEqual(sig)
})

const config: ClientConfig = {
  keyRetentionConfig: defaultKeyRetentionConfig,
  lifetimeConfig: defaultLifetimeConfig,
  keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
  paddingConfig: defaultPaddingConfig,
  authService: { validateCredential: async () => true },
}

async function conversation(aliceImpl: CiphersuiteImpl, bobImpl: CiphersuiteImpl, messages: number) {
  const credential = (name: string) => ({
    credentialType: 'basic' as const,
    identity: new TextEncoder().encode(name),
  })
  const alice = await generateKeyPackage(
    credential('alice'),
    defaultCapabilities(),
    defaultLifetime,
    [],
    aliceImpl,
  )
  const bob = await generateKeyPackage(credential('bob'), defaultCapabilities(), defaultLifetime, [], bobImpl)
  let a: ClientState = await createGroup(
    rand(32),
    alice.publicPackage,
    alice.privatePackage,
    [],
    aliceImpl,
    config,
  )
  const commit = await createCommit(
    { state: a, cipherSuite: aliceImpl },
    {
      extraProposals: [{ proposalType: 'add', add: { keyPackage: bob.publicPackage } }],
      ratchetTreeExtension: true,
    },
  )
  a = commit.newState
  let b: ClientState = await joinGroup(
    commit.welcome!,
    bob.publicPackage,
    bob.privatePackage,
    emptyPskIndex,
    bobImpl,
    undefined,
    undefined,
    config,
  )
  const send = async (
    from: ClientState,
    to: ClientState,
    fromImpl: CiphersuiteImpl,
    toImpl: CiphersuiteImpl,
  ) => {
    const body = rand(1024)
    const sent = await createApplicationMessage(from, body, fromImpl)
    const got = await processPrivateMessage(to, sent.privateMessage, emptyPskIndex, toImpl)
    expect(got.kind).toBe('applicationMessage')
    if (got.kind === 'applicationMessage') expect(got.message).toEqual(body)
    return [sent.newState, got.newState] as const
  }
  for (let i = 0; i < messages; i++) {
    ;[a, b] = await send(a, b, aliceImpl, bobImpl)
    ;[b, a] = await send(b, a, bobImpl, aliceImpl)
  }
  // A commit from the joiner moves both to the next epoch.
  const update = await createCommit({ state: b, cipherSuite: bobImpl }, {})
  b = update.newState
  if (update.commit.wireformat !== 'mls_private_message') throw new Error('expected a private commit')
  const applied = await processPrivateMessage(a, update.commit.privateMessage, emptyPskIndex, aliceImpl)
  a = applied.newState
  expect([a.groupContext.epoch, b.groupContext.epoch]).toEqual([2n, 2n])
  ;[a, b] = await send(a, b, aliceImpl, bobImpl)
}

describe('MLS over the X-Wing suite', () => {
  let ours: CiphersuiteImpl
  let theirs: CiphersuiteImpl
  beforeAll(async () => {
    ours = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, createNodeCryptoProvider())
    theirs = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, defaultCryptoProvider)
  })
  test('a conversation of 100 messages each way with the node provider', () => conversation(ours, ours, 100))
  test('interop: default provider creates, node provider joins', () => conversation(theirs, ours, 20))
  test('interop: node provider creates, default provider joins', () => conversation(ours, theirs, 20))
})
