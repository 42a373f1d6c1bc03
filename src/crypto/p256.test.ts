import { createPrivateKey } from 'node:crypto'
import { p256 } from '@noble/curves/nist.js'
import fc from 'fast-check'
import type { Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { ValidationError } from '../errors.js'
import { assertValidP256PublicKey, DeviceSigningKey, InvalidKeyError, P256_N, verifyP256 } from './p256.js'

const fromHex = (h: string) => new Uint8Array(Buffer.from(h.replace(/^0x/, ''), 'hex'))
const toHex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`
const b64u = (h: string) => Buffer.from(h, 'hex').toString('base64url')

// RFC 6979 §A.2.5 (P-256): key pair and the SHA-256 signature of "sample". Its s is in the high half, so
// a strict low-S verifier must reject it as given and accept its low-S twin (r, n - s).
const RFC = {
  d: 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721',
  ux: '60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6',
  uy: '7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299',
  r: 'efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716',
  s: 'f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8',
  // RFC 6979 §A.2.5, SHA-256, message "test".
  testR: 'f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367',
  testS: '019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083',
}
const rfcPublicKey = fromHex(RFC.ux + RFC.uy)
const utf8 = (s: string) => new TextEncoder().encode(s)

/** noble keygen with the uncompressed 65-byte public key (noble's default is compressed). */
function keygen() {
  const secretKey = p256.utils.randomSecretKey()
  return { secretKey, publicKey: p256.getPublicKey(secretKey, false) }
}

function rfcKey(): DeviceSigningKey {
  const key = createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: b64u(RFC.d), x: b64u(RFC.ux), y: b64u(RFC.uy) },
    format: 'jwk',
  })
  return DeviceSigningKey.fromPkcs8(new Uint8Array(key.export({ format: 'der', type: 'pkcs8' })))
}

describe('known answers (RFC 6979 A.2.5)', () => {
  test('public key of the RFC private key', () => {
    const key = rfcKey()
    expect(toHex(key.publicKey)).toBe(`0x${RFC.ux}${RFC.uy}`)
    expect(key.p256X).toBe(`0x${RFC.ux}`)
    expect(key.p256Y).toBe(`0x${RFC.uy}`)
    expect(key.publicKeyHex).toBe(`0x${RFC.ux}${RFC.uy}`)
  })

  test('"test" signature (low S) verifies; wrong message does not', () => {
    const signature = fromHex(RFC.testR + RFC.testS)
    expect(verifyP256({ publicKey: rfcPublicKey, message: utf8('test'), signature })).toBe(true)
    expect(verifyP256({ publicKey: rfcPublicKey, message: utf8('tesT'), signature })).toBe(false)
  })

  test('"sample" signature: high S rejected, its low-S twin accepted', () => {
    const s = BigInt(`0x${RFC.s}`)
    expect(s > P256_N / 2n).toBe(true)
    const high = fromHex(RFC.r + RFC.s)
    const low = fromHex(RFC.r + (P256_N - s).toString(16).padStart(64, '0'))
    expect(toHex(low.subarray(32))).toBe('0x0834e36ad29a83bf2bc9385e491d6099c8fdf9d1ed67aa7ea5f51f93782857a9')
    // noble (lowS: false) agrees the high-S form is a valid ECDSA signature...
    expect(p256.verify(high, utf8('sample'), fromHex(`04${RFC.ux}${RFC.uy}`), { lowS: false })).toBe(true)
    // ...but ours refuses malleable signatures.
    expect(verifyP256({ publicKey: rfcPublicKey, message: utf8('sample'), signature: high })).toBe(false)
    expect(
      verifyP256({ publicKey: toHex(rfcPublicKey), message: utf8('sample'), signature: toHex(low) }),
    ).toBe(true)
  })
})

describe('DeviceSigningKey', () => {
  const key = DeviceSigningKey.generate()

  test('sign / verify, always low-S, and PKCS#8 round trip', () => {
    const message = utf8('hello')
    for (let i = 0; i < 32; i++) {
      const sig = key.sign(message)
      expect(sig.length).toBe(64)
      expect(BigInt(toHex(sig.subarray(32))) <= P256_N / 2n).toBe(true)
      expect(verifyP256({ publicKey: key.publicKey, message, signature: sig })).toBe(true)
    }
    const again = DeviceSigningKey.fromPkcs8(key.exportPkcs8())
    expect(again.publicKeyHex).toBe(key.publicKeyHex)
    expect(verifyP256({ publicKey: key.publicKey, message, signature: again.sign(message) })).toBe(true)
  })

  test('differential against @noble/curves p256 (fast-check)', () => {
    const nobleKey = fromHex(`04${key.publicKeyHex.slice(2)}`)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (message) => {
        const sig = key.sign(message)
        expect(p256.verify(sig, message, nobleKey, { lowS: true })).toBe(true)
        const { secretKey, publicKey } = keygen()
        const nobleSig = p256.sign(message, secretKey, { lowS: true })
        expect(verifyP256({ publicKey: publicKey.subarray(1), message, signature: nobleSig })).toBe(true)
        const tampered = nobleSig.slice()
        tampered[5]! ^= 1
        expect(verifyP256({ publicKey: publicKey.subarray(1), message, signature: tampered })).toBe(
          p256.verify(tampered, message, publicKey, { lowS: true }),
        )
      }),
      { numRuns: 50 },
    )
  })

  test('does not leak the private key through printing', () => {
    expect(JSON.stringify(key)).toBe(JSON.stringify({ publicKey: key.publicKeyHex }))
    expect(String(key)).toBe(`DeviceSigningKey(${key.publicKeyHex})`)
    expect(Object.keys(key)).not.toContain('privateKey')
  })

  test('fromPkcs8 rejects garbage and other curves', async () => {
    expect(() => DeviceSigningKey.fromPkcs8(new Uint8Array(10))).toThrowErrorMatchingInlineSnapshot(`
      [InvalidKeyError: Key is invalid.

      Reason: not a PKCS#8 DER private key]
    `)
    const { generateKeyPairSync } = await import('node:crypto')
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey
    expect(() =>
      DeviceSigningKey.fromPkcs8(new Uint8Array(k1.export({ format: 'der', type: 'pkcs8' }))),
    ).toThrowErrorMatchingInlineSnapshot(`
      [InvalidKeyError: Key is invalid.

      Reason: not a P-256 EC key]
    `)
    const ed = generateKeyPairSync('ed25519').privateKey
    expect(() =>
      DeviceSigningKey.fromPkcs8(new Uint8Array(ed.export({ format: 'der', type: 'pkcs8' }))),
    ).toThrow(InvalidKeyError)
  })
})

describe('malformed inputs', () => {
  const key = DeviceSigningKey.generate()
  const message = utf8('m')
  const sig = key.sign(message)

  test('verifyP256 returns false for wrong lengths, zero or out-of-range r/s, off-curve keys', () => {
    const n = P256_N.toString(16).padStart(64, '0')
    const offCurve = key.publicKey.slice()
    offCurve[63]! ^= 1
    const cases: [string, unknown, unknown, unknown][] = [
      ['short key', key.publicKey.subarray(1), message, sig],
      ['65-byte key', fromHex(`04${key.publicKeyHex.slice(2)}`), message, sig],
      ['off-curve key', offCurve, message, sig],
      ['zero key', new Uint8Array(64), message, sig],
      ['short sig', key.publicKey, message, sig.subarray(1)],
      ['long sig', key.publicKey, message, Uint8Array.from([...sig, 0])],
      ['r = 0', key.publicKey, message, Uint8Array.from([...new Uint8Array(32), ...sig.subarray(32)])],
      ['s = 0', key.publicKey, message, Uint8Array.from([...sig.subarray(0, 32), ...new Uint8Array(32)])],
      ['r = n', key.publicKey, message, Uint8Array.from([...fromHex(n), ...sig.subarray(32)])],
      ['hex garbage', '0xzz', message, sig],
      ['message not bytes', key.publicKey, 'm', sig],
      ['null sig', key.publicKey, message, null],
    ]
    for (const [name, publicKey, m, signature] of cases)
      expect(verifyP256({ publicKey, message: m, signature } as never), name).toBe(false)
    expect(verifyP256({ publicKey: key.publicKey, message, signature: sig })).toBe(true)
  })

  test('assertValidP256PublicKey', () => {
    expect(() => assertValidP256PublicKey(key.publicKey)).not.toThrow()
    expect(() => assertValidP256PublicKey(new Uint8Array(65))).toThrowErrorMatchingInlineSnapshot(`
      [InvalidKeyError: Key is invalid.

      Reason: P-256 public key must be 64 bytes (x || y)]
    `)
    const offCurve = key.publicKey.slice()
    offCurve[0]! ^= 1
    expect(() => assertValidP256PublicKey(offCurve)).toThrowErrorMatchingInlineSnapshot(`
      [InvalidKeyError: Key is invalid.

      Reason: point is not on the P-256 curve]
    `)
    // x = p (not a field element) is refused even though it reduces to 0.
    const p = fromHex('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff')
    expect(() => assertValidP256PublicKey(Uint8Array.from([...p, ...key.publicKey.subarray(32)]))).toThrow(
      InvalidKeyError,
    )
    try {
      assertValidP256PublicKey(new Uint8Array(3))
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError)
      expect((err as InvalidKeyError).code).toBe('SEALPOST_INVALID_KEY')
    }
  })

  test('public key cache survives many keys (LRU eviction)', () => {
    const keys = Array.from({ length: 600 }, () => DeviceSigningKey.generate())
    for (const k of keys)
      expect(verifyP256({ publicKey: k.publicKey, message, signature: k.sign(message) })).toBe(true)
    const first = keys[0]!
    expect(verifyP256({ publicKey: first.publicKey, message, signature: first.sign(message) })).toBe(true)
    expect(verifyP256({ publicKey: first.publicKey, message, signature: keys[1]!.sign(message) })).toBe(false)
  })
})
