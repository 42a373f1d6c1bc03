import type { Hex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { merkleRoot, rootFromInclusionProof } from '../protocol/merkle.js'
import { SqliteAnchorStore } from '../store/anchorStore.js'
import { batchReceipts, batchTree, closeBatch } from './batchTree.js'

const h32 = (i: number): Hex => `0x${i.toString(16).padStart(64, '0')}`
const topic = h32(0xaaaa)
const stores: SqliteAnchorStore[] = []
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
})

describe('batchTree', () => {
  it('is the RFC 6962 tree of the leaves, with the salt as one extra last leaf', () => {
    const leaves = [h32(1), h32(2), h32(3)]
    expect(batchTree(leaves).root).toBe(merkleRoot(leaves))
    expect(batchTree(leaves, h32(9))).toMatchObject({ size: 4, root: merkleRoot([...leaves, h32(9)]) })
  })
})

describe('closeBatch', () => {
  it('closes the oldest batchSize pending leaves under their root', () => {
    const store = SqliteAnchorStore.open({ path: ':memory:' })
    stores.push(store)
    expect(closeBatch(store, { batchSize: 2, now: 1 })).toBeUndefined()
    for (const i of [1, 2, 3]) store.addLeaf({ leaf: h32(i), topic, submitter: '0x01', at: i })
    const id = closeBatch(store, { batchSize: 2, now: 5 })
    expect(store.openBatch()).toMatchObject({ id, root: merkleRoot([h32(1), h32(2)]), leafCount: 2 })
    expect(store.pendingHead()).toMatchObject({ count: 1, firstSeq: 3 })
  })
})

describe('batchReceipts', () => {
  it('gives every leaf (not the salt) a receipt whose proof leads to the root', () => {
    const leaves = [h32(1), h32(2), h32(3)].map((leaf) => ({ leaf, topic }))
    const tree = batchTree(
      leaves.map((l) => l.leaf),
      h32(9),
    )
    const anchor = { txHash: h32(0x55), blockNumber: 7n, blockTimestamp: 1_700_000_000n }
    const contract = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512'
    const submitter = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
    const receipts = batchReceipts({ tree, leaves, chainId: 31337, contract, submitter, ...anchor })
    expect(receipts.map((r) => [r.leaf, r.topic, r.receipt.index, r.receipt.treeSize])).toEqual(
      leaves.map((l, i) => [l.leaf, topic, i, 4]),
    )
    for (const { receipt } of receipts) {
      expect(receipt).toMatchObject({ chainId: 31337, contract, submitter, root: tree.root, ...anchor })
      expect(rootFromInclusionProof(receipt)).toBe(tree.root)
    }
  })
})
