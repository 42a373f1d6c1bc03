import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Hex, keccak256, toHex } from 'viem'
import { afterAll, expect, test } from 'vitest'
import { setupChain } from '../../test/utils/anvil.js'
import { testNetwork } from '../../test/utils/clients.js'
import { startTestRelayNode } from '../../test/utils/stack.js'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const topic = keccak256(toHex('node state topic'))
const submitter = keccak256(toHex('node state device'))

test('the same directory against two fresh chains: each keeps its own state; no anchor of the first looks reorged on the second', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-node-state-'))
  dirs.push(dir)

  // First chain: anchor one leaf, then stop everything.
  const first = await setupChain()
  const firstNet = testNetwork(first)
  const leaf = keccak256(toHex('anchored on the first chain'))
  let firstDir: string
  try {
    const node = await startTestRelayNode(first, firstNet, dir)
    firstDir = node.stateDir
    node.anchorer?.submit({ leaf, topic, submitter })
    await node.anchorer?.flush()
    expect(node.anchorer?.getReceipt(leaf)).toBeDefined()
    await node.stop()
  } finally {
    await firstNet.cleanup()
    await first.stop()
  }

  // A fresh anvil started at another time (a later `up`): same chain id, same deployer nonce, so the same contract
  // addresses and deployment block number; only the blocks' timestamps, hence their hashes, differ. (Two chains equal
  // up to the deployment block, started within the same second, cannot be told apart and would share a directory.)
  const second = await setupChain({
    args: ['--timestamp', String(Math.floor(Date.now() / 1000) + 86_400)],
  })
  const secondNet = testNetwork(second)
  try {
    expect(secondNet.deployment).toMatchObject({
      chainId: firstNet.deployment.chainId,
      messageAnchor: firstNet.deployment.messageAnchor,
    })
    const node = await startTestRelayNode(second, secondNet, dir)
    try {
      expect(node.stateDir).not.toBe(firstDir)
      expect(node.stateDir.startsWith(join(dir, `${second.anvil.chainId}-`))).toBe(true)
      const identity = JSON.parse(readFileSync(join(node.stateDir, 'chain.json'), 'utf8'))
      const block = await second.publicClient.getBlock({ blockNumber: second.deployBlock })
      expect(identity).toMatchObject({
        messageAnchor: second.contracts.messageAnchor,
        deployBlockHash: block.hash,
      })
      // The first run's anchors are not this node's: no receipt, no batch.
      expect(node.anchorer?.getReceipt(leaf)).toBeUndefined()
      expect(node.anchorer?.stats()).toMatchObject({ batches: { total: 0 }, receipts: 0 })
      const reanchored: unknown[] = []
      node.anchorer?.on('reanchored', (e) => reanchored.push(e))
      // The worker's first pass re-checks every stored anchor before it batches; flush waits for that pass.
      const fresh = keccak256(toHex('anchored on the second chain'))
      node.anchorer?.submit({ leaf: fresh, topic, submitter })
      await node.anchorer?.flush()
      expect(node.anchorer?.getReceipt(fresh)).toBeDefined()
      expect(reanchored).toEqual([])
    } finally {
      await node.stop()
    }
    // The first chain's databases are still there, untouched, beside the second's.
    expect(existsSync(join(firstDir, 'anchor.sqlite'))).toBe(true)
  } finally {
    await secondNet.cleanup()
    await second.stop()
  }
}, 120_000)

test('the state directory is named by chain id, MessageAnchor and deployment block hash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-node-name-'))
  dirs.push(dir)
  const chain = await setupChain()
  const net = testNetwork(chain)
  try {
    const node = await startTestRelayNode(chain, net, dir)
    await node.stop()
    const { hash } = await chain.publicClient.getBlock({ blockNumber: chain.deployBlock })
    const anchor = chain.contracts.messageAnchor.slice(2, 10).toLowerCase()
    expect(node.stateDir).toBe(join(dir, `${chain.anvil.chainId}-${anchor}-${(hash as Hex).slice(2, 14)}`))
  } finally {
    await net.cleanup()
    await chain.stop()
  }
}, 60_000)
