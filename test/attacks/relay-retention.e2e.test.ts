/** Attack (issue 9, item 6): an honest relay must not delete messages for an invitee who has not connected yet. */
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { loadDevice } from '../../src/client/identity.js'
import { RelayTransport } from '../../src/client/relayTransport.js'
import { testPassphrase } from '../utils/clients.js'
import { skewedRelay } from '../utils/skewedRelay.js'

const relay = skewedRelay('sealpost-attack-retention-')

describe('attack: the relay prunes what an invitee who has not connected yet still needs', () => {
  test('Bob, offline since registering, gets the Welcome and every message after Alice acked them all and prune ran', async () => {
    const aliceHome = mkdtempSync(join(relay.dir, 'alice-'))
    const bobHome = mkdtempSync(join(relay.dir, 'bob-'))
    const alice = await relay.online(1, aliceHome)
    // Bob registers and publishes key packages, then goes offline before anyone talks to him.
    const bobFirst = await relay.online(2, bobHome)
    await bobFirst.close()

    const chat = await alice.conversations.open(bobFirst.account)
    const texts = ['one', 'two', 'three', 'four']
    for (const text of texts) await chat.send(text)
    const topic = chat.id
    const head = await relay.store.head(topic)
    expect(head).toBeGreaterThanOrEqual(BigInt(texts.length))

    // Alice's own subscription acks everything on the conversation topic (as her device, over the wire).
    const keys = await loadDevice({ home: aliceHome, passphrase: testPassphrase })
    const transport = await RelayTransport.connect({
      url: relay.url,
      account: alice.account,
      deviceId: keys.deviceId,
      sign: (m) => keys.signingKey.sign(m),
      expect: { chainId: relay.ctx.anvil.chainId, registry: relay.ctx.contracts.keyRegistry },
    })
    await transport.ack({ topic, cursor: head })
    await expect
      .poll(
        async () =>
          (await relay.store.acks(topic)).find((a) => a.deviceId === alice.deviceId.toLowerCase())?.seq,
      )
      .toBe(head)
    await transport.close()
    // Every device that ever subscribed to the conversation acked it all; an hour passes; retention runs.
    expect((await relay.store.acks(topic)).every((a) => a.seq === head)).toBe(true)
    relay.skew += 60 * 60 * 1000
    expect(await relay.server.prune()).toBe(0)
    expect(await relay.store.readAfter(topic, 0n, 100)).toHaveLength(Number(head))

    // Bob comes relay.online for the first time since: the Welcome, then every message.
    const received: string[] = []
    await relay.online(2, bobHome, (bob) => bob.events.on('message', (m) => received.push(m.text)))
    await expect.poll(() => received, { timeout: 20_000 }).toEqual(texts)
  })
})
