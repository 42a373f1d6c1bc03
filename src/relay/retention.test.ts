import type { Hex } from 'viem'
import { afterEach, describe, expect, test } from 'vitest'
import { createTestRelay, type TestRelay, testDevice } from '../../test/utils/relayContext.js'
import { relayAuthMessage } from '../protocol/relayFrames.js'
import { inboxTopic } from '../protocol/topics.js'
import { handleAuth } from './auth.js'
import { runRetention } from './retention.js'

let relay: TestRelay | undefined
afterEach(() => relay?.close())

const conversation: Hex = `0x${'5c'.repeat(32)}`
const id = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}`

describe('runRetention', () => {
  test('an envelope that expires before its recipient acked it is reported to its publisher, live and at AUTH', async () => {
    let clock = 1_000_000
    relay = createTestRelay({ now: () => clock, limits: { retentionMs: 60_000 } })
    const alice = testDevice()
    const bob = testDevice()
    const inbox = inboxTopic(bob.deviceId)
    await relay.store.claimInbox(inbox, bob.deviceId)
    await relay.store.subscribe(conversation, bob.deviceId)
    // The store stamps envelopes with the wall clock: expire them by moving the relay's clock past retention.
    await relay.store.append([
      { topic: inbox, id: id(1), bytes: Uint8Array.of(1), publisher: alice.deviceId },
      { topic: conversation, id: id(2), bytes: Uint8Array.of(2), publisher: alice.deviceId },
      { topic: conversation, id: id(3), bytes: Uint8Array.of(3), publisher: bob.deviceId },
    ])
    const online = relay.connect(alice)
    const events: unknown[] = []
    relay.events.on('expired', (e) => events.push(e))

    expect(await runRetention(relay.ctx)).toBe(0) // nothing is older than 60 s yet, acked or not
    clock = Date.now() + 61_000
    expect(await runRetention(relay.ctx)).toBe(3)
    const expired = [
      { type: 'expired', topic: inbox, seq: 1n, id: id(1), expiredAt: clock, recipients: [bob.deviceId] },
      {
        type: 'expired',
        topic: conversation,
        seq: 1n,
        id: id(2),
        expiredAt: clock,
        recipients: [bob.deviceId],
      },
    ].sort((a, b) => (a.topic < b.topic ? -1 : 1))
    expect(online.socket.take()).toEqual(expired)
    expect(events).toEqual(
      expired.map(({ topic, seq, id }) => ({
        topic,
        seq,
        id,
        publisher: alice.deviceId,
        recipients: [bob.deviceId],
      })),
    )

    // Alice's other device session authenticating later gets the same notices after AUTH_OK.
    relay.registry.add(alice.record)
    const later = relay.connect()
    const challenge = `0x${later.conn.challenge!.toString('hex')}` as Hex
    const { account, deviceId } = alice.record
    const signature =
      `0x${Buffer.from(alice.key.sign(relayAuthMessage({ challenge, account, deviceId }))).toString('hex')}` as Hex
    await handleAuth(relay.ctx, later.conn, { type: 'auth', account, deviceId, signature })
    expect(later.socket.take()).toEqual([{ type: 'auth-ok', account, deviceId }, ...expired])
  })

  test('a store failure is reported as an error event and removes nothing', async () => {
    relay = createTestRelay()
    const errors: unknown[] = []
    relay.events.on('error', (e) => errors.push(e))
    relay.store.close()
    expect(await runRetention(relay.ctx)).toBe(0)
    expect(errors).toEqual([expect.objectContaining({ name: 'RelayInternalError' })])
  })
})
