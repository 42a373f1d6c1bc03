import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createPublicClient, createWalletClient, type Hex, http } from 'viem'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'
import { type RpcProxy, startRpcProxy } from '../../test/utils/rpcProxy.js'
import { RpcUnreachableError } from '../chain/errors.js'
import { anchorRoot } from '../chain/messageAnchor.js'
import { verifyReceipt } from '../client/verifyReceipt.js'
import { merkleRoot } from '../protocol/merkle.js'
import type { Receipt } from '../protocol/receipt.js'
import {
  Anchorer,
  type AnchorerEvents,
  AnchorerInputError,
  type AnchorerOptions,
  AnchorerStoppedError,
} from './Anchorer.js'

let ctx: ChainContext
let dir: string
const cleanups: (() => Promise<void> | void)[] = []

beforeAll(async () => {
  ctx = await setupChain()
  dir = mkdtempSync(join(tmpdir(), 'sealpost-anchorer-'))
})
afterAll(async () => {
  await ctx?.stop()
  rmSync(dir, { recursive: true, force: true })
})
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

const rand32 = (): Hex => `0x${randomBytes(32).toString('hex')}`
const topic = rand32()
const submitter = rand32()
let dbCount = 0
const freshDb = () => join(dir, `anchor-${++dbCount}.db`)

type Harness = { anchorer: Anchorer; receipts: { receipt: Receipt; topic: Hex }[]; errors: unknown[] }

function makeAnchorer(options: Partial<AnchorerOptions> = {}): Harness {
  const receipts: Harness['receipts'] = []
  const errors: unknown[] = []
  const anchorer = new Anchorer({
    walletClient: ctx.walletClients[5]!,
    publicClient: ctx.publicClient,
    contract: ctx.contracts.messageAnchor,
    db: { path: freshDb() },
    batchSize: 256,
    batchIntervalMs: 100,
    pollingIntervalMs: 50,
    recheckIntervalMs: 200,
    retry: { initialMs: 50, maxMs: 300 },
    onReceipt: (receipt, t) => {
      receipts.push({ receipt, topic: t })
    },
    ...options,
  })
  anchorer.on('error', ({ error }) => errors.push(error))
  cleanups.push(() => anchorer.stop())
  return { anchorer, receipts, errors }
}

function next<K extends keyof AnchorerEvents>(anchorer: Anchorer, event: K, ms = 15_000) {
  return once(anchorer as never, event as string, { signal: AbortSignal.timeout(ms) }) as Promise<
    AnchorerEvents[K]
  >
}

const verify = (receipt: Receipt) =>
  verifyReceipt(ctx.publicClient, {
    receipt,
    messageAnchor: ctx.contracts.messageAnchor,
    chainId: ctx.anvil.chain.id,
  })

async function expectAllVerify(receipts: Receipt[]) {
  for (const r of receipts) {
    const result = await verify(r)
    expect(result.ok, result.error?.message).toBe(true)
  }
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms))

async function until(cond: () => boolean, ms = 10_000) {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition')
    await sleep(20)
  }
}

describe('Anchorer batching', () => {
  it('closes a batch after N leaves, one transaction per batch, receipts verify', async () => {
    const { anchorer, receipts } = makeAnchorer({ batchSize: 4, batchIntervalMs: 60_000 })
    anchorer.start()
    const leaves = Array.from({ length: 8 }, rand32)
    const confirmed = next(anchorer, 'batch-confirmed')
    const leafEvents: Hex[] = []
    anchorer.on('leaf', ({ leaf }) => leafEvents.push(leaf))
    anchorer.submit({ leaf: leaves[0]!, topic, submitter })
    anchorer.submit({ leaf: leaves[0]!, topic: rand32(), submitter }) // duplicate: ignored
    for (const leaf of leaves.slice(1, 4)) anchorer.submit({ leaf, topic, submitter })
    expect(leafEvents).toEqual(leaves.slice(0, 4))
    const [first] = await confirmed
    expect(first).toMatchObject({ batchId: 1, leafCount: 4, root: merkleRoot(leaves.slice(0, 4)) })
    await until(() => receipts.length === 4)
    expect(receipts.map((r) => r.receipt.leaf)).toEqual(leaves.slice(0, 4))
    expect(receipts.every((r) => r.topic === topic)).toBe(true)
    await expectAllVerify(receipts.map((r) => r.receipt))
    expect(anchorer.getReceipt(leaves[2]!)).toEqual(receipts[2]!.receipt)

    // 3 more leaves stay pending (no time trigger within 60 s), the 4th closes batch 2.
    for (const leaf of leaves.slice(4, 7)) anchorer.submit({ leaf, topic, submitter })
    await sleep(300)
    expect(anchorer.stats()).toMatchObject({ pending: 3, receipts: 4, batches: { total: 1 } })
    const second = next(anchorer, 'batch-confirmed')
    anchorer.submit({ leaf: leaves[7]!, topic, submitter })
    expect((await second)[0]).toMatchObject({ batchId: 2, leafCount: 4 })
    await until(() => receipts.length === 8)
    const txs = new Set(receipts.map((r) => r.receipt.txHash))
    expect(txs.size).toBe(2) // 8 messages, 2 transactions
    expect(anchorer.stats()).toMatchObject({ pending: 0, inFlight: 0, receipts: 8, batches: { total: 2 } })
    expect(() => anchorer.submit({ leaf: '0x12', topic, submitter })).toThrow(AnchorerInputError)
  })

  it('closes a batch after T ms', async () => {
    const { anchorer, receipts } = makeAnchorer({ batchSize: 100, batchIntervalMs: 400 })
    anchorer.start()
    const started = Date.now()
    const confirmed = next(anchorer, 'batch-confirmed')
    for (let i = 0; i < 3; i++) anchorer.submit({ leaf: rand32(), topic, submitter })
    const [event] = await confirmed
    const elapsed = Date.now() - started
    expect(event.leafCount).toBe(3)
    expect(elapsed).toBeGreaterThanOrEqual(390)
    expect(elapsed).toBeLessThan(3000)
    await until(() => receipts.length === 3)
    await expectAllVerify(receipts.map((r) => r.receipt))
  })

  it('reports gas per leaf for batch sizes 1, 10, 100, 1000', async () => {
    const gasPerLeaf: Record<number, number> = {}
    for (const n of [1, 10, 100, 1000]) {
      const { anchorer, receipts } = makeAnchorer({ batchSize: n, batchIntervalMs: 60_000 })
      anchorer.start()
      const confirmed = next(anchorer, 'batch-confirmed')
      for (let i = 0; i < n; i++) anchorer.submit({ leaf: rand32(), topic, submitter })
      const [event] = await confirmed
      expect(event.leafCount).toBe(n)
      await until(() => receipts.length === n)
      const sample = [0, Math.floor(n / 2), n - 1].map((i) => receipts[i]!.receipt)
      await expectAllVerify(sample)
      gasPerLeaf[n] = anchorer.stats().lastGasPerLeaf!
      expect(gasPerLeaf[n]).toBeCloseTo(Number(event.gasUsed) / n)
      await anchorer.stop()
    }
    console.log(
      'anchor gas per leaf:',
      Object.entries(gasPerLeaf)
        .map(([n, g]) => `${n} leaves: ${g.toFixed(1)}`)
        .join(', '),
    )
    expect(gasPerLeaf[1]!).toBeGreaterThan(gasPerLeaf[10]!)
    expect(gasPerLeaf[10]!).toBeGreaterThan(gasPerLeaf[100]!)
    expect(gasPerLeaf[100]!).toBeGreaterThan(gasPerLeaf[1000]!)
    expect(gasPerLeaf[1000]!).toBeLessThan(100)
  })
})

describe('Anchorer durability', () => {
  it('keeps pending leaves across a restart; flush then issues receipts', async () => {
    const path = freshDb()
    const first = makeAnchorer({ db: { path }, batchIntervalMs: 60_000 })
    first.anchorer.start()
    const leaves = Array.from({ length: 5 }, rand32)
    for (const leaf of leaves) first.anchorer.submit({ leaf, topic, submitter })
    expect(first.anchorer.stats().pending).toBe(5)
    await first.anchorer.stop()
    expect(first.receipts).toHaveLength(0)

    const second = makeAnchorer({ db: { path }, batchIntervalMs: 60_000 })
    expect(second.anchorer.stats().pending).toBe(5)
    second.anchorer.start()
    await second.anchorer.flush()
    expect(second.receipts.map((r) => r.receipt.leaf)).toEqual(leaves)
    await expectAllVerify(second.receipts.map((r) => r.receipt))
    expect(second.anchorer.stats()).toMatchObject({ pending: 0, receipts: 5 })
  })

  it('resumes a batch caught mid-flight, with an open Database handle', async () => {
    const db = new Database(freshDb())
    cleanups.push(() => {
      db.close()
    })
    const proxy = await startRpcProxy(ctx.anvil.rpcUrl)
    cleanups.push(() => proxy.stop())
    proxy.setDown(true)
    const viaProxy = proxiedClients(proxy)
    const first = makeAnchorer({ db, ...viaProxy, batchIntervalMs: 60_000 })
    first.anchorer.start()
    const leaves = Array.from({ length: 3 }, rand32)
    for (const leaf of leaves) first.anchorer.submit({ leaf, topic, submitter })
    const flushed = first.anchorer.flush()
    await until(() => first.errors.length >= 2)
    expect(first.anchorer.stats()).toMatchObject({ pending: 0, inFlight: 3, batches: { anchoring: 1 } })
    await first.anchorer.stop()
    await expect(flushed).rejects.toBeInstanceOf(AnchorerStoppedError)
    expect(db.open).toBe(true) // not ours to close

    const second = makeAnchorer({ db })
    second.anchorer.start()
    await second.anchorer.flush()
    expect(second.receipts.map((r) => r.receipt.leaf)).toEqual(leaves)
    await expectAllVerify(second.receipts.map((r) => r.receipt))
  })
})

describe('Anchorer delivery and finality', () => {
  it('re-offers a receipt whose onReceipt threw, and finalizes batches finalityDepth deep', async () => {
    let fail = true
    const delivered: Hex[] = []
    const h = makeAnchorer({
      batchSize: 2,
      finalityDepth: 3,
      recheckIntervalMs: 100,
      onReceipt: (receipt) => {
        if (fail) throw new Error('relay down')
        delivered.push(receipt.leaf)
      },
    })
    h.anchorer.start()
    const leaves = [rand32(), rand32()]
    for (const leaf of leaves) h.anchorer.submit({ leaf, topic, submitter })
    await h.anchorer.flush()
    expect(h.errors.length).toBeGreaterThanOrEqual(2)
    expect(h.errors.every((e) => (e as { code: string }).code === 'SEALPOST_ANCHORER_DELIVERY_FAILED')).toBe(
      true,
    )
    fail = false
    await until(() => delivered.length === 2)
    expect(delivered).toEqual(leaves)
    expect(h.anchorer.stats().batches).toMatchObject({ confirmed: 1, final: 0 })
    await ctx.mine(2)
    await until(() => h.anchorer.stats().batches.final === 1)
  })
})

function proxiedClients(proxy: RpcProxy) {
  const transport = http(proxy.url, { retryCount: 0, timeout: 2000 })
  return {
    walletClient: createWalletClient({
      account: ctx.walletClients[5]!.account,
      chain: ctx.anvil.chain,
      transport,
      pollingInterval: 50,
    }),
    publicClient: createPublicClient({ chain: ctx.anvil.chain, transport, pollingInterval: 50 }),
  }
}

describe('Anchorer faults', () => {
  it('keeps leaves pending while the chain is unreachable, retries, then anchors and every receipt verifies', async () => {
    const proxy = await startRpcProxy(ctx.anvil.rpcUrl)
    cleanups.push(() => proxy.stop())
    const h = makeAnchorer({ ...proxiedClients(proxy), batchIntervalMs: 100 })
    const retries: number[] = []
    h.anchorer.on('error', ({ retryInMs }) => {
      if (retryInMs !== undefined) retries.push(retryInMs)
    })
    h.anchorer.start()
    proxy.setDown(true)
    const leaves = Array.from({ length: 5 }, rand32)
    for (const leaf of leaves) h.anchorer.submit({ leaf, topic, submitter })
    await until(() => retries.length >= 3)
    proxy.setDown(true, '503')
    await sleep(300)
    expect(h.errors.every((e) => e instanceof RpcUnreachableError)).toBe(true)
    expect(retries.slice(0, 3)).toEqual([50, 100, 200]) // exponential backoff, capped at maxMs
    expect(Math.max(...retries)).toBe(300)
    expect(h.receipts).toHaveLength(0)
    expect(h.anchorer.stats()).toMatchObject({
      pending: 0,
      inFlight: 5,
      lastError: 'SEALPOST_RPC_UNREACHABLE',
    })

    proxy.setDown(false)
    await h.anchorer.flush()
    expect(h.receipts.map((r) => r.receipt.leaf)).toEqual(leaves)
    await expectAllVerify(h.receipts.map((r) => r.receipt))
    expect(h.anchorer.stats()).toMatchObject({ inFlight: 0, receipts: 5, lastError: undefined })
  })

  it.each([3, 99])(
    'anchors its own root even when someone else anchored it first (leafCount %i): no adoption, no re-batch',
    async (frontLeafCount) => {
      const h = makeAnchorer({ batchSize: 3, batchIntervalMs: 60_000 })
      const leaves = Array.from({ length: 3 }, rand32)
      const front = await anchorRoot(ctx.walletClients[7]!, {
        contract: ctx.contracts.messageAnchor,
        root: merkleRoot(leaves),
        leafCount: frontLeafCount,
      })
      h.anchorer.start()
      for (const leaf of leaves) h.anchorer.submit({ leaf, topic, submitter })
      await h.anchorer.flush()
      expect(h.errors).toEqual([])
      const receipts = h.receipts.map((r) => r.receipt)
      expect(receipts.map((r) => [r.leaf, r.root, r.treeSize])).toEqual(
        leaves.map((l) => [l, merkleRoot(leaves), 3]),
      )
      expect(receipts.every((r) => r.txHash !== front.hash)).toBe(true)
      expect(receipts.every((r) => r.submitter === ctx.walletClients[5]!.account.address)).toBe(true)
      await expectAllVerify(receipts)
    },
  )

  it('adopts its own earlier anchor of the batch root (a crashed run)', async () => {
    const h = makeAnchorer({ batchSize: 3, batchIntervalMs: 60_000 })
    const leaves = Array.from({ length: 3 }, rand32)
    const earlier = await anchorRoot(ctx.walletClients[5]!, {
      contract: ctx.contracts.messageAnchor,
      root: merkleRoot(leaves),
      leafCount: 3,
    })
    h.anchorer.start()
    for (const leaf of leaves) h.anchorer.submit({ leaf, topic, submitter })
    await h.anchorer.flush()
    expect(h.receipts.map((r) => r.receipt.txHash)).toEqual([earlier.hash, earlier.hash, earlier.hash])
    await expectAllVerify(h.receipts.map((r) => r.receipt))
    expect(h.errors).toEqual([])
  })

  it('retries a wallet without funds until it is funded', async () => {
    const h = makeAnchorer({ walletClient: ctx.walletClients[6]!, batchIntervalMs: 50 })
    const address = ctx.walletClients[6]!.account.address
    const rpc = (method: string, params: unknown[]) => ctx.publicClient.request({ method, params } as never)
    await rpc('anvil_setBalance', [address, '0x0'])
    h.anchorer.start()
    const leaves = Array.from({ length: 4 }, rand32)
    for (const leaf of leaves) h.anchorer.submit({ leaf, topic, submitter })
    await until(() => h.errors.length >= 2)
    expect(h.receipts).toHaveLength(0)
    expect((h.errors[0] as { code: string }).code).toBe('SEALPOST_INSUFFICIENT_FUNDS')
    await rpc('anvil_setBalance', [address, '0x56bc75e2d63100000']) // 100 ETH
    await h.anchorer.flush()
    expect(h.receipts).toHaveLength(4)
    await expectAllVerify(h.receipts.map((r) => r.receipt))
  })

  it('re-anchors after a reorg and reissues receipts; the old receipts no longer verify', async () => {
    const h = makeAnchorer({ batchIntervalMs: 50, recheckIntervalMs: 150, finalityDepth: 1000 })
    h.anchorer.start()
    const snap = await ctx.snapshot()
    const leaves = Array.from({ length: 3 }, rand32)
    for (const leaf of leaves) h.anchorer.submit({ leaf, topic, submitter })
    await h.anchorer.flush()
    const old = h.receipts.map((r) => r.receipt)
    await expectAllVerify(old)

    const reanchored = next(h.anchorer, 'reanchored')
    await ctx.revert(snap)
    await ctx.mine(3) // so that the re-anchor cannot land in the old block number
    for (const r of old) {
      const result = await verify(r)
      expect(result.ok).toBe(false)
      expect(['anchored', 'block']).toContain(result.error?.step)
    }
    const [event] = await reanchored
    expect(event).toMatchObject({ batchId: 1, root: old[0]!.root, previousTxHash: old[0]!.txHash })
    expect(event.txHash).not.toBe(old[0]!.txHash)
    await until(() => h.receipts.length === 6)
    const reissued = h.receipts.slice(3).map((r) => r.receipt)
    expect(reissued.map((r) => r.leaf)).toEqual(leaves)
    expect(reissued.every((r) => r.txHash === event.txHash && r.blockNumber === event.blockNumber)).toBe(true)
    await expectAllVerify(reissued)
    for (const r of old) expect((await verify(r)).ok).toBe(false)
    expect(h.anchorer.getReceipt(leaves[0]!)).toEqual(reissued[0])
  })
})
