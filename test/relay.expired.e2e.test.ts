/** Expiry reported to the sender (issue 9, item 6): a message its recipient never acked expires at the relay. */
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { loadDevice } from '../src/client/identity.js'
import { RelayTransport } from '../src/client/relayTransport.js'
import type { ExpiryNotice } from '../src/client/transport.js'
import type { ExpiredEvent } from '../src/client/types.js'
import { testPassphrase } from './utils/clients.js'
import { skewedRelay } from './utils/skewedRelay.js'

const RETENTION_MS = 60_000

const relay = skewedRelay(
  'sealpost-relay-expired-',
  // A one-minute retention, run by hand (server.prune()) with the relay's clock moved forward.
  { retentionMs: RETENTION_MS, pruneIntervalMs: 60 * 60 * 1000 },
)

describe('expiry is reported to the sender', () => {
  test("a message Bob never acks expires; Alice's client emits `expired` once, also when the relay repeats the notice", async () => {
    const aliceHome = mkdtempSync(join(relay.dir, 'alice-'))
    const bobHome = mkdtempSync(join(relay.dir, 'bob-'))
    const alice = await relay.online(1, aliceHome)
    const bob = await relay.online(2, bobHome)
    const joined = new Promise((resolve) => bob.events.once('joined', resolve))
    const chat = await alice.conversations.open(bob.account)
    await joined // Bob processed the Welcome and subscribes to the conversation
    const bobDevice = bob.deviceId.toLowerCase()
    await expect
      .poll(async () => (await relay.store.acks(chat.id)).map((a) => a.deviceId))
      .toContain(bobDevice)
    await bob.close() // and never comes back: he never acks what follows
    const sent = await chat.send('are you there?')
    const expired: ExpiredEvent[] = []
    alice.events.on('expired', (e) => expired.push(e))

    relay.skew += RETENTION_MS + 1000
    expect(await relay.server.prune()).toBeGreaterThanOrEqual(1)
    await expect.poll(() => expired.filter((e) => e.id === sent.id)).toHaveLength(1)
    expect(expired.find((e) => e.id === sent.id)).toEqual({
      id: sent.id,
      conversation: chat.id,
      seq: sent.cursor,
      expiredAt: expect.any(Number),
      recipients: [bobDevice],
      state: 'accepted', // not delivered (Bob never acked); the lifecycle has no expired state
    })
    expect(alice.messages.get(sent.id)?.state).toBe('accepted') // unchanged by the expiry

    // The relay repeats the notice after every AUTH (here on a second connection of Alice's device) ...
    const keys = await loadDevice({ home: aliceHome, passphrase: testPassphrase })
    const transport = await RelayTransport.connect({
      url: relay.url,
      account: alice.account,
      deviceId: keys.deviceId,
      sign: (m) => keys.signingKey.sign(m),
      expect: { chainId: relay.ctx.anvil.chainId, registry: relay.ctx.contracts.keyRegistry },
    })
    const repeated: ExpiryNotice[] = []
    transport.onExpired((n) => repeated.push(n))
    await expect.poll(() => repeated.map((n) => n.id)).toContain(sent.id)
    await transport.close()
    // ... and to Alice's restarted client, which has recorded it: no second event.
    await alice.close()
    const again: ExpiredEvent[] = []
    const restarted = await relay.online(1, aliceHome, (c) => c.events.on('expired', (e) => again.push(e)))
    await expect.poll(() => restarted.messages.list({ conversation: chat.id }).length).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(again.filter((e) => e.id === sent.id)).toEqual([])
  })
})
