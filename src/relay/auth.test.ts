import type { Hex } from 'viem'
import { afterEach, describe, expect, test } from 'vitest'
import {
  createTestRelay,
  type TestDevice,
  type TestRelay,
  testDevice,
  tick,
} from '../../test/utils/relayContext.js'
import { type ClientFrame, relayAuthMessage } from '../protocol/relayFrames.js'
import { inboxTopic } from '../protocol/topics.js'
import { followRegistry, handleAuth, sendChallenge, sweepExpiredChallenges } from './auth.js'
import type { RelayConnection } from './context.js'
import { sweepRegistryLookups, takeRegistryLookup } from './registryLookup.js'

let relay: TestRelay | undefined
afterEach(() => relay?.close())

function authFrame(conn: RelayConnection, device: TestDevice): Extract<ClientFrame, { type: 'auth' }> {
  const challenge = `0x${conn.challenge!.toString('hex')}` as Hex
  const { account, deviceId } = device.record
  const signature =
    `0x${Buffer.from(device.key.sign(relayAuthMessage({ challenge, account, deviceId }))).toString('hex')}` as Hex
  return { type: 'auth', account, deviceId, signature }
}

describe('handleAuth', () => {
  test('a registered device signing the challenge gets AUTH_OK and joins the device index', async () => {
    relay = createTestRelay()
    const device = testDevice()
    relay.registry.add(device.record)
    const events: unknown[] = []
    relay.events.on('auth', (e) => events.push(e))
    const { conn, socket } = relay.connect()
    sendChallenge(relay.ctx, conn)
    expect(socket.take()).toEqual([
      expect.objectContaining({ type: 'challenge', chainId: 31337, expiresAt: conn.expiresAt }),
    ])
    await handleAuth(relay.ctx, conn, authFrame(conn, device))
    expect(socket.take()).toEqual([
      { type: 'auth-ok', account: device.record.account, deviceId: device.deviceId },
    ])
    expect(conn.deviceId).toBe(device.deviceId)
    expect(relay.ctx.devices.get(device.deviceId)?.conns.has(conn)).toBe(true)
    expect(events).toEqual([{ account: device.record.account, deviceId: device.deviceId, ok: true }])
    // A second AUTH on the same connection: refused, the connection stays.
    await handleAuth(relay.ctx, conn, authFrame({ ...conn, challenge: Buffer.alloc(32) }, device))
    expect(socket.take()).toEqual([{ type: 'error', reqId: 0, code: 'RELAY_AUTH_FAILED' }])
    expect(conn.closing).toBe(false)
  })

  test.each([
    ['an expired challenge', 'RELAY_AUTH_FAILED'],
    ['a reused challenge', 'RELAY_AUTH_FAILED'],
    ['a bad signature', 'RELAY_AUTH_FAILED'],
    ['an unknown device', 'RELAY_UNKNOWN_DEVICE'],
    ['the wrong account', 'RELAY_UNKNOWN_DEVICE'],
    ['a revoked device', 'RELAY_DEVICE_REVOKED'],
    ['a failing registry sync', 'RELAY_INTERNAL'],
  ])('%s is refused with %s and the connection closed', async (attack, code) => {
    let clock = 1_000
    relay = createTestRelay({ now: () => clock })
    const device = testDevice()
    if (attack !== 'an unknown device' && attack !== 'a failing registry sync')
      relay.registry.add(device.record)
    if (attack === 'a revoked device') relay.registry.revoke(device.deviceId)
    if (attack === 'a failing registry sync') relay.registry.failSync = new Error('rpc down')
    const errors: unknown[] = []
    relay.events.on('error', (e) => errors.push(e))
    const { conn, socket } = relay.connect()
    let frame = authFrame(conn, device)
    if (attack === 'an expired challenge') clock += relay.ctx.limits.challengeTtlMs + 1
    if (attack === 'a reused challenge') conn.challenge = undefined
    if (attack === 'a bad signature')
      frame = { ...frame, signature: authFrame(relay.connect().conn, device).signature }
    if (attack === 'the wrong account') frame = { ...frame, account: testDevice().record.account }
    await handleAuth(relay.ctx, conn, frame)
    expect(socket.take()).toEqual([{ type: 'error', reqId: 0, code }])
    expect(conn.deviceId).toBeUndefined()
    expect(conn.closing).toBe(true)
    expect(relay.ctx.devices.size).toBe(0)
    expect(errors).toHaveLength(attack === 'a failing registry sync' ? 1 : 0)
    await tick(150)
    expect(socket.closed).toEqual({ code: 1008, reason: code })
  })

  test('a device the registry has not seen yet is found after one sync', async () => {
    relay = createTestRelay()
    const device = testDevice()
    relay.registry.pending.set(device.deviceId, device.record)
    const { conn, socket } = relay.connect()
    await handleAuth(relay.ctx, conn, authFrame(conn, device))
    expect(socket.take()).toMatchObject([{ type: 'auth-ok' }])
    expect(relay.registry.syncs).toBe(1)
  })
})

describe('registry look-ups', () => {
  test('AUTH naming unknown devices spends the IP budget; beyond it RELAY_LOOKUP_LIMITED without a sync', async () => {
    let clock = 0
    relay = createTestRelay({ now: () => clock, limits: { registryLookupsPerIpPerMinute: 2 } })
    const codes: unknown[] = []
    for (let i = 0; i < 3; i++) {
      const { conn, socket } = relay.connect()
      await handleAuth(relay.ctx, conn, authFrame(conn, testDevice()))
      codes.push(socket.take())
    }
    expect(codes).toEqual([
      [{ type: 'error', reqId: 0, code: 'RELAY_UNKNOWN_DEVICE' }],
      [{ type: 'error', reqId: 0, code: 'RELAY_UNKNOWN_DEVICE' }],
      [{ type: 'error', reqId: 0, code: 'RELAY_LOOKUP_LIMITED' }],
    ])
    expect(relay.registry.syncs).toBe(2)
    // A known device needs no look-up: it authenticates with the budget spent.
    const known = testDevice()
    relay.registry.add(known.record)
    const { conn, socket } = relay.connect()
    await handleAuth(relay.ctx, conn, authFrame(conn, known))
    expect(socket.take()).toMatchObject([{ type: 'auth-ok' }])
    // Other IPs have their own budget; the budget refills over a minute, and full buckets are forgotten.
    expect(takeRegistryLookup(relay.ctx, '10.0.0.9')).toBe(true)
    expect(takeRegistryLookup(relay.ctx, '127.0.0.1')).toBe(false)
    clock += 30_000
    expect(takeRegistryLookup(relay.ctx, '127.0.0.1')).toBe(true)
    expect(takeRegistryLookup(relay.ctx, '127.0.0.1')).toBe(false)
    clock += 60_000
    sweepRegistryLookups(relay.ctx)
    expect([...relay.ctx.lookups.keys()]).toEqual([])
  })
})

describe('followRegistry and sweepExpiredChallenges', () => {
  test('DeviceAdded claims the inbox, DeviceRevoked fails open connections; unfollowing stops both', async () => {
    relay = createTestRelay()
    const device = testDevice()
    const unfollow = followRegistry(relay.ctx)
    relay.registry.add(device.record)
    expect(relay.ctx.inboxes.get(inboxTopic(device.deviceId))).toBe(device.deviceId)
    const { conn, socket } = relay.connect(device)
    relay.registry.revoke(device.deviceId)
    expect(socket.take()).toEqual([{ type: 'error', reqId: 0, code: 'RELAY_DEVICE_REVOKED' }])
    expect(conn.closing).toBe(true)
    expect(relay.ctx.devices.size).toBe(0)
    unfollow()
    const later = testDevice()
    relay.registry.add(later.record)
    expect(relay.ctx.inboxes.has(inboxTopic(later.deviceId))).toBe(false)
  })

  test('unauthenticated connections past their challenge expiry are failed', () => {
    let clock = 0
    relay = createTestRelay({ now: () => clock })
    const stale = relay.connect()
    const authed = relay.connect(testDevice())
    clock = relay.ctx.limits.challengeTtlMs + 1
    const fresh = relay.connect()
    sweepExpiredChallenges(relay.ctx, [stale.conn, authed.conn, fresh.conn])
    expect(stale.socket.take()).toEqual([{ type: 'error', reqId: 0, code: 'RELAY_AUTH_FAILED' }])
    expect(authed.socket.frames).toEqual([])
    expect(fresh.socket.frames).toEqual([])
  })
})
