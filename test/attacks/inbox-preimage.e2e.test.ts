import type { Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { RETIRED_CLIENT_FRAME_TYPES } from '../../src/protocol/relayFrames.js'
import { inboxTopic, type TopicPreimage } from '../../src/protocol/topics.js'
import { startCountingRelay } from './countingRelay.js'
import { inboxWorld, ownerGetsWelcome } from './inbox-setup.js'
import { newDevice, registerDevice } from './rawRelayClient.js'

const world = inboxWorld('inbox-preimage')

/** SUBSCRIBE v1 as an old client (or an attacker hoping for the old rules) sends it: no preimage. */
function subscribeV1(reqId: number, topic: Hex): Uint8Array {
  const out = new Uint8Array(45)
  const view = new DataView(out.buffer)
  out[0] = RETIRED_CLIENT_FRAME_TYPES.subscribeV1
  view.setUint32(1, reqId)
  out.set(Buffer.from(topic.slice(2), 'hex'), 5)
  view.setBigUint64(37, 0n)
  return out
}

describe('attack: subscribing to the inbox of a device registered nowhere yet', () => {
  test('every form of the SUBSCRIBE is refused with a typed error, and nothing reaches the attacker once the owner registers', async () => {
    const relay = await startCountingRelay(world.ctx, world.dir, world.cleanups)
    const victim = newDevice(world.ctx.walletClients[2]!) // its device id is known (it hashes the public key); not registered
    const inbox = inboxTopic(victim.deviceId)
    const m = await relay.connect()
    expect(await m.auth(world.mallory)).toMatchObject({ type: 'auth-ok' })

    // Claiming it as the inbox it is: only its owner may read it, registered or not; no registry look-up needed.
    const asInbox: TopicPreimage = { kind: 'inbox', deviceId: victim.deviceId }
    expect(
      await m.request({ type: 'subscribe', reqId: 1, topic: inbox, after: 0n, preimage: asInbox }),
    ).toEqual({
      type: 'error',
      reqId: 1,
      code: 'RELAY_FORBIDDEN',
    })
    // Claiming it as a conversation or a Welcome tree: the relay recomputes the topic, and no preimage under those
    // labels hashes to an inbox topic (here even the same 32 bytes under the tree label).
    const claims: TopicPreimage[] = [
      {
        kind: 'group',
        chainId: world.ctx.anvil.chainId,
        registry: world.ctx.contracts.keyRegistry,
        nonce: victim.deviceId,
      },
      { kind: 'welcome-tree', welcomeDigest: victim.deviceId },
      { kind: 'inbox', deviceId: world.mallory.deviceId },
    ]
    for (const [i, preimage] of claims.entries())
      expect(await m.request({ type: 'subscribe', reqId: 2 + i, topic: inbox, after: 0n, preimage })).toEqual(
        {
          type: 'error',
          reqId: 2 + i,
          code: 'RELAY_TOPIC_MISMATCH',
        },
      )
    // The old form without a preimage is retired, answered with its own code.
    expect(await m.requestBytes(subscribeV1(9, inbox), 9)).toEqual({
      type: 'error',
      reqId: 9,
      code: 'RELAY_FRAME_OUTDATED',
    })
    expect(relay.counter.syncs).toBe(0) // none of it made the relay query the chain
    expect(await relay.store.acks(inbox)).toEqual([]) // never recorded as a recipient

    // The victim registers, connects and reads its inbox; Alice writes a Welcome into it.
    await registerDevice(world.ctx, victim)
    await ownerGetsWelcome(relay, world, victim, inbox, asInbox)
    // Asking again now that the owner is known changes nothing: still refused.
    expect(
      await m.request({ type: 'subscribe', reqId: 20, topic: inbox, after: 0n, preimage: asInbox }),
    ).toEqual({
      type: 'error',
      reqId: 20,
      code: 'RELAY_FORBIDDEN',
    })
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(m.history.filter((f) => f.type === 'deliver')).toEqual([])
    expect((await relay.store.acks(inbox)).map((c) => c.deviceId)).toEqual([victim.deviceId])
  })
})
