import type { Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import { decodeEnvelope, type Envelope, encodeEnvelope } from '../protocol/envelope.js'
import { decodeReceipt, type Receipt } from '../protocol/receipt.js'
import { publishReceipts, receiptEnvelope } from './publishReceipts.js'

const h32 = (byte: string): Hex => `0x${byte.repeat(32)}`
const receipt: Receipt = {
  chainId: 31337,
  contract: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
  root: h32('11'),
  leaf: h32('22'),
  index: 0,
  treeSize: 1,
  path: [],
  txHash: h32('66'),
  blockNumber: 7n,
  blockTimestamp: 1_700_000_000n,
}
const topic = h32('aa')

describe('publishReceipts', () => {
  it('wraps a receipt in a receipt envelope on its topic', () => {
    const envelope = decodeEnvelope(encodeEnvelope(receiptEnvelope(receipt, topic)))
    expect(envelope).toMatchObject({ kind: 'receipt', topic })
    expect(decodeReceipt(envelope.payload)).toEqual(receipt)
  })

  it('publishes each receipt through the relay known at delivery time, and passes its refusal on', async () => {
    const published: Envelope[] = []
    let relay: { publishSystem(e: Envelope): Promise<bigint> } | undefined
    const onReceipt = publishReceipts(() => relay)
    relay = {
      publishSystem: async (e) => {
        published.push(e)
        return 1n
      },
    }
    await onReceipt(receipt, topic)
    expect(published.map((e) => [e.kind, e.topic, decodeReceipt(e.payload).leaf])).toEqual([
      ['receipt', topic, receipt.leaf],
    ])
    relay = { publishSystem: () => Promise.reject(new Error('stopped')) }
    await expect(onReceipt(receipt, topic)).rejects.toThrow('stopped')
  })
})
