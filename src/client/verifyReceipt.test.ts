import { randomBytes } from 'node:crypto'
import { createPublicClient, type Hex, http } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'
import { RpcUnreachableError } from '../chain/errors.js'
import { anchorRoot } from '../chain/messageAnchor.js'
import { buildMerkleTree, inclusionProof } from '../protocol/merkle.js'
import type { Receipt } from '../protocol/receipt.js'
import { ReceiptVerificationError, type ReceiptVerificationStepName, verifyReceipt } from './verifyReceipt.js'

let ctx: ChainContext
beforeAll(async () => {
  ctx = await setupChain()
})
afterAll(() => ctx?.stop())

const rand32 = (): Hex => `0x${randomBytes(32).toString('hex')}`
const flip = (h: Hex): Hex => `${h.slice(0, -1)}${h.endsWith('0') ? '1' : '0'}` as Hex

/** Anchors a fresh batch of `n` random leaves and returns the receipt of leaf `index`. */
async function anchoredReceipt(
  n: number,
  index: number,
  wallet = ctx.walletClient,
  leafCount = n,
): Promise<Receipt> {
  const leaves = Array.from({ length: n }, rand32)
  const tree = buildMerkleTree(leaves)
  const { hash, blockNumber } = await anchorRoot(wallet, {
    contract: ctx.contracts.messageAnchor,
    root: tree.root,
    leafCount,
  })
  const block = await ctx.publicClient.getBlock({ blockNumber })
  return {
    chainId: ctx.anvil.chain.id,
    contract: ctx.contracts.messageAnchor,
    submitter: wallet.account.address,
    root: tree.root,
    leaf: leaves[index]!,
    index,
    treeSize: n,
    path: inclusionProof(tree, index),
    txHash: hash,
    blockNumber,
    blockTimestamp: block.timestamp,
  }
}

const verify = (receipt: Receipt, extra: { minConfirmations?: number } = {}) =>
  verifyReceipt(ctx.publicClient, {
    receipt,
    messageAnchor: ctx.contracts.messageAnchor,
    chainId: ctx.anvil.chain.id,
    ...extra,
  })

async function expectFailAt(receipt: Receipt, step: ReceiptVerificationStepName) {
  const result = await verify(receipt)
  expect(result.ok).toBe(false)
  expect(result.error).toBeInstanceOf(ReceiptVerificationError)
  expect(result.error?.code).toBe('SEALPOST_RECEIPT_INVALID')
  expect(result.error?.step).toBe(step)
  expect(result.steps.at(-1)).toMatchObject({ name: step, ok: false })
  expect(result.steps.slice(0, -1).every((s) => s.ok)).toBe(true)
  return result
}

describe('verifyReceipt', () => {
  it('verifies a real receipt, step by step', async () => {
    const receipt = await anchoredReceipt(5, 2)
    const result = await verify(receipt)
    expect(result.ok).toBe(true)
    expect(result.error).toBeUndefined()
    expect(result.confirmations).toBe(1n)
    expect(result.steps.map((s) => [s.name, s.ok])).toEqual([
      ['chain', true],
      ['inclusion', true],
      ['anchored', true],
      ['block', true],
      ['event', true],
      ['confirmations', true],
    ])
    // every leaf of a 1-leaf batch too (empty path)
    expect((await verify(await anchoredReceipt(1, 0))).ok).toBe(true)
  })

  it('fails each forged field at the right step', async () => {
    const r = await anchoredReceipt(5, 2)
    const other = await anchoredReceipt(3, 0) // another real anchoring transaction, in another block
    const cases: [string, Receipt, ReceiptVerificationStepName][] = [
      ['leaf', { ...r, leaf: flip(r.leaf) }, 'inclusion'],
      ['index', { ...r, index: 3 }, 'inclusion'],
      ['index out of range', { ...r, index: 5 }, 'inclusion'],
      ['path element', { ...r, path: r.path.map((p, i) => (i === 1 ? flip(p) : p)) }, 'inclusion'],
      ['path too short', { ...r, path: r.path.slice(0, -1) }, 'inclusion'],
      ['root', { ...r, root: flip(r.root) }, 'inclusion'],
      // RFC 9162 proofs do not always bind the size (index 2 of 5 and of 6 share a path shape): the
      // anchored leafCount does.
      ['treeSize (same path shape)', { ...r, treeSize: 6 }, 'anchored'],
      ['treeSize (other path shape)', { ...r, treeSize: 4 }, 'inclusion'],
      ['txHash (unknown)', { ...r, txHash: rand32() }, 'event'],
      ['txHash (another anchor)', { ...r, txHash: other.txHash }, 'event'],
      ['submitter', { ...r, submitter: ctx.walletClients[4]!.account.address }, 'anchored'],
      ['blockNumber', { ...r, blockNumber: r.blockNumber - 1n }, 'block'],
      ['blockTimestamp', { ...r, blockTimestamp: r.blockTimestamp + 1n }, 'block'],
      ['contract', { ...r, contract: ctx.contracts.keyRegistry }, 'chain'],
      ['chainId', { ...r, chainId: 1 }, 'chain'],
      ['malformed root', { ...r, root: '0x1234' }, 'inclusion'],
      ['malformed txHash', { ...r, txHash: '0x12' }, 'event'],
      ['malformed submitter', { ...r, submitter: '0x12' }, 'anchored'],
    ]
    for (const [, receipt, step] of cases) await expectFailAt(receipt, step)
    const unknownTx = await verify({ ...r, txHash: rand32() })
    expect(unknownTx.steps.at(-1)?.detail).toMatch(/not found; root .* is anchored in block/)
  })

  it('fails at "anchored" for a root never anchored or anchored with another leaf count', async () => {
    const r = await anchoredReceipt(5, 2)
    const leaves = Array.from({ length: 4 }, rand32)
    const tree = buildMerkleTree(leaves)
    await expectFailAt(
      { ...r, leaf: leaves[1]!, index: 1, root: tree.root, treeSize: 4, path: inclusionProof(tree, 1) },
      'anchored',
    )
    const lying = await anchoredReceipt(5, 1, ctx.walletClients[3], 7)
    const result = await expectFailAt(lying, 'anchored')
    expect(result.error?.details).toBe('')
    expect(result.error?.metaMessages).toContain('Reason: root anchored with 7 leaves, receipt claims 5')
  })

  it('counts confirmations and enforces minConfirmations', async () => {
    const r = await anchoredReceipt(2, 1)
    const shallow = await verify(r, { minConfirmations: 3 })
    expect(shallow.ok).toBe(false)
    expect(shallow.error?.step).toBe('confirmations')
    expect(shallow.confirmations).toBe(1n)
    await ctx.mine(2)
    const deep = await verify(r, { minConfirmations: 3 })
    expect(deep.ok).toBe(true)
    expect(deep.confirmations).toBe(3n)
  })

  it('after a reorg: the old receipt fails; a replaced transaction in the same block is reported', async () => {
    const snap = await ctx.snapshot()
    const r = await anchoredReceipt(4, 3)
    expect((await verify(r)).ok).toBe(true)
    await ctx.revert(snap)
    await expectFailAt(r, 'anchored')
    // The same root, anchored again by the same account in a block with the same number and timestamp (another
    // meta, so another transaction).
    await ctx.publicClient.request({
      method: 'evm_setNextBlockTimestamp',
      params: [`0x${r.blockTimestamp.toString(16)}`],
    } as never)
    const again = await anchorRoot(ctx.walletClient, {
      contract: ctx.contracts.messageAnchor,
      root: r.root,
      leafCount: r.treeSize,
      meta: '0x01',
    })
    expect(again.blockNumber).toBe(r.blockNumber)
    const replaced = await expectFailAt(r, 'event')
    expect(replaced.steps.at(-1)?.detail).toMatch(/replaced after a reorg/)
    expect((await verify({ ...r, txHash: again.hash })).ok).toBe(true)
  })

  it('still verifies a v1 receipt (no submitter): the submitter is read from the event of its transaction', async () => {
    const { submitter: _, ...v1 } = await anchoredReceipt(3, 1, ctx.walletClients[5])
    expect((await verify(v1)).ok).toBe(true)
    const other = await anchoredReceipt(2, 0)
    const wrongTx = await expectFailAt({ ...v1, txHash: other.txHash }, 'anchored')
    expect(wrongTx.steps.at(-1)?.detail).toMatch(/v1 receipt: MessageAnchor emitted no Anchored/)
  })

  it('throws RpcUnreachableError when the chain cannot be reached, never for a bad receipt', async () => {
    const r = await anchoredReceipt(1, 0)
    const dead = createPublicClient({ transport: http('http://127.0.0.1:9', { retryCount: 0 }) })
    await expect(
      verifyReceipt(dead, { receipt: r, messageAnchor: ctx.contracts.messageAnchor, chainId: 31337 }),
    ).rejects.toBeInstanceOf(RpcUnreachableError)
  })
})
