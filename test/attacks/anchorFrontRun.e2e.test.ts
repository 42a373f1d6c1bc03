// Issue 9, attack 4: front-running the anchor through a wrapper contract must neither block nor spoil a batch.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, decodeFunctionData, type Hex, parseGwei } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messageAnchorAbi } from '../../contracts/artifacts/MessageAnchor.js'
import { Anchorer } from '../../src/anchor/Anchorer.js'
import { getAnchor } from '../../src/chain/messageAnchor.js'
import { verifyReceipt } from '../../src/client/verifyReceipt.js'
import { buildMerkleTree, inclusionProof, merkleRoot } from '../../src/protocol/merkle.js'
import type { Receipt } from '../../src/protocol/receipt.js'
import { type ChainContext, setupChain } from '../utils/anvil.js'
import { compileTestContracts, deployTestContract, type TestContract } from '../utils/testContracts.js'

let ctx: ChainContext
let dir: string
let wrapper: Address
let lookAlike: Address
let contracts: Record<string, TestContract>

beforeAll(async () => {
  ctx = await setupChain()
  dir = mkdtempSync(join(tmpdir(), 'sealpost-attack4-'))
  contracts = compileTestContracts('AnchorWrapper.sol')
  wrapper = await deployTestContract(ctx.walletClient, ctx.publicClient, contracts.AnchorWrapper!)
  lookAlike = await deployTestContract(ctx.walletClient, ctx.publicClient, contracts.AnchorLookAlike!)
})
afterAll(async () => {
  await ctx?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const rand32 = (): Hex => `0x${randomBytes(32).toString('hex')}`
const rpc = (method: string, params: unknown[] = []) =>
  ctx.publicClient.request({ method, params } as never) as Promise<unknown>
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms))

type PoolTx = { hash: Hex; from: Address; to: Address; input: Hex }

/** Pending transactions in anvil's mempool (what a front-runner watches). */
async function mempool(): Promise<PoolTx[]> {
  const pool = (await rpc('txpool_content')) as { pending: Record<string, Record<string, PoolTx>> }
  return Object.values(pool.pending).flatMap((byNonce) => Object.values(byNonce))
}

async function waitForPool(pred: (txs: PoolTx[]) => boolean): Promise<PoolTx[]> {
  const end = Date.now() + 15_000
  for (;;) {
    const txs = await mempool()
    if (pred(txs)) return txs
    if (Date.now() > end) throw new Error('timed out waiting for the mempool')
    await sleep(20)
  }
}

const verify = (receipt: Receipt) =>
  verifyReceipt(ctx.publicClient, {
    receipt,
    messageAnchor: ctx.contracts.messageAnchor,
    chainId: ctx.anvil.chainId,
  })

describe('attack 4: front-running the anchor', () => {
  it.each([
    ['the same leaf count', 3],
    ['another leaf count', 99],
  ])(
    'a wrapper contract front-runs the batch root with %s and a higher tip: the batch still anchors and every receipt verifies',
    async (_label, frontLeafCount) => {
      const anchorerWallet = ctx.walletClients[5]!
      const attacker = ctx.walletClients[7]!
      const delivered: Receipt[] = []
      const errors: unknown[] = []
      const anchorer = new Anchorer({
        walletClient: anchorerWallet,
        publicClient: ctx.publicClient,
        contract: ctx.contracts.messageAnchor,
        db: { path: join(dir, `anchor-${frontLeafCount}.db`) },
        batchSize: 3,
        batchIntervalMs: 60_000,
        pollingIntervalMs: 50,
        retry: { initialMs: 50, maxMs: 300 },
        onReceipt: (receipt) => {
          delivered.push(receipt)
        },
      })
      anchorer.on('error', ({ error }) => errors.push(error))
      const leaves = Array.from({ length: 3 }, rand32)
      await rpc('evm_setAutomine', [false])
      try {
        anchorer.start()
        for (const leaf of leaves) anchorer.submit({ leaf, topic: rand32(), submitter: rand32() })
        const flushed = anchorer.flush()

        // The attacker sees the anchorer's pending transaction and copies its root.
        const [victim] = await waitForPool((txs) =>
          txs.some((t) => t.to.toLowerCase() === ctx.contracts.messageAnchor.toLowerCase()),
        )
        const { args } = decodeFunctionData({ abi: messageAnchorAbi, data: victim!.input })
        const root = args[0] as Hex
        expect(root).toBe(merkleRoot(leaves))
        const front = await attacker.writeContract({
          address: wrapper,
          abi: contracts.AnchorWrapper!.abi,
          functionName: 'relay',
          args: [ctx.contracts.messageAnchor, root, BigInt(frontLeafCount)],
          gas: 200_000n,
          maxPriorityFeePerGas: parseGwei('50'),
          maxFeePerGas: parseGwei('200'),
        })
        await waitForPool((txs) => txs.length >= 2)
        await rpc('evm_mine')
        await rpc('evm_setAutomine', [true])

        // Both landed in one block, the front-runner first.
        const frontTx = await ctx.publicClient.getTransactionReceipt({ hash: front })
        const victimTx = await ctx.publicClient.getTransactionReceipt({ hash: victim!.hash })
        expect(frontTx.status).toBe('success')
        expect(frontTx.blockNumber).toBe(victimTx.blockNumber)
        expect(frontTx.transactionIndex).toBeLessThan(victimTx.transactionIndex)
        expect(victimTx.status).toBe('success') // not blocked

        await flushed
        expect(errors).toEqual([])
        expect(delivered.map((r) => r.leaf)).toEqual(leaves)
        for (const receipt of delivered) {
          expect(receipt).toMatchObject({
            root,
            treeSize: 3, // not spoiled: no filler leaf, no re-batch
            txHash: victim!.hash,
            submitter: anchorerWallet.account.address,
          })
          const result = await verify(receipt)
          expect(result.ok, result.error?.message).toBe(true)
        }
        // The front-runner's anchor exists too, under the wrapper's own name.
        expect(
          await getAnchor(ctx.publicClient, {
            contract: ctx.contracts.messageAnchor,
            submitter: wrapper,
            root,
          }),
        ).toMatchObject({ leafCount: frontLeafCount, blockNumber: frontTx.blockNumber })
      } finally {
        await rpc('evm_setAutomine', [true])
        await anchorer.stop()
      }
    },
  )

  it('a receipt built from an anchor made through the wrapper verifies (tx.to is not MessageAnchor)', async () => {
    const leaves = Array.from({ length: 5 }, rand32)
    const tree = buildMerkleTree(leaves)
    const hash = await ctx.walletClients[7]!.writeContract({
      address: wrapper,
      abi: contracts.AnchorWrapper!.abi,
      functionName: 'relay',
      args: [ctx.contracts.messageAnchor, tree.root, 5n],
    })
    const tx = await ctx.publicClient.waitForTransactionReceipt({ hash })
    expect(tx.to?.toLowerCase()).toBe(wrapper.toLowerCase())
    const block = await ctx.publicClient.getBlock({ blockNumber: tx.blockNumber })
    const receipt: Receipt = {
      chainId: ctx.anvil.chainId,
      contract: ctx.contracts.messageAnchor,
      submitter: wrapper,
      root: tree.root,
      leaf: leaves[3]!,
      index: 3,
      treeSize: 5,
      path: inclusionProof(tree, 3),
      txHash: hash,
      blockNumber: tx.blockNumber,
      blockTimestamp: block.timestamp,
    }
    const result = await verify(receipt)
    expect(result.ok, result.error?.message).toBe(true)
    expect(result.steps.find((s) => s.name === 'event')?.detail).toContain(hash)
  })

  it('a look-alike contract emitting an identical Anchored event does not make a receipt verify', async () => {
    const honest = ctx.walletClients[3]!
    const forger = ctx.walletClients[8]!
    const leaves = Array.from({ length: 2 }, rand32)
    const tree = buildMerkleTree(leaves)
    // Same block: the honest anchor through MessageAnchor, and the look-alike's copy of its event.
    await rpc('evm_setAutomine', [false])
    let realHash: Hex
    let fakeHash: Hex
    let fakeOnlyHash: Hex
    const fakeOnlyLeaf = rand32()
    const fakeOnlyTree = buildMerkleTree([fakeOnlyLeaf])
    try {
      realHash = await honest.writeContract({
        address: ctx.contracts.messageAnchor,
        abi: messageAnchorAbi,
        functionName: 'anchor',
        args: [tree.root, 2n, '0x'],
        gas: 200_000n,
      })
      const fake = (root: Hex, submitter: Address) =>
        forger.writeContract({
          address: lookAlike,
          abi: contracts.AnchorLookAlike!.abi,
          functionName: 'fake',
          args: [root, submitter, 2n],
          gas: 200_000n,
        })
      fakeHash = await fake(tree.root, honest.account.address)
      // A root nobody anchored in MessageAnchor: only the look-alike "anchors" it, under the forger's name.
      fakeOnlyHash = await fake(fakeOnlyTree.root, forger.account.address)
      await waitForPool((txs) => txs.length >= 3)
      await rpc('evm_mine')
    } finally {
      await rpc('evm_setAutomine', [true])
    }
    const real = await ctx.publicClient.getTransactionReceipt({ hash: realHash })
    const fakeTx = await ctx.publicClient.getTransactionReceipt({ hash: fakeHash })
    expect(fakeTx.blockNumber).toBe(real.blockNumber)
    expect(fakeTx.logs).toHaveLength(1) // an event with MessageAnchor's exact signature and topics
    expect(fakeTx.logs[0]!.topics).toEqual(real.logs[0]!.topics)
    const block = await ctx.publicClient.getBlock({ blockNumber: real.blockNumber })
    const base = {
      chainId: ctx.anvil.chainId,
      contract: ctx.contracts.messageAnchor,
      leaf: leaves[0]!,
      index: 0,
      treeSize: 2,
      blockNumber: real.blockNumber,
      blockTimestamp: block.timestamp,
    }
    const honestReceipt: Receipt = {
      ...base,
      submitter: honest.account.address,
      root: tree.root,
      path: inclusionProof(tree, 0),
      txHash: realHash,
    }
    expect((await verify(honestReceipt)).ok).toBe(true)

    // Naming the look-alike's transaction: MessageAnchor's own event is in another transaction.
    const namingFake = await verify({ ...honestReceipt, txHash: fakeHash })
    expect(namingFake.ok).toBe(false)
    expect(namingFake.error?.step).toBe('event')
    expect(namingFake.error?.code).toBe('SEALPOST_RECEIPT_INVALID')

    // A root only the look-alike "anchored": MessageAnchor has no such anchor.
    const fakeOnly = await verify({
      ...base,
      submitter: forger.account.address,
      root: fakeOnlyTree.root,
      leaf: fakeOnlyLeaf,
      treeSize: 1,
      path: [],
      txHash: fakeOnlyHash,
    })
    expect(fakeOnly.ok).toBe(false)
    expect(fakeOnly.error?.step).toBe('anchored')
    // v1 receipts take the submitter from the event: the look-alike's event is not MessageAnchor's.
    const { submitter: _, ...v1 } = {
      ...base,
      submitter: forger.account.address,
      root: fakeOnlyTree.root,
      leaf: fakeOnlyLeaf,
      treeSize: 1,
      path: [],
      txHash: fakeOnlyHash,
    }
    expect((await verify(v1)).error?.step).toBe('anchored')
  })
})
