/** The live IDS on a real relay node: attacks raise alerts, the relay responds (throttle, quarantine), the alert-log head is anchored; honest traffic nothing. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Hex, keccak256, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { getRegistryNonce, revokeDevice } from '../../src/chain/keyRegistry.js'
import { anchorRoot } from '../../src/chain/messageAnchor.js'
import { signRevokeDevice } from '../../src/chain/registryAuthorizations.js'
import { writeDeployment } from '../../src/client/deployment.js'
import { alertEntryHash, verifyAlertLog } from '../../src/ids/alertLog.js'
import type { Alert } from '../../src/ids/alerts.js'
import { IDS_FILES } from '../../src/ids/liveIds.js'
import { createEnvelope, encodeEnvelope } from '../../src/protocol/envelope.js'
import { inboxTopic } from '../../src/protocol/topics.js'
import { type RelayNode, startRelayNode } from '../../src/relay/node.js'
import { type ChainContext, setupChain } from '../utils/anvil.js'
import { sealpostInProcess } from '../utils/cli.js'
import { testNetwork } from '../utils/clients.js'
import { newDevice, type RawDevice, RawRelayClient, registerDevice } from './rawRelayClient.js'

let ctx: ChainContext
let dir: string
let node: RelayNode
let alice: RawDevice
let bob: RawDevice
let victim: RawDevice
let mallory: RawDevice
let revoked: RawDevice
const ATTACKER_IP = '127.0.0.66'
const STUFFING_ATTEMPTS = 24

beforeAll(async () => {
  ctx = await setupChain()
  dir = mkdtempSync(join(tmpdir(), 'sealpost-ids-live-'))
  ;[alice, bob, victim, mallory, revoked] = [1, 2, 3, 5, 6].map((i) => newDevice(ctx.walletClients[i]!)) as [
    RawDevice,
    RawDevice,
    RawDevice,
    RawDevice,
    RawDevice,
  ]
  for (const d of [alice, bob, victim, mallory, revoked]) await registerDevice(ctx, d)
  node = await startRelayNode({
    rpc: ctx.anvil.rpcUrl,
    deployment: testNetwork(ctx).deployment,
    dir,
    pollingInterval: 100,
    anchorAccount: privateKeyToAccount(ctx.anvil.accounts[9] as Hex),
    anchor: { batchIntervalMs: 200, confirmations: 1, pollingIntervalMs: 50 },
    // No warm-up: the models score the first window (a fresh relay has learned nothing yet).
    ids: { config: { warmupMs: 0 }, events: true },
  })
  writeDeployment(dir, testNetwork(ctx).deployment) // for `sealpost ids verify` (its receipts on chain)
}, 60_000)

afterAll(async () => {
  await node?.stop()
  await ctx?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

// First: the next test closes the IDS window early, after which events of the same minute are out of order.
test("a root anchored by an account that is not the relay's anchorer is an anchor-front-running alert", async () => {
  const root = keccak256(toHex('a root the relay never built'))
  const stranger = ctx.walletClients[4]!
  await anchorRoot(stranger, { contract: ctx.contracts.messageAnchor, root, leafCount: 1 })
  const frontRunning = () =>
    verifyAlertLog(readText(join(node.stateDir, IDS_FILES.alerts)))
      .map((e) => e.alert)
      .filter((a) => a.category === 'anchor-front-running')
  await waitFor(() => frontRunning().length > 0, 20_000)
  expect(frontRunning().map((a) => a.entities)).toEqual([
    [`submitter:${stranger.account!.address.toLowerCase()}`],
  ])
}, 30_000)

test('credential stuffing and a revoked device are alerts with evidence in a verifiable log; honest traffic raises none', async () => {
  // Honest traffic: Bob subscribes to his inbox, Alice publishes two envelopes to it.
  const b = await RawRelayClient.connect(node.url, '127.0.0.3')
  expect(await b.auth(bob)).toMatchObject({ type: 'auth-ok' })
  const inbox = inboxTopic(bob.deviceId)
  const preimage = { kind: 'inbox' as const, deviceId: bob.deviceId }
  expect(await b.request({ type: 'subscribe', reqId: 1, topic: inbox, after: 0n, preimage })).toMatchObject({
    type: 'ok',
  })
  const a = await RawRelayClient.connect(node.url, '127.0.0.2')
  expect(await a.auth(alice)).toMatchObject({ type: 'auth-ok' })
  for (let i = 1; i <= 2; i++) {
    const envelope = encodeEnvelope(
      createEnvelope({ kind: 'welcome', topic: inbox, payload: Uint8Array.of(i) }),
    )
    expect(await a.request({ type: 'publish', reqId: i, envelope })).toMatchObject({ type: 'ok' })
    await b.next((f) => f.type === 'deliver')
  }

  // Credential stuffing: Mallory tries the victim's device id with keys that are not its key, one connection each.
  for (let i = 0; i < STUFFING_ATTEMPTS; i++) {
    const m = await RawRelayClient.connect(node.url, ATTACKER_IP)
    const forged = { key: mallory.key, account: victim.account, deviceId: victim.deviceId }
    expect(await m.auth(forged)).toMatchObject({ type: 'error', code: 'RELAY_AUTH_FAILED' })
    m.close()
  }

  // A revoked device tries to come back.
  await revoke(revoked)
  await waitFor(() => node.watcher.device(revoked.deviceId)?.revokedAt !== undefined)
  const r = await RawRelayClient.connect(node.url, '127.0.0.7')
  expect(await r.auth(revoked)).toMatchObject({ type: 'error', code: 'RELAY_DEVICE_REVOKED' })
  for (const c of [a, b, r]) c.close()

  const ids = node.ids!
  await waitFor(() => {
    ids.drain()
    return ids.engine.stats.ingested >= STUFFING_ATTEMPTS + 6
  })
  ids.closeWindow()

  const entries = verifyAlertLog(readFileSync(join(node.stateDir, IDS_FILES.alerts), 'utf8'))
  const alerts = entries.map((e) => e.alert)
  const revokedAlert = alerts.find((x) => x.category === 'revoked-key-use')
  expect(revokedAlert).toMatchObject({
    severity: 'critical',
    detector: { type: 'rule', name: 'revoked-key' },
    evidence: { device: lower(revoked.deviceId), ip: '127.0.0.7', accepted: false },
  })
  const stuffing = alerts.filter((x) => x.category === 'credential-stuffing')
  const byIp = stuffing.find((x) => x.entities.includes(`ip:${ATTACKER_IP}`))
  expect(byIp).toMatchObject({ detector: { type: 'anomaly', name: 'ip.authFails' } })
  expect(byIp?.evidence.count).toBeGreaterThanOrEqual(STUFFING_ATTEMPTS)
  // Honest traffic: no alert names Alice, Bob or their IPs; nothing but the two attacks was raised.
  const honest = [alice, bob].map((d) => `device:${lower(d.deviceId)}`).concat('ip:127.0.0.2', 'ip:127.0.0.3')
  expect(alerts.filter((x: Alert) => x.entities.some((e) => honest.includes(e)))).toEqual([])
  // Beside the previous test's front-running alert, only these two.
  expect(new Set(alerts.map((x) => x.category))).toEqual(
    new Set(['anchor-front-running', 'credential-stuffing', 'revoked-key-use']),
  )
}, 60_000)

test('the relay responds: the stuffing IP is throttled (one AUTH per interval); a quarantine refuses publishes until lifted', async () => {
  // Credential stuffing is certain, so its IP is throttled by default; the revoked device's IP too.
  expect(node.ids!.responses.throttledUntil(`ip:${ATTACKER_IP}`, Date.now())).toBeGreaterThan(Date.now())
  expect(node.ids!.responses.throttledUntil('ip:127.0.0.7', Date.now())).toBeGreaterThan(Date.now())
  const first = await RawRelayClient.connect(node.url, ATTACKER_IP)
  expect(await first.auth(mallory)).toMatchObject({ type: 'auth-ok' })
  const second = await RawRelayClient.connect(node.url, ATTACKER_IP)
  expect(await second.auth(mallory)).toMatchObject({ type: 'error', code: 'RELAY_RATE_LIMITED' })
  for (const c of [first, second]) c.close()
  // Honest IPs are not throttled.
  const a = await RawRelayClient.connect(node.url, '127.0.0.2')
  expect(await a.auth(alice)).toMatchObject({ type: 'auth-ok' })

  // An operator quarantines Alice's device (as a configured category would); the relay applies it within a second.
  const ids = ['ids', 'quarantine']
  const aliceId = lower(alice.deviceId)
  expect((await cli([...ids, 'add', '--dir', node.stateDir, '--device', aliceId])).code).toBe(0)
  await waitFor(() => node.ids!.responses.isQuarantined(`device:${aliceId}`))
  const inbox = inboxTopic(bob.deviceId)
  const envelope = (i: number) =>
    encodeEnvelope(createEnvelope({ kind: 'welcome', topic: inbox, payload: Uint8Array.of(10 + i) }))
  expect(await a.request({ type: 'publish', reqId: 1, envelope: envelope(1) })).toEqual({
    type: 'error',
    reqId: 1,
    code: 'RELAY_QUARANTINED',
  })
  const preimage = { kind: 'inbox' as const, deviceId: alice.deviceId }
  const own = inboxTopic(alice.deviceId)
  expect(await a.request({ type: 'subscribe', reqId: 2, topic: own, after: 0n, preimage })).toMatchObject({
    type: 'ok',
  })
  const list = await cli([...ids, 'list', '--dir', node.stateDir])
  expect(list.stdout).toContain(`${aliceId}  since`)
  expect(list.stdout).toContain('1 quarantined')

  expect(
    (await cli([...ids, 'lift', '--dir', node.stateDir, '--device', aliceId, '--by', 'carol'])).code,
  ).toBe(0)
  await waitFor(() => !node.ids!.responses.isQuarantined(`device:${aliceId}`))
  expect(await a.request({ type: 'publish', reqId: 3, envelope: envelope(3) })).toMatchObject({ type: 'ok' })
  const again = await cli([...ids, 'lift', '--dir', node.stateDir, '--device', aliceId])
  expect(again.code).toBe(1)
  expect(again.stderr).toContain('IdsQuarantineNotFoundError [SEALPOST_IDS_QUARANTINE_NOT_FOUND]')
  a.close()
}, 60_000)

test('the alert-log head is anchored; ids verify checks it on chain and fails a recomputed tampered entry and a cut', async () => {
  const ids = node.ids!
  const anchorer = node.anchorer!
  const leaf = ids.anchorHead()
  expect(leaf).toBeDefined()
  await anchorer.flush()
  const logPath = join(node.stateDir, IDS_FILES.alerts)
  const anchorsPath = join(node.stateDir, IDS_FILES.anchors)
  await waitFor(() => readText(anchorsPath).includes(leaf as string))
  const size = ids.log.size
  const verify = (log: string) =>
    cli(['--rpc', ctx.anvil.rpcUrl, 'ids', 'verify', '--log', log, '--anchors', anchorsPath])
  const ok = await verify(logPath)
  expect(ok.code).toBe(0)
  expect(ok.stdout).toContain(`anchored: 1 heads, up to entry ${size - 1} (receipts verified on chain)`)

  // Tamper: lower the severity of entry 0 and recompute the whole chain, so the hash chain alone checks.
  const entries = verifyAlertLog(readText(logPath))
  let prev = `0x${'00'.repeat(32)}`
  const forged = entries.map((e, i) => {
    const alert = i === 0 ? { ...e.alert, severity: 'low' as const } : e.alert
    const hash = alertEntryHash(i, alert, prev)
    const entry = { index: i, alert, prevHash: prev, hash }
    prev = hash
    return JSON.stringify(entry)
  })
  const tampered = join(dir, 'tampered.jsonl')
  writeFileSync(tampered, `${forged.join('\n')}\n`)
  expect(verifyAlertLog(readText(tampered))).toHaveLength(size)
  const bad = await verify(tampered)
  expect(bad.code).toBe(1)
  expect(bad.stderr).toContain('IdsAlertLogTamperedError [SEALPOST_IDS_ALERT_LOG_TAMPERED]')
  expect(bad.stderr).toContain('hash differs from the anchored head')

  // Truncate: drop the last entry (the chain of what is left still checks).
  const cut = join(dir, 'cut.jsonl')
  writeFileSync(cut, `${readText(logPath).trim().split('\n').slice(0, -1).join('\n')}\n`)
  const short = await verify(cut)
  expect(short.code).toBe(1)
  expect(short.stderr).toContain('IdsAlertLogTruncatedError [SEALPOST_IDS_ALERT_LOG_TRUNCATED]')
}, 60_000)

test('the event stream on disk is what the engine read: the relay and chain events, as JSON lines', async () => {
  await node.ids!.stop()
  const kinds = readText(join(node.stateDir, IDS_FILES.events))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).kind as string)
  expect(new Set(kinds)).toEqual(new Set(['auth', 'subscribe', 'publish', 'device-revoked', 'anchor']))
})

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/** Runs the CLI in process with --home `dir` (its deployment.json), capturing its output. */
const cli = (args: string[]) => sealpostInProcess(['--home', dir, ...args])

async function revoke(device: RawDevice): Promise<void> {
  const registry = ctx.contracts.keyRegistry
  const account = device.account
  const nonce = await getRegistryNonce(ctx.publicClient, { registry, account })
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
  const chainId = ctx.anvil.chainId
  const signature = await signRevokeDevice(device.wallet, {
    registry,
    chainId,
    deviceId: device.deviceId,
    nonce,
    deadline,
  })
  await revokeDevice(ctx.walletClient, {
    registry,
    account,
    deviceId: device.deviceId,
    nonce,
    deadline,
    signature,
  })
}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function lower(hex: Hex): string {
  return hex.toLowerCase()
}
