/** The seal pool: batches go to worker threads, small batches and a closed pool stay in-thread, and MLS interoperates. */
import { randomBytes } from 'node:crypto'
import {
  type ClientConfig,
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
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
} from 'ts-mls'
import { afterAll, describe, expect, test } from 'vitest'
import { DEFAULT_CIPHERSUITE } from './mls.js'
import { createNodeCryptoProvider } from './nodeCryptoProvider.js'
import { SealPool } from './sealPool.js'
import { xwingDeriveKeyPair } from './xwing.js'
import { hpkeKeyScheduleContext, makeXWingHpke, type XWingHpkeSuite } from './xwingHpke.js'

const rand = (n: number) => new Uint8Array(randomBytes(n))
const suite: XWingHpkeSuite = { kdf: 'HKDF-SHA512', aead: 'AES256GCM' }

async function sealBatch(pool: SealPool, count: number) {
  const hpke = makeXWingHpke(suite)
  const info = rand(50_000)
  const recipients = Array.from({ length: count }, () => xwingDeriveKeyPair(rand(32)))
  const plaintexts = recipients.map(() => rand(64))
  const context = hpkeKeyScheduleContext(suite, info)
  const sealed = await Promise.all(
    recipients.map((r, i) =>
      pool.seal(suite, { publicKey: r.publicKey, plaintext: plaintexts[i]!, aad: undefined, context }),
    ),
  )
  for (const [i, s] of sealed.entries()) {
    const privateKey = await hpke.importPrivateKey(recipients[i]!.secretKey)
    expect(await hpke.open(privateKey, s.enc, s.ct, info)).toEqual(plaintexts[i])
  }
}

describe('SealPool', () => {
  const pool = new SealPool({ size: 2, minBatch: 4 })
  afterAll(() => pool.close())

  test('a small batch runs in-thread without starting workers', async () => {
    await sealBatch(pool, 3)
    expect(pool.usingWorkers).toBe(false)
  })

  test('a batch of 40 seals goes to the workers, and every recipient opens its own', async () => {
    await pool.start()
    await sealBatch(pool, 40)
    expect(pool.usingWorkers).toBe(true)
  })

  test('a bad job in a worker batch fails alone', async () => {
    const context = hpkeKeyScheduleContext(suite, rand(10))
    const good = xwingDeriveKeyPair(rand(32)).publicKey
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        pool.seal(suite, {
          publicKey: i === 5 ? good.subarray(3) : good,
          plaintext: rand(8),
          aad: undefined,
          context,
        }),
      ),
    )
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ])
  })

  test('after close, batches run in-thread (the fallback when workers are not available)', async () => {
    const closed = new SealPool({ size: 1, minBatch: 2 })
    await closed.start()
    await closed.close()
    await sealBatch(closed, 6)
    expect(closed.usingWorkers).toBe(false)
  })

  test('a pool of size 0 never starts a worker', async () => {
    const none = new SealPool({ size: 0, minBatch: 1 })
    await sealBatch(none, 5)
    expect(none.usingWorkers).toBe(false)
  })
})

const config: ClientConfig = {
  keyRetentionConfig: defaultKeyRetentionConfig,
  lifetimeConfig: defaultLifetimeConfig,
  keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
  paddingConfig: defaultPaddingConfig,
  authService: { validateCredential: async () => true },
}

test('a Welcome to 24 members sealed by workers is accepted by joiners on ts-mls default provider', async () => {
  const cs = getCiphersuiteFromName(DEFAULT_CIPHERSUITE)
  const fast = await getCiphersuiteImpl(cs, createNodeCryptoProvider({ sealWorkers: 2 }))
  const reference = await getCiphersuiteImpl(cs, defaultCryptoProvider)
  const credential = (i: number) => ({
    credentialType: 'basic' as const,
    identity: new TextEncoder().encode(`m${i}`),
  })
  const kp = (i: number) =>
    generateKeyPackage(credential(i), defaultCapabilities(), defaultLifetime, [], reference)
  const creator = await kp(0)
  const members = await Promise.all(Array.from({ length: 24 }, (_, i) => kp(i + 1)))
  const state = await createGroup(rand(32), creator.publicPackage, creator.privatePackage, [], fast, config)
  const commit = await createCommit(
    { state, cipherSuite: fast },
    {
      extraProposals: members.map((m) => ({
        proposalType: 'add' as const,
        add: { keyPackage: m.publicPackage },
      })),
      ratchetTreeExtension: true,
    },
  )
  for (const m of [members[0]!, members[23]!]) {
    const joined = await joinGroup(
      commit.welcome!,
      m.publicPackage,
      m.privatePackage,
      emptyPskIndex,
      reference,
      undefined,
      undefined,
      config,
    )
    expect(joined.keySchedule.epochAuthenticator).toEqual(commit.newState.keySchedule.epochAuthenticator)
  }
})
