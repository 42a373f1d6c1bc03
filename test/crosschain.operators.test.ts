/**
 * The two-chain local stack (`up --chains 2`, in process): two real anvils (31337, 31338), Sealpost's contracts and
 * Hyperlane's core on both, three validators and the keeper, and the Hyperlane relayer running inside the relay
 * node; an anchor on A reaches the mirror on B, the dashboard's chains collector shows both chains and the lag, and
 * the stop leaves no process.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPublicClient, createWalletClient, type Hex, http, pad, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { anchorRoot } from '../src/chain/messageAnchor.js'
import { upSpec } from '../src/cli/commands.js'
import { createContext } from '../src/cli/context.js'
import { ArgumentError } from '../src/cli/errors.js'
import type { Output } from '../src/cli/output.js'
import { type Stack, startStack } from '../src/cli/stack.js'
import { parseStackFlags } from '../src/cli/up.js'
import { readDeploymentFile } from '../src/client/deployment.js'
import { HyperlaneRelayerConfigError } from '../src/crosschain/errors.js'
import { readInboxRoute } from '../src/crosschain/inboxRoute.js'
import { readMirroredAnchor } from '../src/crosschain/mirrorViews.js'
import { readHyperlaneRelayerConfig, relayerAccountFromEnv } from '../src/crosschain/relayerConfig.js'
import { attachChains } from '../src/dashboard/collect/chains.js'
import { createCollector } from '../src/dashboard/collect/collector.js'
import type { ChainsEvent } from '../src/dashboard/events.js'
import { DashboardHub } from '../src/dashboard/server.js'
import { tempHomes } from './utils/cli.js'
import { alive } from './utils/processes.js'

const homes = tempHomes()
const lines: string[] = []
const out: Output = {
  json: false,
  debug: false,
  info: (line) => lines.push(line),
  step: (label) => {
    lines.push(`… ${label}`)
    return (result) => lines.push(`✓ ${label}${result ? `: ${result}` : ''}`)
  },
  result: () => undefined,
}
let home: string
let stack: Stack

beforeAll(async () => {
  home = homes.make('two-chains')
  stack = await startStack(createContext({ home, out }), {
    port: 0,
    host: '127.0.0.1',
    local: true,
    deploy: true,
    blockTime: 0,
    noSponsor: true,
    chains: 2,
    validatorConfirmations: 1,
    mirrorIntervalMs: 200,
    pollingInterval: 200,
  })
}, 120_000)

afterAll(async () => {
  await stack?.stop()
  homes.remove()
})

/** Polls `check` every 100 ms until it returns a value, or fails after `ms`. */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 30_000) {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

test('up --chains 2: both chains deployed by different accounts, records written next to the first, every step printed', () => {
  const b = stack.second
  expect(b).toBeDefined()
  if (!b) return
  expect(b.deployment.chainId).toBe(31338)
  const recordB = readDeploymentFile(join(home, 'deployment-31338.json'))
  expect(recordB.chainId).toBe(31338)
  expect(recordB.keyRegistry).toBe(b.deployment.keyRegistry)
  // Identical addresses would hide a wrong-chain mistake.
  const lower = (a: string) => a.toLowerCase()
  expect(lower(recordB.keyRegistry)).not.toBe(lower(stack.deployment.keyRegistry))
  expect(lower(recordB.messageAnchor)).not.toBe(lower(stack.deployment.messageAnchor))
  expect(lower(b.mirroring.origin.mailbox)).not.toBe(lower(b.mirroring.destination.mailbox))
  expect(lower(b.mirroring.sender)).not.toBe(lower(b.mirroring.mirror))
  expect(b.mirroring.destination.threshold).toBe(2)
  expect(b.validators).toHaveLength(3)
  const mirroring = JSON.parse(readFileSync(join(home, 'crosschain.json'), 'utf8'))
  expect(mirroring.destination.mirror).toBe(b.mirroring.mirror)
  expect(mirroring.origin.chainId).toBe(31337)
  for (const step of [
    'Starting the second anvil (chain id 31338)',
    'Deploying keyRegistry on chain B',
    "Deploying Hyperlane's core on both chains and the mirror pair A → B (2-of-3 validators)",
    'Starting 3 validators (1 confirmation on A) and the mirror keeper',
    'Starting the relay, its anchorer and the Hyperlane relayer',
  ])
    expect(lines.filter((l) => l.startsWith('✓ ')).map((l) => l.slice(2))).toContainEqual(
      expect.stringContaining(step),
    )
  expect(stack.relay.hyperlaneRelayer).toBeDefined()
  // The inbox pair of `send --via hyperlane`, recorded where `send` looks for it, delivered by the same roles.
  const route = readInboxRoute(join(home, 'hyperlane-inbox.json'))
  expect([route.origin.domain, route.destination.domain, route.threshold]).toEqual([31337, 31338, 2])
  expect(route.validatorStores).toEqual(b.relayer.config.validatorStores)
})

test("an anchor on A stalls while the relay node's relayer is off (the dashboard shows it pending) and reaches B once it runs", async () => {
  const b = stack.second!
  const relayer = stack.relay.hyperlaneRelayer!
  const hub = new DashboardHub()
  const collector = createCollector(hub)
  const events: ChainsEvent[] = []
  hub.subscribe((e) => {
    if (e.type === 'chains') events.push(e)
  })
  const detach = attachChains(collector, {
    chains: [
      { name: 'A', rpc: stack.rpc, chainId: 31337 },
      { name: 'B', rpc: b.rpc, chainId: 31338 },
    ],
    mirror: {
      originRpc: stack.rpc,
      destinationRpc: b.rpc,
      keyRegistry: stack.deployment.keyRegistry,
      messageAnchor: stack.deployment.messageAnchor,
      mirror: b.mirroring.mirror,
      fromBlock: b.mirroring.origin.deployBlock,
    },
    intervalMs: 200,
  })
  try {
    await relayer.stop()
    const anchorer = createWalletClient({
      account: privateKeyToAccount(stack.anvil!.accounts[5] as Hex),
      transport: http(stack.rpc),
    })
    const root = pad(toHex(0x15c0de), { size: 32 })
    await anchorRoot(anchorer, { contract: stack.deployment.messageAnchor, root, leafCount: 3 })
    const submitter = anchorer.account.address
    const stalled = await until('the anchor pending on the dashboard', () =>
      events.find((e) => (e.mirror?.pending ?? 0) >= 1),
    )
    expect(stalled.chains.map((c) => [c.name, c.chainId, c.up])).toEqual([
      ['A', 31337, true],
      ['B', 31338, true],
    ])
    expect(stalled.chains[0]!.head).toBeGreaterThan(0)
    expect(stalled.chains[1]!.head).toBeGreaterThan(0)
    const clientB = createPublicClient({ transport: http(b.rpc) })
    expect(await readMirroredAnchor(clientB, { mirror: b.mirroring.mirror, submitter, root })).toBeUndefined()

    relayer.start(200)
    const mirrored = await until('the mirrored anchor on B', () =>
      readMirroredAnchor(clientB, { mirror: b.mirroring.mirror, submitter, root }),
    )
    expect(mirrored.leafCount).toBe(3)
    expect(relayer.stats().delivered).toBeGreaterThanOrEqual(1)
    const caughtUp = await until('the dashboard caught up', () =>
      events.find((e) => e.mirror?.pending === 0 && (e.mirror?.delivered ?? 0) >= 1),
    )
    expect(caughtUp.mirror?.lastLagBlocks).toBeGreaterThanOrEqual(0)
    expect(caughtUp.mirror?.lastLagSeconds).toBeGreaterThanOrEqual(0)
    expect(hub.invalid).toBe(0)
  } finally {
    detach()
    collector.stop()
  }
})

test('the relayer configuration up wrote is what `relay --hyperlane-relayer` reads; a bad file or key is a typed error', () => {
  const file = join(home, 'hyperlane-relayer.json')
  const config = readHyperlaneRelayerConfig(file)
  expect(config.destination.domain).toBe(31338)
  expect(config.validatorStores).toHaveLength(3)
  expect(config.origin.mailbox).toBe(stack.second!.mirroring.origin.mailbox)
  expect(() => relayerAccountFromEnv(config, file, {})).toThrow(HyperlaneRelayerConfigError)
  const key = stack.anvil!.accounts[2] as Hex
  expect(relayerAccountFromEnv(config, file, { [config.keyEnv]: key }).address).toBe(
    privateKeyToAccount(key).address,
  )
  const bad = join(home, 'bad-relayer.json')
  writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), origin: { rpc: 'x' } }))
  const err = (() => {
    try {
      readHyperlaneRelayerConfig(bad)
    } catch (e) {
      return e as HyperlaneRelayerConfigError
    }
  })()
  expect(err?.code).toBe('SEALPOST_CROSSCHAIN_RELAYER_CONFIG')
  expect(() => parseStackFlags(upSpec, ['--chains', '3'], { local: true })).toThrow(ArgumentError)
  expect(() => parseStackFlags(upSpec, ['--chains', '2', '--cluster', '3'], { local: true })).toThrow(
    ArgumentError,
  )
  expect(parseStackFlags(upSpec, ['--chains', '2'], { local: true }).stack.chains).toBe(2)
})

test('the stop leaves neither chain running', async () => {
  const pids = [stack.anvil!.pid, stack.second!.anvil.pid]
  expect(pids.every(alive)).toBe(true)
  await stack.stop()
  expect(pids.filter(alive)).toEqual([])
})
