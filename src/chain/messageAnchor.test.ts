import { bytesToHex, decodeEventLog, type Hex, pad } from 'viem'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { messageAnchorAbi } from '../../contracts/artifacts/MessageAnchor.js'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'
import { buildMerkleTree, inclusionProof } from '../protocol/merkle.js'
import { ContractRevertError } from './errors.js'
import {
  anchorRoot,
  computeRootOnChain,
  decodeAnchoredLogs,
  findAnchoredEvents,
  findAnchorTransaction,
  getAnchor,
  messageAnchorActions,
  verifyInclusionOnChain,
} from './messageAnchor.js'

let ctx: ChainContext
let contract: Hex
let snap: Hex

const randomLeaf = (): Hex => bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
const leaves = (n: number) => Array.from({ length: n }, randomLeaf)

async function expectRevert(p: Promise<unknown>, code: string, errorName: string, args?: unknown[]) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ContractRevertError)
  expect((err as ContractRevertError).code).toBe(code)
  expect((err as ContractRevertError).errorName).toBe(errorName)
  if (args) expect((err as ContractRevertError).args).toEqual(args)
}

beforeAll(async () => {
  ctx = await setupChain()
  contract = ctx.contracts.messageAnchor
})
afterAll(() => ctx.stop())
beforeEach(async () => {
  snap = await ctx.snapshot()
})
afterEach(() => ctx.revert(snap))

describe('anchor', () => {
  it('stores block, timestamp and leafCount under the submitter and emits Anchored (1000-leaf batch)', async () => {
    const tree = buildMerkleTree(leaves(1000))
    const meta: Hex = '0x7b2276223a317d' // {"v":1}
    const sender = ctx.walletClients[2]!
    const res = await anchorRoot(sender, { contract, root: tree.root, leafCount: 1000, meta })
    console.log(
      `anchor gas (1000 leaves, 7-byte meta): ${res.gasUsed} (${Number(res.gasUsed) / 1000} per message)`,
    )
    expect(res.gasUsed).toBeLessThan(48_500n)
    const block = await ctx.publicClient.getBlock({ blockNumber: res.blockNumber })
    const submitter = sender.account.address
    expect(await getAnchor(ctx.publicClient, { contract, submitter, root: tree.root })).toEqual({
      root: tree.root,
      submitter,
      blockNumber: res.blockNumber,
      timestamp: block.timestamp,
      leafCount: 1000,
    })
    const slot = await ctx.publicClient.getStorageAt({ address: contract, slot: pad('0x00') })
    expect(slot).toBe('0x0000000000000000000000000000000000000000000000000000000000000000') // mapping base slot unused
    const [log] = res.receipt.logs
    const event = decodeEventLog({ abi: messageAnchorAbi, ...log! })
    expect(event).toEqual({
      eventName: 'Anchored',
      args: { root: tree.root, submitter: sender.account.address, leafCount: 1000n, meta },
    })
    // Block number and timestamp come from the log's block, not from the event data.
    expect(log!.blockNumber).toBe(res.blockNumber)
    expect(log!.blockHash).toBe(block.hash)
  })

  it('anchors with empty meta (1000-leaf batch)', async () => {
    const tree = buildMerkleTree(leaves(1000))
    const res = await anchorRoot(ctx.walletClient, { contract, root: tree.root, leafCount: 1000 })
    console.log(
      `anchor gas (1000 leaves, empty meta): ${res.gasUsed} (${Number(res.gasUsed) / 1000} per message)`,
    )
    expect(res.gasUsed).toBeLessThan(48_000n)
    const event = decodeEventLog({ abi: messageAnchorAbi, ...res.receipt.logs[0]! })
    expect(event.args).toEqual({
      root: tree.root,
      submitter: ctx.walletClient.account.address,
      leafCount: 1000n,
      meta: '0x',
    })
  })

  it('decodes Anchored logs of a transaction receipt, and finds the anchoring transaction of a root', async () => {
    const root = randomLeaf()
    const sender = ctx.walletClients[3]!
    const res = await anchorRoot(sender, { contract, root, leafCount: 5, meta: '0x01' })
    expect(decodeAnchoredLogs(res.receipt.logs, { contract })).toEqual([
      {
        root,
        submitter: sender.account.address,
        leafCount: 5,
        meta: '0x01',
        transactionHash: res.hash,
        blockNumber: res.blockNumber,
      },
    ])
    // Logs of another address are not this contract's anchors.
    expect(decodeAnchoredLogs(res.receipt.logs, { contract: ctx.contracts.keyRegistry })).toEqual([])
    expect(
      await findAnchorTransaction(ctx.publicClient, { contract, root, blockNumber: res.blockNumber }),
    ).toBe(res.hash)
    const submitter = sender.account.address
    expect(
      await findAnchoredEvents(ctx.publicClient, { contract, root, submitter, blockNumber: res.blockNumber }),
    ).toHaveLength(1)
    expect(
      await findAnchoredEvents(ctx.publicClient, {
        contract,
        root,
        submitter: ctx.walletClient.account.address,
        blockNumber: res.blockNumber,
      }),
    ).toEqual([])
    expect(
      await findAnchorTransaction(ctx.publicClient, { contract, root, blockNumber: res.blockNumber - 1n }),
    ).toBeUndefined()
  })

  it('returns undefined for a root never anchored, or anchored only by someone else', async () => {
    expect(await getAnchor(ctx.publicClient, { contract, root: randomLeaf() })).toBeUndefined()
    const root = randomLeaf()
    await anchorRoot(ctx.walletClients[1]!, { contract, root, leafCount: 2 })
    const other = ctx.walletClients[2]!.account.address
    expect(await getAnchor(ctx.publicClient, { contract, submitter: other, root })).toBeUndefined()
    expect(await getAnchor(ctx.publicClient, { contract, root })).toBeUndefined() // zero address: a probe
  })

  it('rejects a zero root', async () => {
    await expectRevert(
      anchorRoot(ctx.walletClient, { contract, root: pad('0x'), leafCount: 1 }),
      'SEALPOST_ANCHOR_ZERO_ROOT',
      'ZeroRoot',
    )
  })

  it('rejects a root anchored twice by the same submitter', async () => {
    const root = randomLeaf()
    await anchorRoot(ctx.walletClient, { contract, root, leafCount: 3 })
    await expectRevert(
      anchorRoot(ctx.walletClient, { contract, root, leafCount: 4 }),
      'SEALPOST_ANCHOR_ALREADY_ANCHORED',
      'AlreadyAnchored',
      [root],
    )
  })

  it('anchors of the same root by different submitters are independent (no blocking, no spoiling)', async () => {
    const root = randomLeaf()
    const [a, b] = [ctx.walletClients[1]!, ctx.walletClients[2]!]
    await anchorRoot(a, { contract, root, leafCount: 99 })
    const mine = await anchorRoot(b, { contract, root, leafCount: 3 })
    expect(
      (await getAnchor(ctx.publicClient, { contract, submitter: a.account.address, root }))?.leafCount,
    ).toBe(99)
    expect(await getAnchor(ctx.publicClient, { contract, submitter: b.account.address, root })).toMatchObject(
      {
        leafCount: 3,
        blockNumber: mine.blockNumber,
      },
    )
  })

  it.each([0n, 2n ** 24n])('rejects leafCount %s', async (leafCount) => {
    await expectRevert(
      anchorRoot(ctx.walletClient, { contract, root: randomLeaf(), leafCount }),
      'SEALPOST_ANCHOR_INVALID_LEAF_COUNT',
      'InvalidLeafCount',
      [leafCount],
    )
  })

  it('accepts the largest leafCount and meta', async () => {
    const root = randomLeaf()
    const meta = bytesToHex(new Uint8Array(1024).fill(1))
    await anchorRoot(ctx.walletClient, { contract, root, leafCount: 2 ** 24 - 1, meta })
    const submitter = ctx.walletClient.account.address
    expect((await getAnchor(ctx.publicClient, { contract, submitter, root }))?.leafCount).toBe(2 ** 24 - 1)
  })

  it('rejects meta over 1024 bytes', async () => {
    await expectRevert(
      anchorRoot(ctx.walletClient, {
        contract,
        root: randomLeaf(),
        leafCount: 1,
        meta: bytesToHex(new Uint8Array(1025)),
      }),
      'SEALPOST_ANCHOR_META_TOO_LARGE',
      'MetaTooLarge',
      [1025n],
    )
  })
})

describe('inclusion proofs (differential against src/protocol/merkle.ts)', () => {
  it('computeRoot matches the TS tree for every index of trees of size 1..9', async () => {
    for (let size = 1; size <= 9; size++) {
      const data = leaves(size)
      const tree = buildMerkleTree(data)
      for (let index = 0; index < size; index++) {
        const path = inclusionProof(tree, index)
        const root = await computeRootOnChain(ctx.publicClient, {
          contract,
          leaf: data[index]!,
          index,
          treeSize: size,
          path,
        })
        expect(root).toBe(tree.root)
      }
    }
  })

  it('verifyInclusion: true for correct proofs, false for wrong leaf/index/path/unanchored root', async () => {
    const data = leaves(1000)
    const tree = buildMerkleTree(data)
    const client = ctx.walletClient.extend(messageAnchorActions(contract))
    const submitter = ctx.walletClient.account.address
    const unanchored = await client.verifyInclusionOnChain({
      submitter,
      root: tree.root,
      leaf: data[0]!,
      index: 0,
      path: inclusionProof(tree, 0),
    })
    expect(unanchored).toBe(false)
    await client.anchorRoot({ root: tree.root, leafCount: 1000 })
    for (const index of [0, 1, 511, 512, 998, 999]) {
      const path = inclusionProof(tree, index)
      const verify = (p: { leaf?: Hex; index?: number; path?: Hex[]; submitter?: Hex }) =>
        verifyInclusionOnChain(ctx.publicClient, {
          contract,
          submitter: p.submitter ?? submitter,
          root: tree.root,
          leaf: p.leaf ?? data[index]!,
          index: p.index ?? index,
          path: p.path ?? path,
        })
      expect(await verify({})).toBe(true)
      expect(await verify({ submitter: ctx.walletClients[1]!.account.address })).toBe(false)
      expect(await verify({ leaf: randomLeaf() })).toBe(false)
      expect(await verify({ index: index ^ 1 })).toBe(false)
      expect(await verify({ index: 1000 })).toBe(false)
      expect(await verify({ path: [...path.slice(0, -1), randomLeaf()] })).toBe(false)
      expect(await verify({ path: path.slice(1) })).toBe(false)
      expect(await verify({ path: [...path, randomLeaf()] })).toBe(false)
    }
  })

  it('computeRoot reverts InvalidProof on bad shapes', async () => {
    const data = leaves(5)
    const tree = buildMerkleTree(data)
    const path = inclusionProof(tree, 2)
    const compute = (index: number, treeSize: number, p: Hex[]) =>
      computeRootOnChain(ctx.publicClient, { contract, leaf: data[2]!, index, treeSize, path: p })
    await expectRevert(compute(5, 5, path), 'SEALPOST_ANCHOR_INVALID_PROOF', 'InvalidProof')
    await expectRevert(compute(0, 0, []), 'SEALPOST_ANCHOR_INVALID_PROOF', 'InvalidProof')
    await expectRevert(compute(2, 5, path.slice(1)), 'SEALPOST_ANCHOR_INVALID_PROOF', 'InvalidProof')
    await expectRevert(
      compute(2, 5, [...path, randomLeaf()]),
      'SEALPOST_ANCHOR_INVALID_PROOF',
      'InvalidProof',
    )
    expect(await compute(0, 1, [])).toBe(buildMerkleTree([data[2]!]).root)
  })
})
