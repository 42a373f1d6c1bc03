// Issue 9, attack 2 (MLS layer): a revoked device, already removed from the group, seals a message in an epoch before
// its removal (ts-mls keeps the keys of 4 past epochs and would open it). The recipients refuse it.
import { cpSync } from 'node:fs'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { SenderRemovedError } from '../../src/client/verificationErrors.js'
import { conversationWorld, syncUntil } from './conversation-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>

beforeAll(async () => {
  world = await conversationWorld()
})

afterAll(async () => {
  await world?.cleanup()
})

describe('attack 2, MLS layer: messages from an epoch older than the sender removal', () => {
  test("the thief's copy of a removed device seals at the old epoch; both recipients refuse it and store nothing", async () => {
    const alice = await world.manual(1)
    const phone = await world.manual(2)
    const laptop = await world.manual(2)
    const mallory = await world.manual(3, { keyPackages: 0 })
    const chat = await alice.conversations.open(phone.account)
    expect((await phone.sync()).joined).toEqual([chat.id])
    expect((await laptop.sync()).joined).toEqual([chat.id])
    const before = chat.info().epoch

    // The thief copies the phone's home (keys and group state) before the owner revokes it.
    await phone.close()
    const stolen = world.newHome()
    cpSync(phone.home, stolen, { recursive: true })
    await laptop.revokeDevice(phone.deviceId)
    const change = await chat.syncMembers()
    expect(change.removed).toEqual([phone.deviceId])
    expect(chat.info().epoch).toBe(before + 1n)
    await laptop.sync()

    // The thief seals in the epoch before the removal and publishes through another registered device's connection.
    const thief = await world.net.client({
      account: world.net.account(2),
      home: stolen,
      transport: await world.relayTransportOf(mallory.home, 3),
    })
    const sent = await thief.conversations.get(chat.id)?.send('sealed after my removal', {
      unsafeSkipRegistrationCheck: true,
    })
    expect(sent?.statement).toMatchObject({ epoch: before })
    await thief.waitForState(sent?.id as Hex, 'accepted', { timeoutMs: 10_000 })

    for (const recipient of [alice, laptop]) {
      const { received, rejected } = await syncUntil(
        recipient,
        (r) => r.received.length + r.rejected.length > 0,
      )
      expect(received).toEqual([])
      expect(rejected.map((r) => r.envelopeId)).toEqual([sent?.envelope.id])
      expect(rejected[0]?.error).toBeInstanceOf(SenderRemovedError)
      expect(rejected[0]?.error.code).toBe('SEALPOST_SENDER_REMOVED')
      expect(
        recipient.conversations
          .get(chat.id)
          ?.messages()
          .map((m) => m.body),
      ).not.toContain('sealed after my removal')
    }

    // An honest member's message is still accepted.
    const honest = await laptop.conversations.get(chat.id)?.send('still here')
    await laptop.waitForState(honest?.id as Hex, 'accepted', { timeoutMs: 10_000 })
    const honestGot = await syncUntil(alice, (r) => r.received.length + r.rejected.length > 0)
    expect(honestGot.received.map((m) => m.text)).toEqual(['still here'])
  })
})
