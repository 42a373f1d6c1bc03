// Issue 9, item 1: `open(peer)` is deterministic. When both sides create their 1:1 conversation at once, both end up
// with the same canonical one (the lowest group id), and the other stays readable.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { SelfConversationError } from '../../src/client/errors.js'
import { conversationWorld, syncUntil } from './conversation-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>

beforeAll(async () => {
  world = await conversationWorld()
})

afterAll(async () => {
  await world?.cleanup()
})

describe('simultaneous open', () => {
  test('both sides create at once and converge on the lowest group id', async () => {
    const carol = await world.manual(4)
    const dave = await world.manual(5)
    const [byCarol, byDave] = await Promise.all([
      carol.conversations.open(dave.account),
      dave.conversations.open(carol.account),
    ])
    // Neither had seen the other's Welcome: two conversations exist.
    expect(byCarol.id).not.toBe(byDave.id)
    expect((await syncUntil(carol, (r) => r.joined.length > 0)).joined).toEqual([byDave.id])
    expect((await syncUntil(dave, (r) => r.joined.length > 0)).joined).toEqual([byCarol.id])
    const lowest = [byCarol.id, byDave.id].sort()[0]
    const carolChat = await carol.conversations.open(dave.account)
    const daveChat = await dave.conversations.open(carol.account)
    expect(carolChat.id).toBe(lowest)
    expect(daveChat.id).toBe(lowest)

    const first = await carolChat.send('in the canonical one')
    await carol.waitForState(first.id, 'accepted', { timeoutMs: 10_000 })
    const daveGot = await syncUntil(dave, (r) => r.received.length + r.rejected.length > 0)
    expect(daveGot.received.map((m) => [m.conversation, m.text])).toEqual([[lowest, 'in the canonical one']])
    // The other conversation is not lost: both still read it.
    const other = byCarol.id === lowest ? byDave : byCarol
    const writer = other === byCarol ? carol : dave
    const reader = other === byCarol ? dave : carol
    const second = await other.send('in the other one')
    await writer.waitForState(second.id, 'accepted', { timeoutMs: 10_000 })
    const readerGot = await syncUntil(reader, (r) => r.received.length + r.rejected.length > 0)
    expect(readerGot.received.map((m) => m.text)).toEqual(['in the other one'])
  })

  test("a conversation with one's own account is refused before any MLS work", async () => {
    const erin = await world.manual(6)
    const err = await erin.conversations.open(erin.account).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SelfConversationError)
    expect((err as SelfConversationError).code).toBe('SEALPOST_CONVERSATION_WITH_SELF')
    expect(erin.conversations.list()).toEqual([])
  })
})
