/** Attack (issue 9, item 9): reading another device's inbox, and making the relay re-sync its registry on demand. */
import { randomBytes } from 'node:crypto'
import { getAddress, type Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { DeviceSigningKey } from '../../src/crypto/p256.js'
import { createEnvelope, encodeEnvelope } from '../../src/protocol/envelope.js'
import { inboxTopic } from '../../src/protocol/topics.js'
import type { RelayLimits } from '../../src/relay/RelayServer.js'
import { startCountingRelay } from './countingRelay.js'
import { inboxWorld } from './inbox-setup.js'
import { newDevice, registerDevice } from './rawRelayClient.js'

const world = inboxWorld('inbox')

/** A relay on port 0 over SQLite; `syncs` counts the registry syncs made after start. */
function startRelay(limits?: Partial<RelayLimits>) {
  return startCountingRelay(world.ctx, world.dir, world.cleanups, limits)
}

describe('attack: subscribing to an inbox before the relay knows its owner', () => {
  test('the SUBSCRIBE is refused before and after the owner registers; the attacker cannot ACK it and reads nothing', async () => {
    const relay = await startRelay()
    const victim = newDevice(world.ctx.walletClients[2]!)
    const inbox = inboxTopic(victim.deviceId)
    const preimage = { kind: 'inbox', deviceId: victim.deviceId } as const
    const m = await relay.connect()
    expect(await m.auth(world.mallory)).toMatchObject({ type: 'auth-ok' })
    // The preimage names the inbox and its device: refused at once, though the relay has never heard of the victim.
    expect(await m.request({ type: 'subscribe', reqId: 1, topic: inbox, after: 0n, preimage })).toEqual({
      type: 'error',
      reqId: 1,
      code: 'RELAY_FORBIDDEN',
    })

    await registerDevice(world.ctx, victim)
    const v = await relay.connect()
    expect(await v.auth(victim)).toMatchObject({ type: 'auth-ok' }) // the relay learns the victim here
    expect(await m.request({ type: 'subscribe', reqId: 2, topic: inbox, after: 0n, preimage })).toEqual({
      type: 'error',
      reqId: 2,
      code: 'RELAY_FORBIDDEN',
    })
    m.send({ type: 'ack', topic: inbox, seq: 1n })
    expect(await m.next((f) => f.type === 'error')).toEqual({
      type: 'error',
      reqId: 0,
      code: 'RELAY_FORBIDDEN',
    })

    // The owner subscribes and gets a welcome published to its inbox; the attacker gets nothing of it.
    expect(await v.request({ type: 'subscribe', reqId: 1, topic: inbox, after: 0n, preimage })).toMatchObject(
      {
        type: 'ok',
      },
    )
    const a = await relay.connect()
    expect(await a.auth(world.alice)).toMatchObject({ type: 'auth-ok' })
    const welcome = createEnvelope({ kind: 'welcome', topic: inbox, payload: Uint8Array.of(1, 2, 3) })
    expect(await a.request({ type: 'publish', reqId: 1, envelope: encodeEnvelope(welcome) })).toMatchObject({
      type: 'ok',
    })
    expect(await v.next((f) => f.type === 'deliver')).toMatchObject({ topic: inbox, seq: 1n })
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(m.history.filter((f) => f.type === 'deliver')).toEqual([])
  })
})

describe('attack: AUTH frames naming unknown devices to make the relay sync its registry', () => {
  test('a flood from four addresses causes at most one sync per interval; known and new devices still get in', async () => {
    const interval = 500
    const perIp = 5
    const relay = await startRelay({ registrySyncIntervalMs: interval, registryLookupsPerIpPerMinute: perIp })
    const fresh = newDevice(world.ctx.walletClients[3]!)
    await registerDevice(world.ctx, fresh) // on chain, but the relay has not synced since it started
    const junk = DeviceSigningKey.generate()
    const started = performance.now()
    const flood = ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'].flatMap((ip) =>
      Array.from({ length: 8 }, async () => {
        const c = await relay.connect(ip)
        const account = getAddress(`0x${randomBytes(20).toString('hex')}`)
        const deviceId = `0x${randomBytes(32).toString('hex')}` as Hex
        return c.auth({ key: junk, account, deviceId })
      }),
    )
    // During the flood: a known device, and the freshly registered one from its own address.
    const known = await relay.connect()
    expect(await known.auth(world.alice)).toMatchObject({ type: 'auth-ok' })
    const late = await relay.connect('127.0.0.2')
    expect(await late.auth(fresh)).toMatchObject({ type: 'auth-ok' })
    const answers = await Promise.all(flood)
    const elapsed = performance.now() - started

    const codes = answers.map((f) => (f.type === 'error' ? f.code : f.type))
    expect(codes.filter((c) => c === 'RELAY_UNKNOWN_DEVICE')).toHaveLength(4 * perIp)
    expect(codes.filter((c) => c === 'RELAY_LOOKUP_LIMITED')).toHaveLength(4 * (8 - perIp))
    expect(relay.counter.syncs).toBeGreaterThanOrEqual(1)
    expect(relay.counter.syncs).toBeLessThanOrEqual(1 + Math.ceil(elapsed / interval))
    expect(relay.counter.syncs).toBeLessThan(4 * perIp)
  })
})
