import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import type { Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import { CodecError } from '../errors.js'
import {
  decodeReceipt,
  encodeReceipt,
  RECEIPT_FIXED_BYTES,
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
      `"010000000000007a69e7f1725e7734ce288f8367e1bb143e90bb3f05121111111111111111111111111111111111111111111111111111111111111111222222222222222222222222222222222222222222222222222222222222222200000002000000050333333333333333333333333333333333333333333333333333333333333333334444444444444444444444444444444444444444444444444444444444444444555555555555555555555555555555555555555555555555555555555555555566666666666666666666666666666666666666666666666666666666666666660000000000000007000000006553f100"`,
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
    const v2 = Uint8Array.from(bytes)
    v2[0] = 2
    expect(catchErr(() => decodeReceipt(v2))).toBeInstanceOf(ReceiptUnsupportedVersionError)
    const chain0 = Uint8Array.from(bytes)
    chain0.fill(0, 1, 9)
    expect(catchErr(() => decodeReceipt(chain0))).toBeInstanceOf(ReceiptFieldError)
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
        "treeSize": 5,
        "txHash": "0x6666666666666666666666666666666666666666666666666666666666666666",
        "version": 1,
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

describe('frozen vector file test/vectors/receipt-v1.json', () => {
  const file = JSON.parse(
    readFileSync(new URL('../../test/vectors/receipt-v1.json', import.meta.url), 'utf8'),
  ) as {
    vectors: { json: unknown; encoded: Hex }[]
  }
  const bytesOf = (h: Hex) => new Uint8Array(Buffer.from(h.slice(2), 'hex'))
  const hexOf = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

  it('holds vectors with an empty, a short and a long path', () => {
    expect(file.vectors.map((v) => (bytesOf(v.encoded).length - RECEIPT_FIXED_BYTES) / 32)).toEqual([
      3, 0, 32,
    ])
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
