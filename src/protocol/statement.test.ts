import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { getAddress, type Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { CodecError, ValidationError } from '../errors.js'
import {
  decodeSignedStatement,
  decodeStatement,
  encodeSignedStatement,
  encodeStatement,
  hashBody,
  hashBodyV2,
  InvalidCaip10Error,
  InvalidStatementError,
  parseCaip10,
  SIGNED_STATEMENT_BYTES,
  SIGNED_STATEMENT_V2_BYTES,
  type SignedStatement,
  STATEMENT_BYTES,
  STATEMENT_V2_BYTES,
  type Statement,
  StatementFieldRangeError,
  StatementLengthError,
  StatementTypeError,
  StatementUnsupportedVersionError,
  statementLeaf,
  statementSigningInput,
  toCaip10,
  validateStatement,
} from './statement.js'

const toHex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`
const fromHex = (h: string) => new Uint8Array(Buffer.from(h.replace(/^0x/, ''), 'hex'))
const b32 = (byte: string): Hex => `0x${byte.repeat(32)}`

const example: Statement = {
  chainId: 31337,
  from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  device: b32('a1'),
  conversation: b32('c0'),
  seq: 42n,
  sentAt: 1_700_000_000_000,
  block: { number: 123456n, hash: b32('b7') },
  bodyHash: b32('d4'),
  salt: b32('5a'),
}

const bytes32Arb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex)
const u64Arb = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
const statementArb: fc.Arbitrary<Statement> = fc.record({
  chainId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  from: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(toHex(b))),
  device: bytes32Arb,
  conversation: bytes32Arb,
  seq: u64Arb,
  sentAt: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  block: fc.record({ number: u64Arb, hash: bytes32Arb }),
  bodyHash: bytes32Arb,
  salt: bytes32Arb,
})

function errorText(f: () => unknown): string {
  try {
    f()
  } catch (err) {
    const e = err as CodecError
    return `${e.name} [${e.code}] ${e.message}`
  }
  throw new Error('no error')
}

describe('encoding', () => {
  test('example encoding (frozen)', () => {
    const bytes = encodeStatement(example)
    expect(bytes.length).toBe(STATEMENT_BYTES)
    expect(toHex(bytes)).toMatchInlineSnapshot(
      `"0x010000000000007a69f39fd6e51aad88f6f4ce6ab8827279cfffb92266a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0000000000000002a0000018bcfe56800000000000001e240b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d45a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"`,
    )
  })

  test('frozen vector file test/vectors/statement-v1.json', () => {
    const file = JSON.parse(
      readFileSync(new URL('../../test/vectors/statement-v1.json', import.meta.url), 'utf8'),
    )
    expect(hashBody(new TextEncoder().encode(file.body.text))).toBe(file.body.bodyHash)
    expect(file.vectors.length).toBeGreaterThan(0)
    for (const v of file.vectors) {
      const statement: Statement = {
        ...v.input,
        seq: BigInt(v.input.seq),
        block: { number: BigInt(v.input.block.number), hash: v.input.block.hash },
      }
      expect(toHex(encodeStatement(statement))).toBe(v.encoded)
      expect(decodeStatement(fromHex(v.encoded))).toEqual(statement)
      expect(statementLeaf(fromHex(v.encoded), v.signature)).toBe(v.leaf)
    }
  })

  test('hash and signing-input construction match plan.md', () => {
    const body = new TextEncoder().encode('hello')
    const manualBody = createHash('sha256')
      .update('sealpost/v1/body')
      .update(Uint8Array.of(0))
      .update(body)
      .digest()
    expect(hashBody(body)).toBe(toHex(manualBody))

    const bytes = encodeStatement(example)
    const input = statementSigningInput(bytes)
    expect(new TextDecoder().decode(input.subarray(0, 21))).toBe('sealpost/v1/statement')
    expect(input[21]).toBe(0)
    expect(input.subarray(22)).toEqual(bytes)

    const signature = new Uint8Array(64).fill(7)
    const leaf = createHash('sha256')
      .update('sealpost/v1/leaf')
      .update(Uint8Array.of(0))
      .update(bytes)
      .update(signature)
      .digest()
    expect(statementLeaf(bytes, signature)).toBe(toHex(leaf))
    expect(statementLeaf(bytes, toHex(signature))).toBe(toHex(leaf))
    expect(() => statementLeaf(bytes, new Uint8Array(63))).toThrow(InvalidStatementError)
    expect(() => statementSigningInput(new Uint8Array(212))).toThrow(InvalidStatementError)
  })

  test('decode(encode(s)) == s and encode(decode(b)) == b (fast-check)', () => {
    fc.assert(
      fc.property(statementArb, (s) => {
        const bytes = encodeStatement(s)
        expect(bytes.length).toBe(STATEMENT_BYTES)
        const back = decodeStatement(bytes)
        expect(back).toEqual(s)
        expect(encodeStatement(back)).toEqual(bytes)
      }),
    )
  })

  test('lower-case input comes back checksummed and lower-case hex', () => {
    const s = { ...example, from: example.from.toLowerCase() as Hex, device: b32('AB') }
    const back = decodeStatement(encodeStatement(s))
    expect(back.from).toBe(example.from)
    expect(back.device).toBe(b32('ab'))
  })

  test('random bytes decode or raise a CodecError, nothing else (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.uint8Array({ minLength: STATEMENT_BYTES, maxLength: STATEMENT_BYTES }),
          fc
            .uint8Array({ minLength: STATEMENT_BYTES, maxLength: STATEMENT_BYTES })
            .map((b) => Uint8Array.from([1, ...b.subarray(1)])),
        ),
        (bytes) => {
          try {
            const s = decodeStatement(bytes)
            expect(encodeStatement(s)).toEqual(bytes)
          } catch (err) {
            expect(err).toBeInstanceOf(CodecError)
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('signed statements', () => {
  const signature: Hex = `0x${'5e'.repeat(64)}`
  const signed: SignedStatement = { statement: example, bytes: encodeStatement(example), signature }

  test('round trip, 277 bytes', () => {
    const wire = encodeSignedStatement(signed)
    expect(wire.length).toBe(SIGNED_STATEMENT_BYTES)
    expect(decodeSignedStatement(wire)).toEqual(signed)
  })

  test('statement and bytes must agree when encoding', () => {
    expect(() => encodeSignedStatement({ ...signed, statement: { ...example, seq: 43n } })).toThrow(
      InvalidStatementError,
    )
    expect(() => encodeSignedStatement({ ...signed, signature: '0x1234' })).toThrow(InvalidStatementError)
  })

  test('decoded bytes do not alias the input', () => {
    const wire = encodeSignedStatement(signed)
    const back = decodeSignedStatement(wire)
    wire[10]! ^= 1
    expect(back.bytes).toEqual(signed.bytes)
  })

  test('wrong length', () => {
    expect(errorText(() => decodeSignedStatement(new Uint8Array(276)))).toMatchInlineSnapshot(`
      "StatementLengthError [SEALPOST_STATEMENT_BAD_LENGTH] Signed statement has the wrong length.

      Expected 277 bytes, got 276."
    `)
  })
})

describe('errors', () => {
  test('decode errors', () => {
    expect(errorText(() => decodeStatement(new Uint8Array(212)))).toMatchInlineSnapshot(`
      "StatementLengthError [SEALPOST_STATEMENT_BAD_LENGTH] Statement has the wrong length.

      Expected 213 bytes, got 212."
    `)
    expect(errorText(() => decodeStatement('x' as never))).toMatchInlineSnapshot(`
      "StatementLengthError [SEALPOST_STATEMENT_BAD_LENGTH] Statement has the wrong length.

      Input is not a Uint8Array."
    `)
    const bytes = encodeStatement(example)
    const v7 = bytes.slice()
    v7[0] = 7
    expect(errorText(() => decodeStatement(v7))).toMatchInlineSnapshot(`
      "StatementUnsupportedVersionError [SEALPOST_STATEMENT_UNSUPPORTED_VERSION] Statement version is not supported.

      Version: 7 (supported: 1, 2)"
    `)
    // A version-2 byte in front of a v1 layout reads byte 1 as the type (here 0, from the chain id).
    const v2 = bytes.slice()
    v2[0] = 2
    expect(() => decodeStatement(v2)).toThrow(StatementTypeError)
    const chain0 = bytes.slice()
    chain0.fill(0, 1, 9)
    expect(errorText(() => decodeStatement(chain0))).toMatchInlineSnapshot(`
      "StatementFieldRangeError [SEALPOST_STATEMENT_FIELD_RANGE] Statement field is out of range.

      Field: chainId
      Reason: must be between 1 and 2^53 - 1"
    `)
    const chainHuge = bytes.slice()
    chainHuge[1] = 0x01
    expect(() => decodeStatement(chainHuge)).toThrow(StatementFieldRangeError)
    const sentAtHuge = bytes.slice()
    sentAtHuge[101] = 0xff
    expect(errorText(() => decodeStatement(sentAtHuge))).toMatchInlineSnapshot(`
      "StatementFieldRangeError [SEALPOST_STATEMENT_FIELD_RANGE] Statement field is out of range.

      Field: sentAt
      Reason: must be at most 2^53 - 1"
    `)
    expect(new StatementUnsupportedVersionError({ version: 2 })).toBeInstanceOf(CodecError)
    expect(new StatementLengthError({ expected: 1, actual: 2 })).toBeInstanceOf(CodecError)
  })

  test('validation errors name the field, never the value', () => {
    const cases: [string, Partial<Statement> | Record<string, unknown>][] = [
      ['chainId 0', { chainId: 0 }],
      ['chainId 2^53', { chainId: 2 ** 53 }],
      ['chainId 1.5', { chainId: 1.5 }],
      ['bad checksum', { from: '0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266' }],
      ['short device', { device: '0x1234' }],
      ['seq negative', { seq: -1n }],
      ['seq 2^64', { seq: 2n ** 64n }],
      ['seq number', { seq: 1 }],
      ['sentAt negative', { sentAt: -1 }],
      ['sentAt float', { sentAt: 0.5 }],
      ['block number 2^64', { block: { number: 2n ** 64n, hash: b32('00') } }],
      ['block hash', { block: { number: 1n, hash: '0x' } }],
      ['salt', { salt: `${b32('00')}00` }],
      ['bodyHash', { bodyHash: 'zz' }],
    ]
    for (const [name, patch] of cases)
      expect(() => validateStatement({ ...example, ...patch } as Statement), name).toThrow(
        InvalidStatementError,
      )
    expect(() => validateStatement(example)).not.toThrow()
    expect(errorText(() => encodeStatement({ ...example, seq: -1n }))).toMatchInlineSnapshot(`
      "InvalidStatementError [SEALPOST_INVALID_STATEMENT] Statement field is invalid.

      Field: seq
      Reason: must be a u64 bigint"
    `)
    expect(new InvalidStatementError({ field: 'x', reason: 'y' })).toBeInstanceOf(ValidationError)
  })
})

describe('CAIP-10', () => {
  test('format and parse', () => {
    const id = toCaip10({ chainId: 1, address: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266' })
    expect(id).toMatchInlineSnapshot(`"eip155:1:0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"`)
    expect(parseCaip10(id)).toEqual({ chainId: 1, address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' })
    expect(parseCaip10('eip155:31337:0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266')).toEqual({
      chainId: 31337,
      address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    })
  })

  test('round trip (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        (chainId, raw) => {
          const address = getAddress(toHex(raw))
          expect(parseCaip10(toCaip10({ chainId, address }))).toEqual({ chainId, address })
        },
      ),
    )
  })

  test('rejects bad input', () => {
    const bad = [
      '',
      'eip155:1',
      'eip155:0:0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
      'eip155:01:0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
      'eip155:-1:0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
      'eip155:99999999999999999:0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
      'cosmos:1:0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
      'eip155:1:0xf39fd6e51aad88f6f4ce6ab8827279cfffb9226',
      'eip155:1:0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      ' eip155:1:0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
      'eip155:1:0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\n',
    ]
    for (const s of bad) expect(() => parseCaip10(s), s).toThrow(InvalidCaip10Error)
    expect(() => parseCaip10(42 as never)).toThrow(InvalidCaip10Error)
    expect(() => toCaip10({ chainId: 0, address: example.from })).toThrow(InvalidCaip10Error)
    expect(errorText(() => parseCaip10('eip155:1:nope'))).toMatchInlineSnapshot(`
      "InvalidCaip10Error [SEALPOST_INVALID_CAIP10] CAIP-10 account id is invalid.

      Reason: expected eip155:<chainId>:<0x-address>"
    `)
  })
})

describe('statement v2 (message, type 1)', () => {
  const file = JSON.parse(
    readFileSync(new URL('../../test/vectors/statement-v2.json', import.meta.url), 'utf8'),
  )
  const input = file.message.input
  const v2: Statement = {
    ...input,
    seq: BigInt(input.seq),
    epoch: BigInt(input.epoch),
    block: { number: BigInt(input.block.number), hash: input.block.hash },
  }

  test('frozen vector file test/vectors/statement-v2.json: encoding, body hash, leaf', () => {
    const bytes = encodeStatement(v2)
    expect(bytes.length).toBe(STATEMENT_V2_BYTES)
    expect(toHex(bytes)).toBe(file.message.encoded)
    expect(decodeStatement(bytes)).toEqual(v2)
    expect(hashBodyV2(1, new TextEncoder().encode(file.body.text))).toBe(file.body.bodyHash)
    expect(statementLeaf(bytes, file.message.signature)).toBe(file.message.leaf)
    expect(toHex(statementSigningInput(bytes).subarray(0, 22))).toBe(
      toHex(new Uint8Array([...Buffer.from('sealpost/v2/statement'), 0])),
    )
    const wire = encodeSignedStatement({ statement: v2, bytes, signature: file.message.signature })
    expect(wire.length).toBe(SIGNED_STATEMENT_V2_BYTES)
    expect(decodeSignedStatement(wire).statement).toEqual(v2)
  })

  test('the version byte is 2 and the type byte 1; another type is refused', () => {
    const bytes = encodeStatement(v2)
    expect([bytes[0], bytes[1]]).toEqual([2, 1])
    const other = bytes.slice()
    other[1] = 2
    expect(() => decodeStatement(other)).toThrow(StatementTypeError)
    expect(() => decodeStatement(bytes.subarray(0, 273))).toThrow(StatementLengthError)
  })

  test('v1 and v2 hash and sign under different labels', () => {
    const body = new TextEncoder().encode('x')
    expect(hashBodyV2(1, body)).not.toBe(hashBody(body))
    expect(hashBodyV2(1, body)).not.toBe(hashBodyV2(2, body))
  })

  test('v2 fields are validated', () => {
    expect(() => encodeStatement({ ...v2, epoch: -1n } as Statement)).toThrow(InvalidStatementError)
    expect(() => encodeStatement({ ...v2, registry: '0x12' } as Statement)).toThrow(InvalidStatementError)
    expect(() => encodeStatement({ ...v2, recipientsRoot: '0x12' } as Statement)).toThrow(
      InvalidStatementError,
    )
  })

  test('random 274-byte v2 inputs decode or raise a CodecError (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 272, maxLength: 272 }), (tail) => {
        const bytes = new Uint8Array([2, 1, ...tail])
        try {
          expect(encodeStatement(decodeStatement(bytes))).toEqual(bytes)
        } catch (err) {
          expect(err).toBeInstanceOf(CodecError)
        }
      }),
    )
  })
})
