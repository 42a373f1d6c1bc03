import { describe, expect, test } from 'vitest'
import { inboxTopic } from '../../src/protocol/topics.js'
import type { RelayLimits } from '../../src/relay/RelayServer.js'
import { inboxPreimage, preimageOf, testTopic } from '../utils/topics.js'
import { startCountingRelay } from './countingRelay.js'
import { inboxWorld, ownerGetsWelcome } from './inbox-setup.js'
import { newDevice, registerDevice } from './rawRelayClient.js'

const world = inboxWorld('inbox-subscribe')

/**
 * A relay whose registry view moves only on demand (its watcher does not poll), so a device registered after the
 * relay started stays unknown to it until a look-up; `counter.syncs` counts the syncs made after start.
 */
function startRelay(limits?: Partial<RelayLimits>) {
  return startCountingRelay(world.ctx, world.dir, world.cleanups, limits)
}

describe('attack: subscribing to the inbox of a device the relay has not synced yet', () => {
  test('the SUBSCRIBE is refused with RELAY_FORBIDDEN without a look-up; the owner subscribes and the attacker reads nothing', async () => {
    const relay = await startRelay()
    const victim = newDevice(world.ctx.walletClients[2]!)
    const inbox = inboxTopic(victim.deviceId)
    const preimage = inboxPreimage(victim.deviceId)
    await registerDevice(world.ctx, victim) // on chain; the relay has not synced since it started
    const m = await relay.connect()
    expect(await m.auth(world.mallory)).toMatchObject({ type: 'auth-ok' })

    expect(await m.request({ type: 'subscribe', reqId: 1, topic: inbox, after: 0n, preimage })).toEqual({
      type: 'error',
      reqId: 1,
      code: 'RELAY_FORBIDDEN',
    })
    expect(relay.counter.syncs).toBe(0) // the preimage names the owner: nothing to ask the chain
    expect(await relay.store.acks(inbox)).toEqual([]) // the attacker was never recorded as a recipient

    // The victim connects right away and subscribes to its inbox; a welcome flows to it and only to it.
    await ownerGetsWelcome(relay, world, victim, inbox, preimage)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(m.history.filter((f) => f.type === 'deliver')).toEqual([])
  })

  test('a device whose registration the relay has not synced yet subscribes to its own inbox at once', async () => {
    const relay = await startRelay()
    const fresh = newDevice(world.ctx.walletClients[3]!)
    await registerDevice(world.ctx, fresh)
    const c = await relay.connect()
    expect(await c.auth(fresh)).toMatchObject({ type: 'auth-ok' }) // AUTH's look-up teaches the relay the device
    const syncs = relay.counter.syncs
    const topic = inboxTopic(fresh.deviceId)
    const preimage = inboxPreimage(fresh.deviceId)
    expect(await c.request({ type: 'subscribe', reqId: 1, topic, after: 0n, preimage })).toEqual({
      type: 'ok',
      reqId: 1,
      value: 0n,
    })
    expect(relay.counter.syncs).toBe(syncs)
  })
})

describe('attack: SUBSCRIBE frames naming new topics to make the relay sync its registry', () => {
  test("new topics cost no registry look-up: the IP's budget stays whole for AUTH", async () => {
    const relay = await startRelay({ registryLookupsPerIpPerMinute: 1 })
    const m = await relay.connect('127.0.0.7')
    expect(await m.auth(world.mallory)).toMatchObject({ type: 'auth-ok' }) // a known device: no look-up
    const answers: string[] = []
    for (let i = 0; i < 8; i++) {
      const topic = testTopic()
      const answer = await m.request({
        type: 'subscribe',
        reqId: 1 + i,
        topic,
        after: 0n,
        preimage: preimageOf(topic),
      })
      answers.push(answer.type)
    }
    expect(answers).toEqual(Array(8).fill('ok'))
    expect(relay.counter.syncs).toBe(0)
    // The one look-up of this IP is still there for a device the relay has not synced yet.
    const fresh = newDevice(world.ctx.walletClients[4]!)
    await registerDevice(world.ctx, fresh)
    const late = await relay.connect('127.0.0.7')
    expect(await late.auth(fresh)).toMatchObject({ type: 'auth-ok' })
    expect(relay.counter.syncs).toBe(1)
  })
})
