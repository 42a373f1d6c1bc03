/**
 * "Approve a device" in the dashboard's Keys tab, in a real Chromium: a link request made by a new device is pasted,
 * checked in the browser, signed (EIP-712 AddDevice) by an injected EIP-1193 wallet backed by an unlocked anvil
 * account, and submitted through the dashboard's forward to the relay's sponsor; the device becomes active on chain.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import type { Address, Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { build } from 'vite'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { isDeviceValidAt } from '../src/chain/keyRegistry.js'
import { createLinkRequest } from '../src/client/linkDevice.js'
import { DashboardHub, type DashboardServer, startDashboardServer } from '../src/dashboard/server.js'
import { encodeLinkRequest, LINK_URI_PREFIX } from '../src/protocol/linkRequest.js'
import { type RelayNode, startRelayNode } from '../src/relay/node.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { launchChromium } from './utils/chromium.js'
import { type TestNetwork, testKdf, testNetwork, testPassphrase } from './utils/clients.js'

const root = join(import.meta.dirname, '..')

let ctx: ChainContext
let net: TestNetwork
let node: RelayNode
let dashboard: DashboardServer
let browser: Browser
let page: Page
let dir: string
/** The wallet's account: an unlocked anvil dev account (anvil signs eth_signTypedData_v4 for it). */
let owner: Address

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealpost-link-browser-'))
  // Its own build directory: the other dashboard test may rebuild web/dist at the same time.
  await build({
    configFile: join(root, 'web', 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir: join(dir, 'web'), emptyOutDir: true },
  })
  ctx = await setupChain()
  net = testNetwork(ctx)
  owner = privateKeyToAccount(ctx.anvil.accounts[5] as Hex).address
  node = await startRelayNode({
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    dir: join(dir, 'relay'),
    anchorAccount: privateKeyToAccount(ctx.anvil.accounts[9] as Hex),
    sponsor: { account: privateKeyToAccount(ctx.anvil.accounts[8] as Hex) },
    pollingInterval: 100,
  })
  const hub = new DashboardHub()
  hub.emit({
    type: 'hello',
    at: Date.now(),
    chainId: ctx.anvil.chainId,
    rpc: ctx.anvil.rpcUrl,
    relay: node.url,
    keyRegistry: net.deployment.keyRegistry,
    messageAnchor: net.deployment.messageAnchor,
    demo: false,
  })
  dashboard = await startDashboardServer({ hub, staticDir: join(dir, 'web') })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  // The injected wallet: window.ethereum.request goes to anvil's JSON-RPC (through the test, since the page's CSP
  // only lets it reach its own origin), and eth_requestAccounts answers with the one account this wallet holds.
  const rpcCalls: string[] = []
  await page.exposeFunction('__anvilRpc', async (method: string, params: unknown[]) => {
    rpcCalls.push(method)
    if (method === 'eth_requestAccounts') return [owner]
    const response = await fetch(ctx.anvil.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    })
    const body = (await response.json()) as { result?: unknown; error?: { message: string } }
    if (body.error) throw new Error(body.error.message)
    return body.result
  })
  await page.addInitScript(() => {
    const bridge = (globalThis as unknown as { __anvilRpc(m: string, p: unknown[]): Promise<unknown> })
      .__anvilRpc
    ;(globalThis as unknown as { ethereum: unknown }).ethereum = {
      request: ({ method, params }: { method: string; params?: unknown[] }) => bridge(method, params ?? []),
    }
  })
  await page.goto(dashboard.url)
  await page.getByTestId('tab-keys').click()
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await dashboard?.stop()
  await node?.stop()
  await net?.cleanup()
  await ctx?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const newDevice = (name: string) =>
  createLinkRequest({
    home: mkdtempSync(join(dir, 'device-')),
    name,
    account: owner,
    passphrase: testPassphrase,
    kdf: testKdf,
    deployment: net.deployment,
  })

test('a request altered in transit is shown with its fingerprints and cannot be approved', async () => {
  const tablet = await newDevice('tablet')
  const bytes = encodeLinkRequest(tablet.request)
  bytes[74] = 'T'.charCodeAt(0)
  await page
    .getByTestId('link-request-input')
    .fill(`${LINK_URI_PREFIX}${Buffer.from(bytes).toString('base64url')}`)
  await page.getByTestId('link-check').click()
  await expect.poll(() => page.getByTestId('link-status').getAttribute('data-state')).toBe('refused')
  expect(await page.getByTestId('link-status').textContent()).toContain('Altered in transit')
  expect(await page.getByTestId('link-fp-p256').textContent()).toBe(tablet.fingerprints.p256)
  expect(await page.getByTestId('link-approve').isDisabled()).toBe(true)
}, 60_000)

test('the sponsor forward needs this run’s token', async () => {
  const url = new URL(dashboard.url)
  const response = await fetch(`${url.origin}/sponsor`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url.origin },
    body: '{}',
  })
  expect(response.status).toBe(401)
})

test('paste → check → approve with the wallet → the device is active on chain', async () => {
  const tablet = await newDevice('tablet')
  await page.getByTestId('link-request-input').fill(tablet.uri)
  await page.getByTestId('link-check').click()
  await expect.poll(() => page.getByTestId('link-status').getAttribute('data-state')).toBe('checked')
  expect(await page.getByTestId('link-name').textContent()).toBe('tablet')
  expect(await page.getByTestId('link-fp-p256').textContent()).toBe(tablet.fingerprints.p256)
  expect(await page.getByTestId('link-fp-mls').textContent()).toBe(tablet.fingerprints.mls)
  expect(await page.getByTestId('link-device-id').textContent()).toBe(tablet.fingerprints.deviceId)
  await page.getByTestId('link-approve').click()
  await expect
    .poll(() => page.getByTestId('link-status').getAttribute('data-state'), { timeout: 60_000 })
    .toBe('approved')
  const text = (await page.getByTestId('link-status').textContent()) ?? ''
  const block = BigInt(/active since block (\d+)/.exec(text)?.[1] ?? '0')
  expect(
    await isDeviceValidAt(ctx.publicClient, {
      registry: net.deployment.keyRegistry,
      account: owner,
      deviceId: tablet.fingerprints.deviceId,
      at: block,
    }),
  ).toBe(true)

  // The same request again passes the browser's checks, but the registry never takes a key twice: refused.
  await page.getByTestId('link-request-input').fill(tablet.uri)
  await page.getByTestId('link-check').click()
  await expect.poll(() => page.getByTestId('link-status').getAttribute('data-state')).toBe('checked')
  await page.getByTestId('link-approve').click()
  await expect
    .poll(() => page.getByTestId('link-status').getAttribute('data-state'), { timeout: 60_000 })
    .toBe('failed')
  expect(await page.getByTestId('link-status').textContent()).toMatch(/Already approved|DuplicateKey/)
}, 120_000)
