import fc from 'fast-check'
import { bytesToHex, getAddress, type Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { DeviceSigningKey } from '../crypto/p256.js'
import { signStatement, verifyStatementSignature } from '../crypto/statementSignature.js'
import { CodecError } from '../errors.js'
import {
  type ApplicationContent,
  CONTENT_VERSION,
  ContentCodecError,
  contentTypes,
  decodeApplicationContent,
  encodeApplicationContent,
  MAX_BODY_BYTES,
} from './content.js'
import {
  decodeStatement,
  encodeStatement,
  hashBody,
  type SignedStatement,
  STATEMENT_BYTES,
  type Statement,
  StatementFieldRangeError,
  StatementUnsupportedVersionError,
} from './statement.js'

const HEADER_BYTES = 2 + 277 + 4
const b32 = (byte: string): Hex => `0x${byte.repeat(32)}`
const utf8 = (s: string) => new TextEncoder().encode(s)
const body = utf8('hello, bob')

const statement: Statement = {
  chainId: 31337,
  from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  device: b32('a1'),
  conversation: b32('c0'),
  seq: 1n,
  sentAt: 1_700_000_000_000,
  block: { number: 10n, hash: b32('b7') },
  bodyHash: hashBody(body),
  salt: b32('5a'),
}
const key = DeviceSigningKey.generate()
const signed = signStatement({ statement, key })
const content: ApplicationContent = { signed, contentType: 'text', body }

// Arbitrary signed statements: decodeSignedStatement does not check the signature (verifyStatementSignature
// does), so any 64 bytes travel through the codec.
const bytesArb = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
const hexArb = (n: number) => bytesArb(n).map((b): Hex => bytesToHex(b))
const statementArb: fc.Arbitrary<Statement> = fc.record({
  chainId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  from: bytesArb(20).map((b) => getAddress(bytesToHex(b))),
  device: hexArb(32),
  conversation: hexArb(32),
  seq: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  sentAt: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  block: fc.record({ number: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), hash: hexArb(32) }),
  bodyHash: hexArb(32),
  salt: hexArb(32),
})
const signedArb: fc.Arbitrary<SignedStatement> = fc
  .record({ statement: statementArb, signature: hexArb(64) })
  .map(({ statement: s, signature }) => {
    const bytes = encodeStatement(s)
    return { statement: decodeStatement(bytes), bytes, signature }
  })
const contentArb: fc.Arbitrary<ApplicationContent> = fc.record({
  signed: signedArb,
  contentType: fc.constant('text' as const),
  body: fc.uint8Array({ maxLength: 2048 }),
})

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}

function expectContentError(bytes: unknown, reason: string) {
  const err = thrown(() => decodeApplicationContent(bytes as Uint8Array))
  expect(err).toBeInstanceOf(ContentCodecError)
  expect(err).toBeInstanceOf(CodecError)
  expect((err as ContentCodecError).code).toBe('SEALPOST_CONTENT_MALFORMED')
  expect((err as ContentCodecError).metaMessages).toEqual([`Reason: ${reason}`])
}

describe('application content encoding', () => {
  test('layout: version | contentType | signed statement | body length u32 BE | body', () => {
    const bytes = encodeApplicationContent(content)
    expect(bytes.length).toBe(HEADER_BYTES + body.length)
    expect(bytes[0]).toBe(CONTENT_VERSION)
    expect(bytes[1]).toBe(contentTypes.text)
    expect(bytes.subarray(2, 2 + STATEMENT_BYTES)).toEqual(signed.bytes)
    expect(bytesToHex(bytes.subarray(2 + STATEMENT_BYTES, 2 + 277))).toBe(signed.signature)
    expect(bytesToHex(bytes.subarray(279, 283))).toMatchInlineSnapshot(`"0x0000000a"`)
    expect(new TextDecoder().decode(bytes.subarray(HEADER_BYTES))).toBe('hello, bob')
  })

  test('a really signed statement survives the round trip and still verifies', () => {
    const back = decodeApplicationContent(encodeApplicationContent(content))
    expect(back).toEqual(content)
    expect(verifyStatementSignature({ signed: back.signed, publicKey: key.publicKey })).toBe(true)
  })

  test('an empty body and a body of exactly MAX_BODY_BYTES round trip', () => {
    for (const b of [new Uint8Array(0), new Uint8Array(MAX_BODY_BYTES).fill(7)]) {
      const back = decodeApplicationContent(encodeApplicationContent({ ...content, body: b }))
      // Buffer#equals: toEqual walks half a MiB element by element.
      expect(back.body.length).toBe(b.length)
      expect(Buffer.from(back.body).equals(b)).toBe(true)
    }
  })

  test('decode(encode(x)) equals x', () => {
    fc.assert(
      fc.property(contentArb, (x) => {
        expect(decodeApplicationContent(encodeApplicationContent(x))).toEqual(x)
      }),
      { numRuns: 200 },
    )
  })

  test('decoded body and statement bytes are copies, not views of the input', () => {
    const bytes = encodeApplicationContent(content)
    const back = decodeApplicationContent(bytes)
    bytes.fill(0)
    expect(back.body).toEqual(body)
    expect(back.signed.bytes).toEqual(signed.bytes)
  })

  test('encoding a body larger than MAX_BODY_BYTES -> ContentCodecError', () => {
    const err = thrown(() =>
      encodeApplicationContent({ ...content, body: new Uint8Array(MAX_BODY_BYTES + 1) }),
    )
    expect(err).toBeInstanceOf(ContentCodecError)
    expect((err as ContentCodecError).message).toMatchInlineSnapshot(`
      "Application content does not decode.

      Reason: body exceeds 524288 bytes"
    `)
  })
})

describe('malformed application content', () => {
  const valid = () => encodeApplicationContent(content)

  test.each([0, 1, 100, HEADER_BYTES - 1])('shorter than the header (%i bytes) -> truncated', (length) => {
    expectContentError(valid().subarray(0, length), 'truncated')
  })

  test('not a Uint8Array -> truncated', () => {
    expectContentError(Array.from(valid()), 'truncated')
  })

  test.each([0, 3, 0xff])('version %i -> ContentCodecError', (version) => {
    const bytes = valid()
    bytes[0] = version
    expectContentError(bytes, 'unknown version')
  })

  test('content version 2 around a v1 statement does not decode', () => {
    const bytes = valid()
    bytes[0] = 2
    expect(() => decodeApplicationContent(bytes)).toThrow(CodecError)
  })

  test.each([0, 3, 0xff])('content type %i -> ContentCodecError', (type) => {
    const bytes = valid()
    bytes[1] = type
    expectContentError(bytes, 'unknown content type')
  })

  test('body length field above MAX_BODY_BYTES -> body too large', () => {
    for (const length of [MAX_BODY_BYTES + 1, 0xffffffff]) {
      const bytes = valid()
      new DataView(bytes.buffer).setUint32(279, length)
      expectContentError(bytes, 'body too large')
    }
  })

  test('trailing byte, missing byte, or a lying length field -> length mismatch', () => {
    const bytes = valid()
    const trailing = new Uint8Array(bytes.length + 1)
    trailing.set(bytes)
    expectContentError(trailing, 'length mismatch')
    expectContentError(bytes.subarray(0, bytes.length - 1), 'length mismatch')
    const lying = valid()
    new DataView(lying.buffer).setUint32(279, body.length + 1)
    expectContentError(lying, 'length mismatch')
  })

  test('inner statement with chain id 0 -> StatementFieldRangeError (a CodecError)', () => {
    const bytes = valid()
    bytes.fill(0, 3, 11) // statement chainId u64 sits right after its version byte
    const err = thrown(() => decodeApplicationContent(bytes))
    expect(err).toBeInstanceOf(StatementFieldRangeError)
    expect(err).toBeInstanceOf(CodecError)
    expect((err as StatementFieldRangeError).code).toBe('SEALPOST_STATEMENT_FIELD_RANGE')
  })

  test('inner statement with an unknown version -> StatementUnsupportedVersionError', () => {
    const bytes = valid()
    bytes[2] = 9
    const err = thrown(() => decodeApplicationContent(bytes))
    expect(err).toBeInstanceOf(StatementUnsupportedVersionError)
    expect((err as StatementUnsupportedVersionError).code).toBe('SEALPOST_STATEMENT_UNSUPPORTED_VERSION')
  })

  test('random bytes never throw anything but a CodecError subclass', () => {
    const header = Uint8Array.from([CONTENT_VERSION, contentTypes.text])
    const anyBytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      // Past the version and type checks, so the statement decoder and length checks see random data.
      fc.uint8Array({ minLength: HEADER_BYTES - 2, maxLength: HEADER_BYTES + 64 }).map((rest) => {
        const out = new Uint8Array(2 + rest.length)
        out.set(header)
        out.set(rest, 2)
        return out
      }),
    )
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        try {
          decodeApplicationContent(bytes)
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError)
        }
      }),
      { numRuns: 300 },
    )
  })

  test('any single-byte change to a valid encoding decodes to something else or throws a CodecError', () => {
    const bytes = valid()
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, delta) => {
        const mutated = Uint8Array.from(bytes)
        mutated[index] = (mutated[index]! + delta) & 0xff
        try {
          const back = decodeApplicationContent(mutated)
          expect(encodeApplicationContent(back)).toEqual(mutated)
          expect(back).not.toEqual(content)
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError)
        }
      }),
      { numRuns: 300 },
    )
  })
})
