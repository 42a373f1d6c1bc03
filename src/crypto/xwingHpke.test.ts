/** Sealpost's X-Wing HPKE against @hpke (what ts-mls's default provider runs): same bytes for the same randomness. */
import { createHmac, randomBytes } from 'node:crypto'
import { Aes256Gcm, CipherSuite, HkdfSha512 } from '@hpke/core'
import { XWing } from '@hpke/hybridkem-x-wing'
import { defaultCryptoProvider, getCiphersuiteFromName, type Hpke } from 'ts-mls'
import { beforeAll, describe, expect, test } from 'vitest'
import { DEFAULT_CIPHERSUITE } from './mls.js'
import { xwingDecapsulate, xwingDeriveKeyPair, xwingEncapsulate, xwingPublicKey } from './xwing.js'
import {
  hpkeKeyScheduleContext,
  hpkeSealWithContext,
  makeXWingHpke,
  type XWingHpkeSuite,
} from './xwingHpke.js'

const rand = (n: number) => new Uint8Array(randomBytes(n))
const suite: XWingHpkeSuite = { kdf: 'HKDF-SHA512', aead: 'AES256GCM' }
const reference = new CipherSuite({ kem: new XWing(), kdf: new HkdfSha512(), aead: new Aes256Gcm() })
const exportRaw = async (key: Parameters<typeof reference.kem.serializePublicKey>[0]) =>
  new Uint8Array(await reference.kem.serializePublicKey(key))

describe('X-Wing KEM', () => {
  test('derives the same key pair as @hpke/hybridkem-x-wing', async () => {
    for (let i = 0; i < 4; i++) {
      const ikm = rand(32 + i)
      const theirs = await reference.kem.deriveKeyPair(ikm)
      const ours = xwingDeriveKeyPair(ikm)
      expect(ours.publicKey).toEqual(await exportRaw(theirs.publicKey))
      expect(ours.secretKey).toEqual(
        new Uint8Array(await reference.kem.serializePrivateKey(theirs.privateKey)),
      )
    }
  })

  test('encapsulates to the same bytes for the same randomness, and each side decapsulates the other', async () => {
    const kem = new XWing()
    for (let i = 0; i < 4; i++) {
      const { secretKey, publicKey } = xwingDeriveKeyPair(rand(32))
      const eseed = rand(64)
      const theirs = await kem.encap({
        recipientPublicKey: await kem.deserializePublicKey(publicKey),
        ekm: eseed,
      })
      const ours = xwingEncapsulate(publicKey, eseed)
      expect(ours.enc).toEqual(new Uint8Array(theirs.enc))
      expect(ours.sharedSecret).toEqual(new Uint8Array(theirs.sharedSecret))
      const fresh = xwingEncapsulate(publicKey)
      const recipientKey = await kem.deserializePrivateKey(secretKey)
      expect(new Uint8Array(await kem.decap({ enc: fresh.enc, recipientKey }))).toEqual(fresh.sharedSecret)
      expect(xwingDecapsulate(fresh.enc, secretKey)).toEqual(fresh.sharedSecret)
    }
  })

  test('rejects keys and ciphertexts of the wrong length', () => {
    const { publicKey, secretKey } = xwingDeriveKeyPair(rand(32))
    expect(() => xwingEncapsulate(publicKey.subarray(1))).toThrow(/1216 bytes/)
    expect(() => xwingEncapsulate(publicKey, rand(63))).toThrow(/64 bytes/)
    expect(() => xwingDecapsulate(rand(1119), secretKey)).toThrow(/1120 bytes/)
    expect(() => xwingPublicKey(rand(31))).toThrow(/32 bytes/)
  })
})

describe('HPKE with X-Wing', () => {
  let ours: Hpke
  let theirs: Hpke
  beforeAll(async () => {
    ours = makeXWingHpke(suite)
    theirs = (await defaultCryptoProvider.getCiphersuiteImpl(getCiphersuiteFromName(DEFAULT_CIPHERSUITE)))
      .hpke
  })

  test('known answer: info_hash of a 1.4 MB info is LabeledExtract("", "info_hash", info), cached or not', () => {
    const info = rand(1_400_000)
    // RFC 9180 §4: LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm).
    const suiteId = Buffer.from('48504b45647a00030002', 'hex') // "HPKE" ‖ X-Wing ‖ HKDF-SHA512 ‖ AES-256-GCM
    const extract = (label: string, ikm: Uint8Array) =>
      createHmac('sha512', Buffer.alloc(0))
        .update(Buffer.concat([Buffer.from('HPKE-v1'), suiteId, Buffer.from(label), ikm]))
        .digest()
    const expected = Buffer.concat([
      Buffer.from([0]),
      extract('psk_id_hash', new Uint8Array()),
      extract('info_hash', info),
    ])
    const first = hpkeKeyScheduleContext(suite, info)
    expect(Buffer.from(first)).toEqual(expected)
    expect(hpkeKeyScheduleContext(suite, info)).toBe(first) // by identity
    expect(hpkeKeyScheduleContext(suite, info.slice())).toBe(first) // by value
    const other = info.slice()
    other[700_000]! ^= 1
    expect(Buffer.from(hpkeKeyScheduleContext(suite, other))).not.toEqual(expected)
  })

  test('seals to the same bytes as @hpke/core for the same randomness', async () => {
    const { secretKey, publicKey } = xwingDeriveKeyPair(rand(32))
    for (const info of [new Uint8Array(), rand(20), rand(10_000)]) {
      const eseed = rand(64)
      const plaintext = rand(99)
      const aad = rand(7)
      const theirsSealed = await reference.seal(
        { recipientPublicKey: await reference.kem.deserializePublicKey(publicKey), info, ekm: eseed },
        plaintext,
        aad,
      )
      const oursSealed = hpkeSealWithContext(suite, {
        publicKey,
        plaintext,
        aad,
        context: hpkeKeyScheduleContext(suite, info),
        eseed,
      })
      expect(oursSealed.enc).toEqual(new Uint8Array(theirsSealed.enc))
      expect(oursSealed.ct).toEqual(new Uint8Array(theirsSealed.ct))
      const privateKey = await ours.importPrivateKey(secretKey)
      expect(await ours.open(privateKey, oursSealed.enc, oursSealed.ct, info, aad)).toEqual(plaintext)
    }
  })

  test('interoperates with ts-mls default HPKE both ways, including exported secrets', async () => {
    const info = rand(5000)
    const mine = await ours.generateKeyPair()
    const yours = await theirs.generateKeyPair()
    const toYou = await ours.seal(
      await ours.importPublicKey(await theirs.exportPublicKey(yours.publicKey)),
      rand(40),
      info,
    )
    expect((await theirs.open(yours.privateKey, toYou.enc, toYou.ct, info)).length).toBe(40)
    const myPrivate = await theirs.importPrivateKey(await ours.exportPrivateKey(mine.privateKey))
    const toMe = await theirs.seal(
      await theirs.importPublicKey(await ours.exportPublicKey(mine.publicKey)),
      rand(41),
      info,
    )
    expect((await ours.open(mine.privateKey, toMe.enc, toMe.ct, info)).length).toBe(41)
    expect((await theirs.open(myPrivate, toMe.enc, toMe.ct, info)).length).toBe(41)
    const context = rand(12)
    const exported = await ours.exportSecret(
      await ours.importPublicKey(await theirs.exportPublicKey(yours.publicKey)),
      context,
      32,
      info,
    )
    expect(await theirs.importSecret(yours.privateKey, context, exported.enc, 32, info)).toEqual(
      exported.secret,
    )
    const ikm = rand(32)
    const a = await ours.deriveKeyPair(ikm)
    const b = await theirs.deriveKeyPair(ikm)
    expect(await ours.exportPublicKey(a.publicKey)).toEqual(await theirs.exportPublicKey(b.publicKey))
  })

  test('refuses tampered ciphertexts and foreign key objects', async () => {
    const { privateKey, publicKey } = await ours.generateKeyPair()
    const sealed = await ours.seal(publicKey, rand(10), rand(3))
    sealed.ct[0]! ^= 1
    await expect(ours.open(privateKey, sealed.enc, sealed.ct, rand(3))).rejects.toThrow(
      /AEAD decryption failed/,
    )
    await expect(ours.seal(privateKey as never, rand(1), rand(1))).rejects.toThrow(/Not an X-Wing public key/)
    await expect(ours.importPublicKey(rand(100))).rejects.toThrow(/1216 bytes/)
  })
})
