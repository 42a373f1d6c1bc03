/**
 * The demo's cross-chain act on real components: two anvils (31337, 31338), a relay node with its anchorer, chain B
 * as `up --chains 2` starts it (Hyperlane's shipped contracts, 2-of-3 TypeScript validators, keeper), the relayer.
 * Every step passes: the message carried A → B and verified by Bob, a receipt of A verified from B alone, a revoked
 * device refused through B, and two forged mirror updates refused on B with their revert reasons.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, createWalletClient, type Hex, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { type CliContext, createContext } from '../src/cli/context.js'
import { inboxCommand } from '../src/cli/inbox.js'
import { type SecondChain, startSecondChain } from '../src/cli/secondChain.js'
import type { Client } from '../src/client/Client.js'
import type { Deployment } from '../src/client/deployment.js'
import { writeDeployment } from '../src/client/deployment.js'
import { waitForInboxDelivery } from '../src/crosschain/inboxReceive.js'
import { sendEnvelopeViaHyperlane } from '../src/crosschain/inboxSend.js'
import { relayerFromConfig } from '../src/crosschain/relayerConfig.js'
import { type CrossChainActResult, runCrossChainAct } from '../src/demo/crossChainAct.js'
import { DEMO_PASSPHRASE } from '../src/demo/parties.js'
import { createDemoReport } from '../src/demo/report.js'
import { encodeEnvelope } from '../src/protocol/envelope.js'
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
let deploymentA: Deployment

beforeAll(async () => {
  A = await setupChain()
  const net = testNetwork(A)
  deploymentA = net.deployment
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

test("sealpost inbox also reads chain B's inbox: a message carried both ways is shown once, marked via Hyperlane", async () => {
  const { alice, bob, conversation } = result
  await bob.close() // the act's offline client of Bob; the command opens the same device
  // Alice sends once more: through the relay and, the same envelope, through Hyperlane.
  const text = 'Second draft, both ways.'
  const sent = await alice.conversations.get(conversation)!.send(text)
  const relayer = relayerFromConfig(B.relayer.config, B.relayer.account, { pollingInterval: 100 })
  relayer.start(200)
  try {
    await sendEnvelopeViaHyperlane(
      createWalletClient({
        account: privateKeyToAccount(A.anvil.accounts[5] as Hex),
        transport: http(A.anvil.rpcUrl),
      }),
      {
        inbox: B.inbox.origin.inbox,
        destination: B.inbox.destination.domain,
        envelope: encodeEnvelope(sent.envelope),
      },
    )
    await waitForInboxDelivery(createPublicClient({ transport: http(B.rpc) }), {
      inbox: B.inbox.destination.inbox,
      envelopeId: sent.id,
      timeoutMs: 30_000,
    })
  } finally {
    await relayer.stop()
  }
  // Bob's home as the CLI sees it, with A's deployment record next to the route `up --chains 2` wrote.
  writeDeployment(join(dir, 'home'), { ...deploymentA, rpcUrl: A.anvil.rpcUrl })
  const lines: string[] = []
  const ctx = {
    ...createContext({
      home: join(dir, 'parties', 'x-bob'),
      rpc: A.anvil.rpcUrl,
      deployment: join(dir, 'home', 'deployment.json'),
      out: {
        json: false,
        debug: false,
        info: (l: string) => lines.push(l),
        step: (label: string) => (r?: string) => lines.push(`${label}: ${r ?? 'done'}`),
        result: () => {},
      },
    }),
    passphrase: () => DEMO_PASSPHRASE,
  } as CliContext
  await inboxCommand(ctx, ['--relay', node.url])
  const shown = lines.filter((l) => l.endsWith(text))
  expect(shown).toHaveLength(1)
  expect(shown[0]).toContain(`✓ verified  via Hyperlane (chain 31338 block `)
  expect(lines.join('\n')).toContain(
    `Reading the SealpostInbox ${B.inbox.destination.inbox} on chain 31338: 0 new, 2 already received through the relay`,
  )
  // The act's first message was read on B before: not shown again, from either copy.
  expect(lines.some((l) => l.includes('Across two networks'))).toBe(false)
})
