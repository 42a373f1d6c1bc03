/** Delivery receipt bodies: the statement leaves of the messages a device received, as canonical UTF-8 text. */
import type { Hex } from 'viem'
import { CodecError } from '../errors.js'

/** Most message leaves one delivery receipt lists. @example MAX_RECEIPT_LEAVES // 256 */
export const MAX_RECEIPT_LEAVES = 256

/** The body of a delivery receipt is not canonical. */
export class DeliveryReceiptCodecError extends CodecError {
  override name = 'DeliveryReceiptCodecError' as const
  constructor({ reason }: { reason: string }) {
    super('Delivery receipt body is malformed.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_DELIVERY_RECEIPT_MALFORMED',
    })
  }
}

const LEAF = /^0x[0-9a-f]{64}$/

/**
 * Encodes the leaves (1 to 256, any order, duplicates dropped) as the receipt body: lower-case `0x` hex leaves in
 * ascending order, joined by `\n`, no trailing newline. Text, so the log keeps the exact signed bytes as it does for
 * messages.
 *
 * @example const body = encodeDeliveryReceiptBody([leafA, leafB])
 */
export function encodeDeliveryReceiptBody(leaves: readonly Hex[]): Uint8Array {
  const sorted = [...new Set(leaves.map((l) => l.toLowerCase()))].sort()
  if (sorted.length === 0 || sorted.length > MAX_RECEIPT_LEAVES)
    throw new DeliveryReceiptCodecError({ reason: `1 to ${MAX_RECEIPT_LEAVES} leaves` })
  if (!sorted.every((l) => LEAF.test(l)))
    throw new DeliveryReceiptCodecError({ reason: 'a leaf is not 32 bytes' })
  return new TextEncoder().encode(sorted.join('\n'))
}

/**
 * Decodes a receipt body; anything but the canonical encoding of 1 to 256 distinct leaves is a
 * `DeliveryReceiptCodecError`.
 *
 * @example const leaves = decodeDeliveryReceiptBody(body)
 */
export function decodeDeliveryReceiptBody(body: Uint8Array | string): Hex[] {
  const fail = (reason: string) => new DeliveryReceiptCodecError({ reason })
  let text: string
  try {
    text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    throw fail('not UTF-8')
  }
  const leaves = text.split('\n')
  if (leaves.length > MAX_RECEIPT_LEAVES) throw fail(`more than ${MAX_RECEIPT_LEAVES} leaves`)
  for (let i = 0; i < leaves.length; i++) {
    if (!LEAF.test(leaves[i] as string)) throw fail(`line ${i + 1} is not a lower-case 32-byte hex leaf`)
    if (i > 0 && (leaves[i - 1] as string) >= (leaves[i] as string))
      throw fail('leaves not strictly ascending')
  }
  return leaves as Hex[]
}
