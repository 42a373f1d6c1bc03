import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { getAddress, type Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { decodeLogHeadStatement } from '../protocol/logHeadStatement.js'
import {
  decodeSignedStatement,
  decodeStatement,
  encodeSignedStatement,
  InvalidStatementError,
  type Statement,
} from '../protocol/statement.js'
import { DeviceSigningKey, P256_N } from './p256.js'
import {
  signLogHeadStatement,
  signStatement,
  verifyLogHeadSignature,
  verifyStatementSignature,
} from './statementSignature.js'

const toHex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`
const fromHex = (h: string) => new Uint8Array(Buffer.from(h.replace(/^0x/, ''), 'hex'))
const b32 = (byte: string): Hex => `0x${byte.repeat(32)}`

const statement: Statement = {
  chainId: 31337,
  from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  device: b32('a1'),
  conversation: b32('c0'),
  seq: 1n,
  sentAt: 1_700_000_000_000,
  block: { number: 10n, hash: b32('b7') },
  bodyHash: b32('d4'),
  salt: b32('5a'),
}

describe('signStatement / verifyStatementSignature', () => {
  const key = DeviceSigningKey.generate()
  const other = DeviceSigningKey.generate()

  test('sign then verify; other key, other statement fail', () => {
    const signed = signStatement({ statement, key })
    expect(signed.bytes.length).toBe(213)
    expect(BigInt(`0x${signed.signature.slice(66)}`) <= P256_N / 2n).toBe(true)
    expect(verifyStatementSignature({ signed, publicKey: key.publicKey })).toBe(true)
    expect(verifyStatementSignature({ signed, publicKey: key.publicKeyHex })).toBe(true)
    expect(verifyStatementSignature({ signed, publicKey: other.publicKey })).toBe(false)
    // Survives the wire.
    const back = decodeSignedStatement(encodeSignedStatement(signed))
    expect(verifyStatementSignature({ signed: back, publicKey: key.publicKey })).toBe(true)
  })

  test('the statement object must match the signed bytes', () => {
    const signed = signStatement({ statement, key })
    const lying = { ...signed, statement: { ...signed.statement, seq: 2n } }
    expect(verifyStatementSignature({ signed: lying, publicKey: key.publicKey })).toBe(false)
  })

  test('returns the canonical statement', () => {
    const signed = signStatement({
      statement: { ...statement, from: statement.from.toLowerCase() as Hex },
      key,
    })
    expect(signed.statement).toEqual(statement)
  })

  test('invalid statements are refused before signing', () => {
    expect(() => signStatement({ statement: { ...statement, chainId: 0 }, key })).toThrow(
      InvalidStatementError,
    )
  })

  test('never throws on malformed input', () => {
    const signed = signStatement({ statement, key })
    const bad: unknown[] = [
      { signed: { ...signed, signature: '0x12' }, publicKey: key.publicKey },
      { signed: { ...signed, bytes: signed.bytes.subarray(1) }, publicKey: key.publicKey },
      { signed: { ...signed, statement: null }, publicKey: key.publicKey },
      { signed: null, publicKey: key.publicKey },
      { signed, publicKey: new Uint8Array(64) },
    ]
    for (const p of bad) expect(verifyStatementSignature(p as never)).toBe(false)
  })

  test('any flipped bit in the signed wire form fails verification (fast-check)', () => {
    const wire = encodeSignedStatement(signStatement({ statement, key }))
    fc.assert(
      fc.property(fc.nat({ max: wire.length - 1 }), fc.integer({ min: 0, max: 7 }), (i, bit) => {
        const copy = wire.slice()
        copy[i]! ^= 1 << bit
        let ok = false
        try {
          ok = verifyStatementSignature({ signed: decodeSignedStatement(copy), publicKey: key.publicKey })
        } catch {
          ok = false // a CodecError is also a rejection
        }
        expect(ok).toBe(false)
      }),
      { numRuns: 300 },
    )
  })

  test('random statements sign and verify (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        (a, seq) => {
          const s = { ...statement, from: getAddress(toHex(a)), seq }
          const signed = signStatement({ statement: s, key })
          expect(verifyStatementSignature({ signed, publicKey: key.publicKey })).toBe(true)
        },
      ),
      { numRuns: 50 },
    )
  })
})

test('frozen signatures in test/vectors/statement-v1.json verify (RFC 6979 key, noble-generated)', () => {
  const file = JSON.parse(
    readFileSync(new URL('../../test/vectors/statement-v1.json', import.meta.url), 'utf8'),
  )
  for (const v of file.vectors) {
    const bytes = fromHex(v.encoded)
    const signed = { statement: decodeStatement(bytes), bytes, signature: v.signature as Hex }
    expect(verifyStatementSignature({ signed, publicKey: file.signingKey.publicKey })).toBe(true)
    expect(verifyStatementSignature({ signed, publicKey: DeviceSigningKey.generate().publicKey })).toBe(false)
  }
})

test('frozen signatures in test/vectors/statement-v2.json verify: message and log heads (RFC 6979 key, noble-generated)', () => {
  const file = JSON.parse(
    readFileSync(new URL('../../test/vectors/statement-v2.json', import.meta.url), 'utf8'),
  )
  const bytes = fromHex(file.message.encoded)
  const signed = { statement: decodeStatement(bytes), bytes, signature: file.message.signature as Hex }
  expect(verifyStatementSignature({ signed, publicKey: file.signingKey.publicKey })).toBe(true)
  for (const v of file.logHeads) {
    const head = fromHex(v.encoded)
    const signedHead = { statement: decodeLogHeadStatement(head), bytes: head, signature: v.signature as Hex }
    expect(verifyLogHeadSignature({ signed: signedHead, publicKey: file.signingKey.publicKey })).toBe(true)
    // A log-head signature is not a message signature, and a message signature is not a log-head signature.
    expect(
      verifyLogHeadSignature({
        signed: { ...signedHead, signature: file.message.signature },
        publicKey: file.signingKey.publicKey,
      }),
    ).toBe(false)
  }
})

test('signLogHeadStatement signs what verifyLogHeadSignature accepts, and only under the signing key', () => {
  const key = DeviceSigningKey.generate()
  const signed = signLogHeadStatement({
    key,
    statement: {
      kind: 'head',
      chainId: 31337,
      registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      account: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      device: `0x${'a1'.repeat(32)}`,
      logIndex: 3,
      head: `0x${'e1'.repeat(32)}`,
      prev: undefined,
      block: { number: 5n, hash: `0x${'b1'.repeat(32)}` },
    },
  })
  expect(signed.bytes.length).toBe(202)
  expect(verifyLogHeadSignature({ signed, publicKey: key.publicKey })).toBe(true)
  expect(verifyLogHeadSignature({ signed, publicKey: DeviceSigningKey.generate().publicKey })).toBe(false)
  const edited = { ...signed, statement: { ...signed.statement, logIndex: 4 } }
  expect(verifyLogHeadSignature({ signed: edited, publicKey: key.publicKey })).toBe(false)
})
