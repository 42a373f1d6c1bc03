import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import type { Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { CodecError, VerificationError } from '../errors.js'
import {
  createEnvelope,
  decodeEnvelope,
  ENVELOPE_HEADER_BYTES,
  type Envelope,
  EnvelopeBadMagicError,
  EnvelopeIdMismatchError,
  EnvelopeInvalidFieldError,
  EnvelopeNotBytesError,
  EnvelopeOptionsError,
  EnvelopeTooLargeError,
  EnvelopeTrailingBytesError,
  EnvelopeTruncatedError,
  EnvelopeUnknownKindError,
  EnvelopeUnsupportedVersionError,
  encodeEnvelope,
  envelopeId,
  envelopeKinds,
  MAX_PAYLOAD_BYTES,
} from './envelope.js'

const toHex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`
const fromHex = (h: string) => new Uint8Array(Buffer.from(h.replace(/^0x/, ''), 'hex'))

const topic: Hex = `0x${'11'.repeat(32)}`
const example = () =>
  createEnvelope({ kind: 'application', topic, payload: new TextEncoder().encode('hello') })

const envelopeArb = fc
  .record({
    kind: fc.constantFrom(...envelopeKinds),
    topic: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex),
    payload: fc.uint8Array({ maxLength: 300 }),
  })
  .map((p) => createEnvelope(p))

/** Throws unless decoding failed with one of the allowed error types. */
function expectRejected(bytes: Uint8Array): unknown {
  try {
    decodeEnvelope(bytes)
  } catch (err) {
    if (err instanceof CodecError || err instanceof EnvelopeIdMismatchError) return err
    throw new Error(`unexpected error type: ${String(err)}`)
  }
  throw new Error('decoded without error')
}

describe('layout', () => {
  test('header is 72 bytes and the example encoding is frozen', () => {
    const bytes = encodeEnvelope(example())
    expect(bytes.length).toBe(ENVELOPE_HEADER_BYTES + 5)
    expect(toHex(bytes)).toMatchInlineSnapshot(
      `"0x5350010411111111111111111111111111111111111111111111111111111111111111119f24281bf0ed2bea8c2d1010aaf592716def28d9640ea9cd728b2fb0a3af95300000000568656c6c6f"`,
    )
  })

  test('kinds map to wire codes 1..5 in plan order', () => {
    expect(envelopeKinds).toEqual(['key-package', 'welcome', 'commit', 'application', 'receipt'])
    for (const [i, kind] of envelopeKinds.entries()) {
      const bytes = encodeEnvelope(createEnvelope({ kind, topic, payload: new Uint8Array() }))
      expect(bytes[3]).toBe(i + 1)
    }
  })

  test('id is SHA-256 over label || 0x00 || version || kind || topic || payload', async () => {
    const { createHash } = await import('node:crypto')
    const e = example()
    const manual = createHash('sha256')
      .update('sealpost/v1/envelope-id')
      .update(Uint8Array.of(0, 1, 4))
      .update(fromHex(topic))
      .update(e.payload)
      .digest('hex')
    expect(e.id).toBe(`0x${manual}`)
    expect(envelopeId({ kind: 'application', topic, payload: e.payload })).toBe(e.id)
  })

  test('frozen vector file test/vectors/envelope-v1.json', () => {
    const vectors = JSON.parse(
      readFileSync(new URL('../../test/vectors/envelope-v1.json', import.meta.url), 'utf8'),
    )
    expect(vectors.vectors.length).toBeGreaterThan(0)
    for (const v of vectors.vectors) {
      const e = createEnvelope({
        kind: v.input.kind,
        topic: v.input.topic,
        payload: fromHex(v.input.payload),
      })
      expect(e.id).toBe(v.id)
      expect(toHex(encodeEnvelope(e))).toBe(v.encoded)
      const back = decodeEnvelope(fromHex(v.encoded))
      expect(back).toEqual(e)
    }
  })
})

describe('round trip and robustness (fast-check)', () => {
  test('decode(encode(e)) == e', () => {
    fc.assert(
      fc.property(envelopeArb, (e) => {
        expect(decodeEnvelope(encodeEnvelope(e))).toEqual(e)
      }),
    )
  })

  test('arbitrary bytes only ever raise CodecError or EnvelopeIdMismatchError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expectRejected(bytes)
      }),
      { numRuns: 500 },
    )
    // Random bodies behind a valid-looking header reach the id check.
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 68, maxLength: 68 }),
        fc.uint8Array({ maxLength: 64 }),
        (head, body) => {
          const bytes = new Uint8Array(72 + body.length)
          bytes.set(head)
          bytes.set([0x53, 0x50, 1, 1 + (head[3]! % 5)])
          new DataView(bytes.buffer).setUint32(68, body.length)
          bytes.set(body, 72)
          expect(expectRejected(bytes)).toBeInstanceOf(EnvelopeIdMismatchError)
        },
      ),
    )
  })

  test('flipping any bit of any byte is detected, never decoded as another envelope', () => {
    fc.assert(
      fc.property(envelopeArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (e, at, mask) => {
        const bytes = encodeEnvelope(e)
        const i = at % bytes.length
        bytes[i]! ^= mask
        const err = expectRejected(bytes)
        expect(err instanceof CodecError || err instanceof VerificationError).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  test('every truncation raises EnvelopeTruncatedError', () => {
    fc.assert(
      fc.property(envelopeArb, (e) => {
        const bytes = encodeEnvelope(e)
        for (let cut = 0; cut < bytes.length; cut++)
          expect(expectRejected(bytes.subarray(0, cut))).toBeInstanceOf(EnvelopeTruncatedError)
      }),
      { numRuns: 30 },
    )
  })

  test('the decoded payload is a copy, not a view of the input', () => {
    const bytes = encodeEnvelope(example())
    const e = decodeEnvelope(bytes)
    bytes[ENVELOPE_HEADER_BYTES] = 0
    expect(new TextDecoder().decode(e.payload)).toBe('hello')
    expect(e.payload.buffer).not.toBe(bytes.buffer)
  })

  test('no aliasing with Node Buffers either (Buffer#slice returns a view)', () => {
    const buf = Buffer.from(encodeEnvelope(example()))
    const e = decodeEnvelope(buf)
    buf[ENVELOPE_HEADER_BYTES] = 0
    expect(new TextDecoder().decode(e.payload)).toBe('hello')
    expect(Buffer.isBuffer(e.payload)).toBe(false)
    const payload = Buffer.from('hello')
    const created = createEnvelope({ kind: 'commit', topic, payload })
    payload[0] = 0
    expect(new TextDecoder().decode(created.payload)).toBe('hello')
  })

  test('createEnvelope copies the payload', () => {
    const payload = new TextEncoder().encode('hello')
    const e = createEnvelope({ kind: 'commit', topic, payload })
    payload[0] = 0
    expect(decodeEnvelope(encodeEnvelope(e)).payload).toEqual(new TextEncoder().encode('hello'))
  })

  test('decodes from a view into a larger buffer', () => {
    const bytes = encodeEnvelope(example())
    const big = new Uint8Array(bytes.length + 10)
    big.set(bytes, 5)
    expect(decodeEnvelope(big.subarray(5, 5 + bytes.length))).toEqual(example())
  })
})

describe('limits', () => {
  test('a huge declared length is refused before anything is read or allocated', () => {
    const bytes = encodeEnvelope(example()).slice(0, ENVELOPE_HEADER_BYTES)
    new DataView(bytes.buffer).setUint32(68, 0xffffffff)
    expect(() => decodeEnvelope(bytes)).toThrow(EnvelopeTooLargeError)
  })

  test('payload of exactly 1 MiB is fine, one more byte is not', () => {
    const max = createEnvelope({ kind: 'welcome', topic, payload: new Uint8Array(MAX_PAYLOAD_BYTES) })
    expect(decodeEnvelope(encodeEnvelope(max)).payload.length).toBe(MAX_PAYLOAD_BYTES)
    expect(() =>
      createEnvelope({ kind: 'welcome', topic, payload: new Uint8Array(MAX_PAYLOAD_BYTES + 1) }),
    ).toThrow(EnvelopeTooLargeError)
  })

  test('maxPayloadBytes lowers the limit; it can not raise it', () => {
    const bytes = encodeEnvelope(example())
    expect(() => decodeEnvelope(bytes, { maxPayloadBytes: 4 })).toThrow(EnvelopeTooLargeError)
    expect(decodeEnvelope(bytes, { maxPayloadBytes: 5 }).payload.length).toBe(5)
    expect(() => decodeEnvelope(bytes, { maxPayloadBytes: -1 })).toThrow(EnvelopeOptionsError)
    const header = new Uint8Array(ENVELOPE_HEADER_BYTES)
    header.set(bytes.subarray(0, 68))
    new DataView(header.buffer).setUint32(68, MAX_PAYLOAD_BYTES + 1)
    expect(() => decodeEnvelope(header, { maxPayloadBytes: 2 ** 40 })).toThrow(EnvelopeTooLargeError)
  })
})

describe('errors', () => {
  const good = () => encodeEnvelope(example())
  const mutate = (f: (b: Uint8Array) => void) => {
    const b = good()
    f(b)
    return b
  }
  const message = (f: () => unknown) => {
    try {
      f()
    } catch (err) {
      const e = err as CodecError
      return `${e.name} [${e.code}] ${e.message}`
    }
    throw new Error('no error')
  }

  test('messages and codes', () => {
    expect(message(() => decodeEnvelope(good().subarray(0, 10)))).toMatchInlineSnapshot(`
      "EnvelopeTruncatedError [SEALPOST_ENVELOPE_TRUNCATED] Envelope is truncated.

      Expected at least 72 bytes, got 10."
    `)
    expect(message(() => decodeEnvelope(mutate((b) => (b[0] = 0))))).toMatchInlineSnapshot(
      `"EnvelopeBadMagicError [SEALPOST_ENVELOPE_BAD_MAGIC] Envelope does not start with the magic bytes "SP"."`,
    )
    expect(message(() => decodeEnvelope(mutate((b) => (b[2] = 2))))).toMatchInlineSnapshot(`
      "EnvelopeUnsupportedVersionError [SEALPOST_ENVELOPE_UNSUPPORTED_VERSION] Envelope version is not supported.

      Version: 2 (supported: 1)"
    `)
    expect(message(() => decodeEnvelope(mutate((b) => (b[3] = 9))))).toMatchInlineSnapshot(`
      "EnvelopeUnknownKindError [SEALPOST_ENVELOPE_UNKNOWN_KIND] Envelope kind is unknown.

      Kind: 9"
    `)
    expect(
      message(() => decodeEnvelope(mutate((b) => new DataView(b.buffer).setUint32(68, 2 ** 21)))),
    ).toMatchInlineSnapshot(`
        "EnvelopeTooLargeError [SEALPOST_ENVELOPE_TOO_LARGE] Envelope payload is too large.

        Payload: 2097152 bytes (limit 1048576)."
      `)
    expect(message(() => decodeEnvelope(Uint8Array.from([...good(), 0])))).toMatchInlineSnapshot(`
      "EnvelopeTrailingBytesError [SEALPOST_ENVELOPE_TRAILING_BYTES] Envelope has trailing bytes.

      Expected exactly 77 bytes, got 78."
    `)
    expect(message(() => decodeEnvelope('SP' as never))).toMatchInlineSnapshot(
      `"EnvelopeNotBytesError [SEALPOST_ENVELOPE_NOT_BYTES] Envelope input is not a Uint8Array."`,
    )
    expect(message(() => decodeEnvelope(mutate((b) => (b[76] = 0))))).toMatchInlineSnapshot(`
      "EnvelopeIdMismatchError [SEALPOST_ENVELOPE_ID_MISMATCH] Envelope id does not match its contents.

      Id:       0x9f24281bf0ed2bea8c2d1010aaf592716def28d9640ea9cd728b2fb0a3af9530
      Computed: 0x1f92a33ff38c46ea559cd2012e47dd75f6e3b9af76c1d7095430e84a8e8f68ab"
    `)
  })

  test('error classes sit in the right categories', () => {
    expect(new EnvelopeTruncatedError({ expected: 1, actual: 0 })).toBeInstanceOf(CodecError)
    expect(new EnvelopeBadMagicError()).toBeInstanceOf(CodecError)
    expect(new EnvelopeUnsupportedVersionError({ version: 0 })).toBeInstanceOf(CodecError)
    expect(new EnvelopeUnknownKindError({ kind: 0 })).toBeInstanceOf(CodecError)
    expect(new EnvelopeTooLargeError({ size: 1, max: 0 })).toBeInstanceOf(CodecError)
    expect(new EnvelopeTrailingBytesError({ expected: 1, actual: 2 })).toBeInstanceOf(CodecError)
    expect(new EnvelopeNotBytesError()).toBeInstanceOf(CodecError)
    expect(new EnvelopeIdMismatchError({ id: '0x', expected: '0x' })).toBeInstanceOf(VerificationError)
  })

  test('encoding refuses bad fields and a stale id', () => {
    expect(() => createEnvelope({ kind: 'nope' as never, topic, payload: new Uint8Array() })).toThrow(
      EnvelopeUnknownKindError,
    )
    expect(() => createEnvelope({ kind: 'commit', topic: '0x11', payload: new Uint8Array() })).toThrow(
      EnvelopeInvalidFieldError,
    )
    const e: Envelope = { ...example(), payload: new TextEncoder().encode('other') }
    expect(() => encodeEnvelope(e)).toThrow(EnvelopeIdMismatchError)
    expect(() => encodeEnvelope({ ...example(), version: 2 as never })).toThrow(
      EnvelopeUnsupportedVersionError,
    )
  })
})
