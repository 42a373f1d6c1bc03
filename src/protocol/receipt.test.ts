import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import type { Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import { CodecError } from '../errors.js'
import {
  decodeReceipt,
  encodeReceipt,
  RECEIPT_FIXED_BYTES,
  RECEIPT_V1_FIXED_BYTES,
  type Receipt,
  ReceiptFieldError,
  ReceiptTrailingBytesError,
  ReceiptTruncatedError,
  ReceiptUnsupportedVersionError,
  receiptFromJson,
  receiptToJson,
} from './receipt.js'

const h32 = (byte: string): Hex => `0x${byte.repeat(32)}`

const sample: Receipt = {
  chainId: 31337,
  contract: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
  submitter: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  root: h32('11'),
  leaf: h32('22'),
  index: 2,
  treeSize: 5,
  path: [h32('33'), h32('44'), h32('55')],
  txHash: h32('66'),
  blockNumber: 7n,
  blockTimestamp: 1_700_000_000n,
}

const hexOf = (len: number) =>
  fc.uint8Array({ minLength: len, maxLength: len }).map((b) => `0x${Buffer.from(b).toString('hex')}` as Hex)

const arbReceipt: fc.Arbitrary<Receipt> = fc.record({
  chainId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  contract: hexOf(20).map((a) => decodeReceipt(encodeReceipt({ ...sample, contract: a })).contract),
  submitter: fc.option(
    hexOf(20).map((a) => decodeReceipt(encodeReceipt({ ...sample, contract: a })).contract),
    { nil: undefined },
  ),
  root: hexOf(32),
  leaf: hexOf(32),
  index: fc.integer({ min: 0, max: 0xffff_ffff }),
  treeSize: fc.integer({ min: 0, max: 0xffff_ffff }),
  path: fc.array(hexOf(32), { maxLength: 40 }),
  txHash: hexOf(32),
  blockNumber: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  blockTimestamp: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
})

describe('receipt codec', () => {
  it('encodes the documented layout', () => {
    const bytes = encodeReceipt(sample)
    expect(bytes.length).toBe(RECEIPT_FIXED_BYTES + 3 * 32)
    expect(Buffer.from(bytes).toString('hex')).toMatchInlineSnapshot(
      `"020000000000007a69e7f1725e7734ce288f8367e1bb143e90bb3f051270997970c51812dc3a010c7d01b50e0d17dc79c81111111111111111111111111111111111111111111111111111111111111111222222222222222222222222222222222222222222222222222222222222222200000002000000050333333333333333333333333333333333333333333333333333333333333333334444444444444444444444444444444444444444444444444444444444444444555555555555555555555555555555555555555555555555555555555555555566666666666666666666666666666666666666666666666666666666666666660000000000000007000000006553f100"`,
    )
  })

  it('round-trips binary (property)', () => {
    fc.assert(
      fc.property(arbReceipt, (r) => {
        const bytes = encodeReceipt(r)
        expect(decodeReceipt(bytes)).toEqual(r)
        expect(encodeReceipt(decodeReceipt(bytes))).toEqual(bytes)
      }),
    )
  })

  it('round-trips JSON (property), through JSON.stringify too', () => {
    fc.assert(
      fc.property(arbReceipt, (r) => {
        expect(receiptFromJson(receiptToJson(r))).toEqual(r)
        expect(receiptFromJson(JSON.stringify(receiptToJson(r)))).toEqual(r)
      }),
    )
  })

  it('rejects non-numeric decimal strings in JSON with a typed CodecError, not a bare SyntaxError (fuzz finding)', () => {
    const json = receiptToJson(sample)
    for (const bad of ['xx', '1e3', '-1', ' 1', '0x10', '18446744073709551616'])
      for (const field of ['blockNumber', 'blockTimestamp'] as const) {
        const err = catchErr(() => receiptFromJson({ ...json, [field]: bad }))
        expect(err).toBeInstanceOf(CodecError)
      }
  })

  it('rejects truncated, trailing and wrong-version input with typed CodecErrors', () => {
    const bytes = encodeReceipt(sample)
    for (let cut = 0; cut < bytes.length; cut += 7) {
      const err = catchErr(() => decodeReceipt(bytes.subarray(0, cut)))
      expect(err).toBeInstanceOf(CodecError)
      expect((err as CodecError).code).toBe('SEALPOST_RECEIPT_MALFORMED')
    }
    expect(catchErr(() => decodeReceipt(bytes.subarray(0, 100)))).toBeInstanceOf(ReceiptTruncatedError)
    expect(catchErr(() => decodeReceipt(Uint8Array.of(...bytes, 0)))).toBeInstanceOf(
      ReceiptTrailingBytesError,
    )
    const v3 = Uint8Array.from(bytes)
    v3[0] = 3
    expect(catchErr(() => decodeReceipt(v3))).toBeInstanceOf(ReceiptUnsupportedVersionError)
    const chain0 = Uint8Array.from(bytes)
    chain0.fill(0, 1, 9)
    expect(catchErr(() => decodeReceipt(chain0))).toBeInstanceOf(ReceiptFieldError)
  })

  it('writes v2 with a submitter and v1 without one; each decodes back to its own shape', () => {
    const { submitter: _, ...v1 } = sample
    const b1 = encodeReceipt(v1)
    expect(b1[0]).toBe(1)
    expect(b1.length).toBe(RECEIPT_V1_FIXED_BYTES + 3 * 32)
    expect(decodeReceipt(b1)).toEqual(v1)
    expect('submitter' in decodeReceipt(b1)).toBe(false)
    expect(receiptToJson(v1).version).toBe(1)
    const b2 = encodeReceipt(sample)
    expect(b2[0]).toBe(2)
    expect(decodeReceipt(b2).submitter).toBe(sample.submitter)
    expect(receiptToJson(sample)).toMatchObject({ version: 2, submitter: sample.submitter })
    // The JSON version fixes the shape: v2 without submitter and v1 with one are refused.
    const { submitter: __, ...noSubmitter } = receiptToJson(sample)
    expect(catchErr(() => receiptFromJson(noSubmitter))).toBeInstanceOf(ReceiptFieldError)
    expect(
      catchErr(() => receiptFromJson({ ...receiptToJson(v1), submitter: sample.submitter })),
    ).toBeInstanceOf(ReceiptFieldError)
  })

  it('decodes arbitrary bytes without throwing anything but CodecError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        try {
          decodeReceipt(b)
        } catch (err) {
          expect(err).toBeInstanceOf(CodecError)
        }
      }),
    )
  })

  it('refuses to encode or parse bad fields', () => {
    expect(catchErr(() => encodeReceipt({ ...sample, root: '0x12' }))).toBeInstanceOf(ReceiptFieldError)
    expect(catchErr(() => encodeReceipt({ ...sample, index: -1 }))).toBeInstanceOf(ReceiptFieldError)
    expect(catchErr(() => encodeReceipt({ ...sample, blockNumber: 1n << 64n }))).toBeInstanceOf(
      ReceiptFieldError,
    )
    const json = receiptToJson(sample)
    const err = catchErr(() => receiptFromJson({ ...json, blockNumber: '-1' })) as ReceiptFieldError
    expect(err).toBeInstanceOf(ReceiptFieldError)
    expect(err.field).toBe('blockNumber')
    expect(catchErr(() => receiptFromJson({ ...json, extra: 1 }))).toBeInstanceOf(ReceiptFieldError)
    expect(catchErr(() => receiptFromJson('{'))).toBeInstanceOf(ReceiptFieldError)
    expect(json).toMatchInlineSnapshot(`
      {
        "blockNumber": "7",
        "blockTimestamp": "1700000000",
        "chainId": 31337,
        "contract": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
        "index": 2,
        "leaf": "0x2222222222222222222222222222222222222222222222222222222222222222",
        "path": [
          "0x3333333333333333333333333333333333333333333333333333333333333333",
          "0x4444444444444444444444444444444444444444444444444444444444444444",
          "0x5555555555555555555555555555555555555555555555555555555555555555",
        ],
        "root": "0x1111111111111111111111111111111111111111111111111111111111111111",
        "submitter": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "treeSize": 5,
        "txHash": "0x6666666666666666666666666666666666666666666666666666666666666666",
        "version": 2,
      }
    `)
  })
})

function catchErr(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

describe.each([
  ['receipt-v1.json', RECEIPT_V1_FIXED_BYTES],
  ['receipt-v2.json', RECEIPT_FIXED_BYTES],
])('frozen vector file test/vectors/%s', (name, fixedBytes) => {
  const file = JSON.parse(readFileSync(new URL(`../../test/vectors/${name}`, import.meta.url), 'utf8')) as {
    vectors: { json: unknown; encoded: Hex }[]
  }
  const bytesOf = (h: Hex) => new Uint8Array(Buffer.from(h.slice(2), 'hex'))
  const hexOf = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

  it('holds vectors with an empty, a short and a long path', () => {
    expect(file.vectors.map((v) => (bytesOf(v.encoded).length - fixedBytes) / 32)).toEqual([3, 0, 32])
  })

  it.each(file.vectors.map((v, i) => [i, v] as const))(
    'vector %i decodes and encodes byte for byte',
    (_i, v) => {
      const fromJson = receiptFromJson(v.json)
      expect(hexOf(encodeReceipt(fromJson))).toBe(v.encoded)
      const decoded = decodeReceipt(bytesOf(v.encoded))
      expect(decoded).toEqual(fromJson)
      expect(receiptToJson(decoded)).toEqual(v.json)
    },
  )
})
