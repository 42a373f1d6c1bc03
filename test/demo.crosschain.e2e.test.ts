/**
 * The demo's cross-chain act on real components: two anvils (31337, 31338), a relay node with its anchorer, chain B
 * as `up --chains 2` starts it (Hyperlane's shipped contracts, 2-of-3 TypeScript validators, keeper), the relayer.
 * Every step passes: the message carried A → B and verified by Bob, a receipt of A verified from B alone, a revoked
 * device refused through B, and two forged mirror updates refused on B with their revert reasons.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createContext } from '../src/cli/context.js'
import { type SecondChain, startSecondChain } from '../src/cli/secondChain.js'
import type { Client } from '../src/client/Client.js'
import { type CrossChainActResult, runCrossChainAct } from '../src/demo/crossChainAct.js'
import { createDemoReport } from '../src/demo/report.js'
import type { RelayNode } from '../src/relay/node.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { testNetwork } from './utils/clients.js'
import { startTestRelayNode } from './utils/stack.js'

let A: ChainContext
let node: RelayNode
let B: SecondChain
let dir: string
const clients: Client[] = []
const lines: string[] = []
const report = createDemoReport({ info: (l) => lines.push(l), step: () => () => undefined })
let result: CrossChainActResult

beforeAll(async () => {
  A = await setupChain()
  const net = testNetwork(A)
  dir = mkdtempSync(join(tmpdir(), 'sealpost-demo-crosschain-'))
  node = await startTestRelayNode(A, net, join(dir, 'relay'))
  const ctx = createContext({
    home: join(dir, 'home'),
    rpc: A.anvil.rpcUrl,
    out: { json: false, debug: false, info: () => {}, step: () => () => {}, result: () => {} },
  })
  B = await startSecondChain(ctx, {
    rpcA: A.anvil.rpcUrl,
    deploymentA: net.deployment,
    keysA: A.anvil.accounts,
    blockTime: 0,
    confirmations: 1,
    intervalMs: 200,
  })
  result = await runCrossChainAct({
    report,
    network: {
      rpc: A.anvil.rpcUrl,
      deployment: net.deployment,
      relay: node.url,
      dir: join(dir, 'parties'),
      pollingInterval: 100,
    },
    chainB: B,
    track: (c) => {
      clients.push(c)
      return c
    },
    timeoutMs: 45_000,
  })
}, 180_000)

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined)
  await node?.stop()
  await B?.stop()
  await A?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

test('every step of the cross-chain act passes, each with checkable output', () => {
  const { steps, ok } = report.summary()
  expect(steps.filter((s) => !s.ok)).toEqual([])
  expect(ok).toBe(true)
  expect(steps.map((s) => s.name)).toEqual([
    'chain B and Hyperlane',
    'a sealed message carried A → B through Hyperlane, verified by Bob',
    'a receipt anchored on A, verified from chain B alone',
    'a device revoked on A, refused by a verifier that follows B',
    'a forged mirror update, called directly on B, is refused',
    'a forged mirror update from the wrong sender on A is refused on B',
  ])
  const text = lines.join('\n')
  expect(text).toContain('"Across two networks: the contract draft, sealed." from')
  expect(text).toContain('verified through SealpostMirror')
  expect(text).toContain('refused at step key-valid-at-block [SEALPOST_KEY_REVOKED]')
  expect(text).toContain('reverted NotMailbox(')
  expect(text).toContain('Mailbox.process reverted UnexpectedSender(')
  expect(text).toContain("Bob's client still checks Alice against chain A's registry")
  // The same relayer delivered the message and the keeper's mirror updates, and refused the forgery by name.
  expect(result.relayed.filter((o) => o.status === 'refused').map((o) => o.error.errorName)).toEqual([
    'UnexpectedSender',
  ])
  expect(result.relayed.filter((o) => o.status === 'delivered').length).toBeGreaterThanOrEqual(3)
})
