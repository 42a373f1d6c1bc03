/** The live IDS on a real relay node: credential stuffing and a revoked device raise alerts with evidence; honest traffic nothing. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { getRegistryNonce, revokeDevice } from '../../src/chain/keyRegistry.js'
import { signRevokeDevice } from '../../src/chain/registryAuthorizations.js'
import { verifyAlertLog } from '../../src/ids/alertLog.js'
import type { Alert } from '../../src/ids/alerts.js'
import { IDS_FILES } from '../../src/ids/liveIds.js'
import { createEnvelope, encodeEnvelope } from '../../src/protocol/envelope.js'
import { inboxTopic } from '../../src/protocol/topics.js'
import { type RelayNode, startRelayNode } from '../../src/relay/node.js'
import { type ChainContext, setupChain } from '../utils/anvil.js'
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
    // No warm-up: the models score the first window (a fresh relay has learned nothing yet).
    ids: { config: { warmupMs: 0 } },
  })
}, 60_000)

afterAll(async () => {
  await node?.stop()
  await ctx?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

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
  expect(new Set(alerts.map((x) => x.category))).toEqual(new Set(['credential-stuffing', 'revoked-key-use']))
  // The event stream on disk is what the engine read: the relay's and the chain's events, as JSON lines.
  await ids.stop()
  const kinds = readFileSync(join(node.stateDir, IDS_FILES.events), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).kind as string)
  expect(new Set(kinds)).toEqual(new Set(['auth', 'subscribe', 'publish', 'device-revoked']))
}, 60_000)

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
