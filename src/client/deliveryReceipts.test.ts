import type { Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { decodeDeliveryReceiptBody, MAX_RECEIPT_LEAVES } from '../protocol/deliveryReceipt.js'
import { DeliveryReceipts } from './deliveryReceipts.js'

const leaf = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
const A = `0x${'aa'.repeat(32)}` as Hex
const B = `0x${'bb'.repeat(32)}` as Hex

describe('DeliveryReceipts', () => {
  test('a burst becomes one receipt per conversation after the delay; more than 256 leaves split', async () => {
    const sent: { conversation: Hex; leaves: Hex[] }[] = []
    const receipts = new DeliveryReceipts(
      async (conversation, text) => {
        sent.push({ conversation, leaves: decodeDeliveryReceiptBody(text) })
      },
      { delayMs: 20, onError: (err) => expect.fail(String(err)) },
    )
    for (let i = 1; i <= 3; i++) receipts.add(A, leaf(i))
    receipts.add(B, leaf(9))
    receipts.add(A, leaf(2)) // a duplicate is confirmed once
    expect(sent).toEqual([])
    await new Promise((r) => setTimeout(r, 60))
    await receipts.flush()
    expect(sent).toEqual([
      { conversation: A, leaves: [leaf(1), leaf(2), leaf(3)] },
      { conversation: B, leaves: [leaf(9)] },
    ])
    sent.length = 0
    for (let i = 1; i <= MAX_RECEIPT_LEAVES + 5; i++) receipts.add(A, leaf(i))
    await receipts.flush()
    expect(sent.map((s) => s.leaves.length)).toEqual([MAX_RECEIPT_LEAVES, 5])
  })

  test('a failed send is reported and dropped; stop() drops what is queued', async () => {
    const errors: unknown[] = []
    let calls = 0
    const receipts = new DeliveryReceipts(
      async () => {
        calls++
        throw new Error('left the group')
      },
      { delayMs: 10_000, onError: (err) => errors.push(err) },
    )
    receipts.add(A, leaf(1))
    await receipts.flush()
    expect(errors).toHaveLength(1)
    receipts.add(A, leaf(2))
    receipts.stop()
    await receipts.flush()
    expect(calls).toBe(1)
  })
})
