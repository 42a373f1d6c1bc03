/** The dashboard in a real Chromium, fed by a real chain, relay, anchorer and demo parties. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Client } from '../src/client/Client.js'
import { connectClient } from '../src/client/connect.js'
import { attachClient } from '../src/dashboard/collect/client.js'
import { type Collector, createCollector } from '../src/dashboard/collect/collector.js'
import { attachRelayNode } from '../src/dashboard/collect/node.js'
import { DashboardHub, type DashboardServer, startDashboardServer } from '../src/dashboard/server.js'
import { type DemoTraffic, startDemoTraffic } from '../src/demo/traffic.js'
import { type RelayNode, startRelayNode } from '../src/relay/node.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { chromiumPath, launchChromium } from './utils/chromium.js'
import { testNetwork } from './utils/clients.js'

const root = join(import.meta.dirname, '..')

let ctx: ChainContext
let node: RelayNode
let hub: DashboardHub
let collector: Collector
let dashboard: DashboardServer
let traffic: DemoTraffic
let tester: Client
let browser: Browser
let page: Page
let dir: string
let miner: NodeJS.Timeout

beforeAll(async () => {
  await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'error' })
  ctx = await setupChain()
  const net = testNetwork(ctx)
  dir = mkdtempSync(join(tmpdir(), 'sealpost-dashboard-'))
  node = await startRelayNode({
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    dir: join(dir, 'relay'),
    anchorAccount: privateKeyToAccount(ctx.anvil.accounts[9] as Hex),
    anchor: {
      batchSize: 32,
      batchIntervalMs: 300,
      confirmations: 1,
      pollingIntervalMs: 100,
      recheckIntervalMs: 1000,
    },
    pollingInterval: 200,
  })
  hub = new DashboardHub()
  collector = createCollector(hub)
  hub.emit({
    type: 'hello',
    at: Date.now(),
    chainId: ctx.anvil.chainId,
    rpc: ctx.anvil.rpcUrl,
    relay: node.url,
    keyRegistry: net.deployment.keyRegistry,
    messageAnchor: net.deployment.messageAnchor,
    demo: true,
  })
  attachRelayNode(collector, node)
  dashboard = await startDashboardServer({ hub })
  traffic = await startDemoTraffic({
    network: {
      rpc: ctx.anvil.rpcUrl,
      deployment: net.deployment,
      relay: node.url,
      dir: join(dir, 'parties'),
    },
    keys: ctx.anvil.accounts.slice(1, 7) as Hex[],
    observe: (client, label) => attachClient(collector, client, label),
    intervalMs: 250,
    attackEvery: 3,
  })
  // Automine only mines on transactions; keep blocks coming so messages reach `final`.
  miner = setInterval(() => ctx.mine(1).catch(() => undefined), 500)
  tester = await connectClient({
    account: privateKeyToAccount(ctx.anvil.accounts[8] as Hex),
    home: join(dir, 'tester'),
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    relay: node.url,
    passphrase: 'tester passphrase',
    kdf: { N: 2 ** 10, r: 8, p: 1 },
    pollingInterval: 200,
  })
  attachClient(collector, tester, { name: 'SDK tester' })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  await page.goto(dashboard.url)
}, 120_000)

afterAll(async () => {
  clearInterval(miner)
  await browser?.close()
  await tester?.close()
  await traffic?.stop()
  collector?.stop()
  await dashboard?.stop()
  await node?.stop()
  await ctx?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('dashboard in Chromium', () => {
  test('the page loads and connects to the live stream with the token of the printed URL', async () => {
    expect(dashboard.url).toMatch(/#token=[A-Za-z0-9_-]{24}$/)
    await expect
      .poll(() => page.getByTestId('connection-status').textContent(), { timeout: 15_000 })
      .toMatch(/live|connected/i)
    // The app keeps the token for this tab and takes it out of the address bar.
    expect(page.url()).not.toContain('token=')
    // Without the token (a fresh browser context: no tab storage) the stream refuses it and nothing is shown.
    const context = await browser.newContext()
    try {
      const stranger = await context.newPage()
      await stranger.goto(dashboard.url.split('#')[0] as string)
      await expect
        .poll(() => stranger.getByTestId('connection-status').getAttribute('data-state'), { timeout: 15_000 })
        .toBe('closed')
      expect(await stranger.getByTestId('message-row').count()).toBe(0)
    } finally {
      await context.close()
    }
    expect(existsSync(chromiumPath)).toBe(true)
  })

  test('a message sent through the SDK appears in the flow and reaches final; every check passes', async () => {
    const chat = await tester.conversations.open(traffic.parties.bob.account)
    const sent = await chat.send('hello from the SDK test')
    await page.getByTestId('tab-flow').click()
    const row = page.locator(`[data-testid="message-row"][data-id="${sent.id}"]`)
    await page.getByTestId('message-search').fill(sent.id.slice(0, 12)) // keep the row on screen
    await expect.poll(() => row.count(), { timeout: 30_000 }).toBeGreaterThan(0)
    await expect.poll(() => row.first().getAttribute('data-state'), { timeout: 60_000 }).toBe('final')
    await row.first().click()
    const steps = page.getByTestId('inspector-step')
    await expect.poll(() => steps.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(10)
    const verdicts = await steps.evaluateAll((els) =>
      els.map((e) => [e.getAttribute('data-name'), e.getAttribute('data-ok')]),
    )
    expect(verdicts.filter(([, ok]) => ok !== 'true')).toEqual([])
    expect(verdicts.map(([name]) => name)).toEqual(
      expect.arrayContaining(['signature', 'key-valid-at-block', 'mls', 'sequence']),
    )
    // Sender and recipient both report the receipt: the inspector shows it once.
    await expect.poll(() => page.getByTestId('inspector-receipt').count(), { timeout: 15_000 }).toBe(1)
    // The relay node alone moves the message on too (what a dashboard without hosted clients, `up` without
    // --demo, relies on): delivered from the recipient's ack, anchored from the receipt, final from the chain.
    const fromNode = () =>
      hub
        .replay()
        .filter((e) => e.type === 'message' && e.id === sent.id && e.observer !== 'SDK tester')
        .map((e) =>
          e.type === 'message'
            ? `${e.state} by ${e.observer}${e.state === 'delivered' ? ` to ${e.to}` : ''}`
            : '',
        )
    await expect
      .poll(fromNode, { timeout: 30_000 })
      .toEqual(
        expect.arrayContaining([
          'accepted by relay',
          `delivered by relay to ${traffic.parties.bob.account}`,
          'anchored by anchorer',
          'final by chain',
        ]),
      )
  }, 120_000)

  test('a group shows its members, admins, devices and epoch, live on a removal; the inspector shows per-member signed delivery', async () => {
    const { bob, carol, dave } = traffic.parties
    const team = await tester.groups.create({
      name: 'dashboard-team',
      members: [bob.account, carol.account, dave.account],
      admins: [bob.account],
    })
    await page.getByTestId('tab-groups').click()
    const card = page.locator(`[data-testid="group"][data-id="${team.id.toLowerCase()}"]`)
    await expect.poll(() => card.count(), { timeout: 30_000 }).toBe(1)
    expect(await card.getByTestId('group-name').textContent()).toBe('dashboard-team')
    const members = () =>
      card
        .getByTestId('group-member')
        .evaluateAll((els) =>
          els.map((e) => `${e.getAttribute('data-account')}:${e.getAttribute('data-admin')}`),
        )
    const lower = (a: string) => a.toLowerCase()
    await expect
      .poll(async () => (await members()).sort(), { timeout: 30_000 })
      .toEqual(
        [
          `${lower(tester.account)}:true`,
          `${lower(bob.account)}:true`,
          `${lower(carol.account)}:false`,
          `${lower(dave.account)}:false`,
        ].sort(),
      )
    // Every member device is registered and in the ratchet tree.
    const devices = await card
      .getByTestId('group-device')
      .evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('data-status')}:${e.getAttribute('data-in-group')}`),
      )
    expect(devices.length).toBeGreaterThanOrEqual(4)
    expect(devices.every((d) => d === 'active:true')).toBe(true)
    const epoch = Number(await card.getAttribute('data-epoch'))

    // A group message: its delivery line counts the other members' signed delivery receipts.
    const sent = await team.send('deploy at 5')
    await page.getByTestId('tab-flow').click()
    await page.getByTestId('message-search').fill(sent.id.slice(0, 12))
    const row = page.locator(`[data-testid="message-row"][data-id="${sent.id}"]`)
    await expect.poll(() => row.count(), { timeout: 30_000 }).toBeGreaterThan(0)
    await row.first().click()
    const line = page.getByTestId('delivery-line')
    await expect.poll(() => line.getAttribute('data-members'), { timeout: 30_000 }).toBe('3')
    await expect.poll(() => line.textContent(), { timeout: 60_000 }).toBe('delivered to 3 of 3 members')
    const marks = await page
      .getByTestId('delivery-member')
      .evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('data-account')}:${e.getAttribute('data-delivered')}`),
      )
    expect(marks.sort()).toEqual(
      [`${lower(bob.account)}:true`, `${lower(carol.account)}:true`, `${lower(dave.account)}:true`].sort(),
    )
    expect(await page.getByTestId('inspector-delivery').textContent()).toContain('dashboard-team')

    // A removal moves the epoch and drops the member, live.
    await team.remove([dave.account])
    await page.getByTestId('tab-groups').click()
    await expect
      .poll(async () => Number(await card.getAttribute('data-epoch')), { timeout: 30_000 })
      .toBeGreaterThan(epoch)
    await expect.poll(async () => (await members()).length, { timeout: 30_000 }).toBe(3)
    expect((await members()).some((m) => m.startsWith(lower(dave.account)))).toBe(false)
    // The hub keeps each reporter's newest group state for a late joiner, not every old one.
    const kept = hub.replay().filter((e) => e.type === 'group' && e.id === team.id && e.by === tester.account)
    expect(kept.length).toBe(1)
  }, 180_000)

  test('a tampered message appears as rejected, with the failing step named', async () => {
    await page.getByTestId('tab-flow').click()
    await page.getByTestId('message-search').fill('')
    const rejected = page.locator('[data-testid="message-row"][data-state="rejected"]')
    await expect.poll(() => rejected.count(), { timeout: 60_000 }).toBeGreaterThan(0)
    await rejected.first().click()
    // One card per recipient that refused it (a message forwarded into a group is refused by every member).
    const failed = page.getByTestId('inspector-failed-step')
    await expect.poll(() => failed.count(), { timeout: 15_000 }).toBeGreaterThan(0)
    for (const step of await failed.allTextContents()) expect(step).toMatch(/mls|sequence|key-valid-at-block/)
  }, 90_000)

  test('the charts render with data', async () => {
    await page.getByTestId('tab-metrics').click()
    for (const id of [
      'chart-throughput',
      'chart-latency',
      'chart-queue',
      'chart-lag',
      'chart-gas',
      'chart-batches',
    ]) {
      const canvas = page.getByTestId(id).locator('canvas').first()
      await expect.poll(() => canvas.count(), { timeout: 30_000 }).toBeGreaterThan(0)
      const box = await canvas.boundingBox()
      expect(box?.width ?? 0).toBeGreaterThan(50)
      expect(box?.height ?? 0).toBeGreaterThan(50)
    }
    // Give the charts a few seconds of data, then show the flow (the README's picture).
    await page.waitForTimeout(3000)
    await page.getByTestId('tab-flow').click()
    await page.waitForTimeout(500)
    // The README's picture, only when asked (`tsx scripts/dashboard-screenshot.ts --readme`): a test run leaves the
    // working tree clean.
    const shot = process.env.SEALPOST_SCREENSHOT
    if (shot)
      await page.screenshot({
        path: shot === '1' ? join(root, 'docs', 'img', 'dashboard.png') : resolve(shot),
      })
  }, 90_000)

  test('the chains panel (up --chains 2) shows each chain and the mirroring lag, live', async () => {
    // The collector's figures over real anvils are tested in crosschain.operators.test.ts; here, their rendering.
    const chain = (name: string, chainId: number, head: number) => ({
      name,
      chainId,
      rpc: `http://127.0.0.1:${chainId}`,
      up: true,
      head,
      headAgeSeconds: 0.4,
    })
    const mirror = { pending: 2, lagBlocks: 3, lagSeconds: 3.2, delivered: 5 }
    hub.emit({
      type: 'chains',
      at: Date.now(),
      chains: [chain('A', 31337, 120), chain('B', 31338, 80)],
      mirror,
    })
    await page.getByTestId('tab-metrics').click()
    const panel = page.getByTestId('chains')
    await expect.poll(() => panel.getByTestId('chain').count(), { timeout: 10_000 }).toBe(2)
    expect(await panel.getByTestId('height').allTextContents()).toEqual(['120', '80'])
    expect(await panel.getByTestId('mirror-lag').textContent()).toContain(
      '2 not yet on B, oldest 3 blocks / 3.2 s',
    )
    hub.emit({
      type: 'chains',
      at: Date.now(),
      chains: [chain('A', 31337, 121), { ...chain('B', 31338, 0), up: false }],
      mirror: { ...mirror, pending: 0, lastLagBlocks: 4, lastLagSeconds: 4.1 },
    })
    await expect.poll(() => panel.getByTestId('mirror-lag').textContent()).toContain('caught up')
    expect(await panel.getByTestId('health').allTextContents()).toEqual(['● up', '● down'])
  }, 30_000)

  test('alerts link rejections to their messages; no plaintext but what the parties gave', async () => {
    await page.getByTestId('tab-alerts').click()
    await expect.poll(() => page.getByTestId('alert-row').count(), { timeout: 30_000 }).toBeGreaterThan(0)
    const codes = await page.getByTestId('alert-row').allTextContents()
    expect(codes.join(' ')).toMatch(/SEALPOST_(MLS_REJECTED|STALE_SEQ|KEY_REVOKED)/)
    // Alice's phone was linked, rotated and revoked: her peers' key-change alerts are listed too.
    expect(await page.locator('[data-testid="alert-row"][data-code="KEY_CHANGE"]').count()).toBeGreaterThan(0)
    // The relay sees ciphertext only: nothing a relay event carries contains the demo's plaintext.
    const relayEvents = hub.replay().filter((e) => e.type === 'message' && e.observer === 'relay')
    expect(relayEvents.length).toBeGreaterThan(0)
    expect(relayEvents.every((e) => e.type === 'message' && e.text === undefined)).toBe(true)
    // A refused message names its sender as the relay saw it, never the recipient that refused it.
    const refused = hub.replay().filter((e) => e.type === 'message' && e.state === 'rejected')
    expect(refused.length).toBeGreaterThan(0)
    expect(refused.filter((e) => e.type === 'message' && e.to.includes(e.from))).toEqual([])
    // A refused login is one alert (the relay reports it as 'auth' and again as its ERROR frame's 'rejected').
    const revoked = hub.replay().filter((e) => e.type === 'alert' && e.code === 'RELAY_DEVICE_REVOKED')
    expect(revoked.filter((e) => e.type === 'alert' && e.deviceId === undefined)).toEqual([])
  }, 60_000)

  test("the Keys tab shows a contact's key changes and its current safety number", async () => {
    await page.getByTestId('tab-keys').click()
    // Alice's phone was linked, rotated and revoked; Bob's and Carol's clients reported each change and her safety number.
    const alice = page.locator(
      '[data-testid="key-account"]:has([data-testid="key-change"][data-kind="rotated"])',
    )
    await expect.poll(() => alice.count(), { timeout: 30_000 }).toBe(1)
    expect(await alice.locator('[data-testid="key-change"][data-kind="revoked"]').count()).toBe(1)
    await expect
      .poll(() => alice.getByTestId('key-safety-number-value').textContent(), { timeout: 30_000 })
      .toMatch(/^(\d{5} ){11}\d{5}$/)
  }, 60_000)

  test('at 390×844 (a phone) nothing is wider than the screen on any tab, and every tab is reachable', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } })
    try {
      await phone.goto(dashboard.url)
      await expect
        .poll(() => phone.getByTestId('message-row').count(), { timeout: 15_000 })
        .toBeGreaterThan(0)
      for (const tab of ['flow', 'inspector', 'logs', 'metrics', 'keys', 'alerts', 'groups']) {
        const button = phone.getByTestId(`tab-${tab}`)
        const box = await button.boundingBox()
        expect(box && box.x >= 0 && box.x + box.width <= 390, `tab ${tab} on screen`).toBe(true)
        if (tab === 'inspector') {
          await phone.getByTestId('tab-flow').click()
          await phone.getByTestId('message-row').first().click()
        }
        await button.click()
        await phone.waitForTimeout(tab === 'metrics' ? 1000 : 300)
        // Anything visible that ends past the right edge (inner scroll areas excepted: a table may scroll).
        const widths = (await phone.evaluate(`({
          page: document.documentElement.scrollWidth,
          cut: [...document.querySelectorAll('.btn, .chip, .badge, .tab, .card, .tile')]
            .filter((el) => {
              const r = el.getBoundingClientRect()
              return r.width > 0 && r.right > 390.5 && !el.closest('.table-wrap, .vlist')
            })
            .map((el) => el.className + ': ' + (el.textContent ?? '').slice(0, 30)),
        })`)) as { page: number; cut: string[] }
        expect(widths, `tab ${tab}`).toEqual({ page: expect.any(Number), cut: [] })
        expect(widths.page, `tab ${tab}`).toBeLessThanOrEqual(390)
      }
      if (process.env.SEALPOST_SCREENSHOT_PHONE)
        await phone.screenshot({ path: resolve(process.env.SEALPOST_SCREENSHOT_PHONE) })
    } finally {
      await phone.close()
    }
  }, 60_000)
})
