import fc from 'fast-check'
import { bytesToHex, type Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import {
  DeliveryReceiptCodecError,
  decodeDeliveryReceiptBody,
  encodeDeliveryReceiptBody,
  MAX_RECEIPT_LEAVES,
} from './deliveryReceipt.js'

const leaf = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex

describe('delivery receipt body', () => {
  test('canonical: sorted, deduplicated, lower case, joined by newlines', () => {
    const body = encodeDeliveryReceiptBody([leaf(2), leaf(1), leaf(2)])
    expect(new TextDecoder().decode(body)).toBe(`${leaf(1)}\n${leaf(2)}`)
    expect(decodeDeliveryReceiptBody(body)).toEqual([leaf(1), leaf(2)])
  })

  test('refuses empty, oversized, unsorted, upper-case, trailing newline and non-UTF-8 bodies', () => {
    const bad: (Uint8Array | string)[] = [
      '',
      `${leaf(2)}\n${leaf(1)}`,
      `${leaf(1)}\n${leaf(1)}`,
      leaf(10).toUpperCase().replace('0X', '0x'),
      `${leaf(1)}\n`,
      new Uint8Array([0xff]),
      Array.from({ length: MAX_RECEIPT_LEAVES + 1 }, (_, i) => leaf(i + 1)).join('\n'),
    ]
    for (const b of bad) expect(() => decodeDeliveryReceiptBody(b)).toThrow(DeliveryReceiptCodecError)
    expect(() => encodeDeliveryReceiptBody([])).toThrow(DeliveryReceiptCodecError)
  })

  test('property: any set of leaves round-trips; random text decodes canonically or fails typed', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 40 }),
        (raw) => {
          const leaves = raw.map((r) => bytesToHex(r))
          expect(decodeDeliveryReceiptBody(encodeDeliveryReceiptBody(leaves))).toEqual(
            [...new Set(leaves)].sort(),
          )
        },
      ),
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          expect(encodeDeliveryReceiptBody(decodeDeliveryReceiptBody(bytes))).toEqual(bytes)
        } catch (err) {
          expect(err).toBeInstanceOf(DeliveryReceiptCodecError)
        }
      }),
    )
  })
})
