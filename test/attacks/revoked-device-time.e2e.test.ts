// Issue 9, attack 2 (statement layer): a revoked device's statement referencing a block before its revocation, or a
// statement made 30 days ago, must never count. The anchor bounds when a message was made (protocol §11.1).
import { cpSync } from 'node:fs'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Client } from '../../src/client/Client.js'
import type { MessageVerdict, Rejection, VerdictChange } from '../../src/client/types.js'
import { conversationWorld, syncUntil } from './conversation-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>

beforeAll(async () => {
  world = await conversationWorld()
})

afterAll(async () => {
  await world?.cleanup()
})

/** Syncs `client` until the message `id` has a settled verdict (its receipt arrived), and returns it. */
async function settled(client: Client, id: Hex, timeoutMs = 20_000): Promise<MessageVerdict | undefined> {
  const end = Date.now() + timeoutMs
  for (;;) {
    await client.sync()
    const verdict = client.messages.get(id)?.verdict
    if (verdict !== 'pending' || Date.now() > end) return verdict
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('attack 2, statement layer: time bounds from the anchor', () => {
  test("a revoked device's statement referencing the block before its revocation is pending, then refused once anchored after it", async () => {
    const alice = await world.manual(1)
    const phone = await world.manual(2)
    const laptop = await world.manual(2)
    const mallory = await world.manual(3, { keyPackages: 0 })
    const chat = await alice.conversations.open(phone.account)
    expect((await phone.sync()).joined).toEqual([chat.id])
    expect((await laptop.sync()).joined).toEqual([chat.id])

    // The thief keeps the phone's state and seals with it, offline, while the reference block is the newest.
    await phone.close()
    const stolen = world.newHome()
    cpSync(phone.home, stolen, { recursive: true })
    const thief = await world.net.client({ account: world.net.account(2), home: stolen })
    const sent = await thief.conversations
      .get(chat.id)
      ?.send('wire the funds', { unsafeSkipRegistrationCheck: true })
    if (!sent) throw new Error('the thief has no conversation')
    await thief.close()

    // The owner revokes the phone; nobody removes it from the group yet (attack 2b: revoked, not yet removed).
    await laptop.revokeDevice(phone.deviceId)
    const revokedAt = (await world.ctx.publicClient.getBlockNumber()) as bigint
    expect(sent.statement.block.number).toBeLessThan(revokedAt)

    // Mallory publishes the sealed envelope after the revocation.
    await mallory.transport.publish(sent.envelope)

    for (const recipient of [alice, laptop]) {
      const verdicts: VerdictChange[] = []
      const rejected: string[] = []
      recipient.events.on('verdict', (v) => verdicts.push(v))
      recipient.events.on('rejected', (r) => rejected.push(r.error.code))
      const got = await syncUntil(recipient, (r) => r.received.length + r.rejected.length > 0)
      // Accepted as pending (the key was valid at the referenced block), never shown as verified.
      expect(got.received.map((m) => [m.text, m.verdict])).toEqual([['wire the funds', 'pending']])
      // (The second recipient may process the receipt Alice's submission produced in the same sync.)
      expect(recipient.messages.get(sent.id)?.verdict).not.toBe('verified')
      // The recipient submitted the leaf itself: the anchor comes after the revocation, so the message is refused.
      expect(await settled(recipient, sent.id)).toBe('refused')
      expect(recipient.messages.get(sent.id)?.verdictReason).toBe('SEALPOST_REVOKED_BEFORE_ANCHOR')
      // The thief's message changes verdict once, to refused (other messages' verdicts may settle meanwhile).
      const ofSent = verdicts.filter((v) => v.id === sent.id)
      expect(ofSent.map((v) => [v.id, v.verdict, v.error?.name])).toEqual([
        [sent.id, 'refused', 'RevokedBeforeAnchorError'],
      ])
      expect(rejected).toContain('SEALPOST_REVOKED_BEFORE_ANCHOR')
      const anchor = recipient.messages.receipt(sent.id)
      expect(anchor?.blockNumber).toBeGreaterThanOrEqual(revokedAt)
    }
  })

  test('an honest message from a device revoked after its message was anchored stays verified', async () => {
    const alice = await world.manual(4)
    const bob = await world.manual(5)
    const chat = await alice.conversations.open(bob.account)
    expect((await bob.sync()).joined).toEqual([chat.id])

    const sent = await bob.conversations.get(chat.id)?.send('signed before I lost my phone')
    if (!sent) throw new Error('bob has no conversation')
    const end = Date.now() + 20_000
    while (bob.messages.get(sent.id)?.state !== 'anchored' && bob.messages.get(sent.id)?.state !== 'final') {
      if (Date.now() > end) throw new Error('never anchored')
      await bob.sync()
      await new Promise((r) => setTimeout(r, 100))
    }
    // Bob revokes the device after its message was anchored; Alice judges the message only now.
    await bob.revokeDevice(bob.deviceId)
    const got = await syncUntil(alice, (r) => r.received.length + r.rejected.length > 0)
    expect(got.rejected).toEqual([])
    expect(got.received.map((m) => m.verdict)).toEqual(['pending'])
    expect(await settled(alice, sent.id)).toBe('verified')
    expect(alice.messages.get(sent.id)?.verdictReason).toBeUndefined()
  })

  // Last in this file: it moves the chain's clock 30 days ahead.
  test('a statement made 30 days ago is refused on live arrival (StaleBlockReferenceError)', async () => {
    const alice = await world.manual(6)
    const carol = await world.manual(7)
    const mallory = await world.manual(8, { keyPackages: 0 })
    const chat = await alice.conversations.open(carol.account)
    expect((await carol.sync()).joined).toEqual([chat.id])
    const rejections: Rejection[] = []
    alice.events.on('rejected', (r) => rejections.push(r))
    await alice.start() // live: what the relay delivers from now on is judged against the live window

    // A copy of Carol's device seals offline; its reference block is followed by one mined moments later.
    await carol.close()
    const copy = world.newHome()
    cpSync(carol.home, copy, { recursive: true })
    const old = await world.net.client({ account: world.net.account(7), home: copy })
    const sent = await old.conversations.get(chat.id)?.send('thirty days old')
    if (!sent) throw new Error('no conversation')
    await old.close()
    await world.ctx.mine(1)

    // Thirty days pass on chain (evm_increaseTime + evm_mine); then the statement is published.
    await world.ctx.publicClient.request({ method: 'evm_increaseTime', params: [30 * 24 * 3600] } as never)
    await world.ctx.publicClient.request({ method: 'evm_mine', params: [] } as never)
    await mallory.transport.publish(sent.envelope)

    const end = Date.now() + 20_000
    while (!rejections.some((r) => r.envelopeId === sent.envelope.id) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50))
    expect(
      rejections
        .filter((r) => r.envelopeId === sent.envelope.id)
        .map((r) => [r.error.name, r.error.code, r.report?.failedStep]),
    ).toEqual([['StaleBlockReferenceError', 'SEALPOST_STALE_BLOCK_REFERENCE', 'freshness']])
    expect(alice.messages.get(sent.id)).toBeUndefined()
  })
})
