import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { CodecError } from '../errors.js'
import {
  decodeLogHeadStatement,
  encodeLogHeadStatement,
  LOG_HEAD_STATEMENT_BYTES,
  type LogHeadStatement,
  logHeadLeaf,
} from './logHeadStatement.js'
import { InvalidStatementError, StatementTypeError } from './statement.js'

const file = JSON.parse(
  readFileSync(new URL('../../test/vectors/statement-v2.json', import.meta.url), 'utf8'),
)
const fromHex = (h: string) => new Uint8Array(Buffer.from(h.replace(/^0x/, ''), 'hex'))
const toHex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`
const parse = (input: Record<string, unknown>): LogHeadStatement =>
  ({
    ...input,
    block: {
      number: BigInt((input.block as { number: string }).number),
      hash: (input.block as { hash: string }).hash,
    },
  }) as LogHeadStatement

describe('log-head statement', () => {
  test('frozen vectors: head without prev, head with prev, export', () => {
    for (const v of file.logHeads) {
      const statement = parse(v.input)
      const bytes = encodeLogHeadStatement(statement)
      expect(bytes.length).toBe(LOG_HEAD_STATEMENT_BYTES)
      expect(toHex(bytes)).toBe(v.encoded)
      expect(decodeLogHeadStatement(bytes)).toEqual(statement)
      expect(logHeadLeaf(bytes, v.signature)).toBe(v.leaf)
    }
    expect(file.logHeads.map((v: { encoded: string }) => fromHex(v.encoded)[1])).toEqual([2, 2, 3])
  })

  test('a message statement type, or a prev that is not earlier, is refused', () => {
    const bytes = fromHex(file.logHeads[0].encoded)
    bytes[1] = 1
    expect(() => decodeLogHeadStatement(bytes)).toThrow(StatementTypeError)
    const statement = parse(file.logHeads[1].input)
    expect(() => encodeLogHeadStatement({ ...statement, prev: { index: 63, head: statement.head } })).toThrow(
      InvalidStatementError,
    )
  })

  test('random 202-byte inputs decode and re-encode, or raise a CodecError (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 200, maxLength: 200 }), fc.constantFrom(2, 3), (tail, type) => {
        const bytes = new Uint8Array([2, type, ...tail])
        try {
          expect(encodeLogHeadStatement(decodeLogHeadStatement(bytes))).toEqual(bytes)
        } catch (err) {
          expect(err).toBeInstanceOf(CodecError)
        }
      }),
    )
  })
})
