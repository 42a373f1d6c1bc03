// Issue 11, bad input: a Welcome into a group whose members are not the accounts its context declares (an account
// listed without a device, a device of an account not listed) or whose id does not derive from its context. The
// invitees refuse each with the rule named, and store nothing.
import type { Extension } from 'ts-mls'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { conversationExtensions } from '../../src/client/mls.js'
import { ConversationPolicyError } from '../../src/client/verificationErrors.js'
import { groupContext, groupGroupId } from '../../src/protocol/conversationContext.js'
import { conversationWorld, type LiveClient, plantGroup, random32 } from './conversation-setup.js'
import { honestGroup, rejectionOf } from './group-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>
let alice: LiveClient
let bob: LiveClient
let mallory: LiveClient

beforeAll(async () => {
  world = await conversationWorld()
  ;[alice, bob, mallory] = await world.liveAll(1, 2, 3)
}, 120_000)

afterAll(async () => {
  await world?.cleanup()
})

/** A group context of this deployment named `team`, created by `creator`, with a fresh nonce. */
function context(creator: Hex, members: Hex[]) {
  const { chainId, keyRegistry } = world.net.deployment
  return groupContext({ chainId, registry: keyRegistry, nonce: random32(), name: 'team', creator, members })
}

describe('a planted group Welcome', () => {
  const variants: { name: string; rule: string; build: () => { groupId: Hex; extensions: Extension[] } }[] = [
    {
      name: 'a context listing an account (Erin) that has no device in the tree',
      rule: 'member-without-device',
      build: () => {
        const ctx = context(mallory.account, [alice.account, bob.account, world.net.account(5).address])
        return { groupId: groupGroupId(ctx), extensions: conversationExtensions(ctx) }
      },
    },
    {
      name: "a context of Alice and Bob whose tree keeps the builder's (Mallory's) device",
      rule: 'foreign-member',
      build: () => {
        const ctx = context(alice.account, [bob.account])
        return { groupId: groupGroupId(ctx), extensions: conversationExtensions(ctx) }
      },
    },
    {
      name: 'a valid context under a group id that does not derive from it',
      rule: 'bad-group-id',
      build: () => {
        const ctx = context(mallory.account, [alice.account, bob.account])
        return { groupId: random32(), extensions: conversationExtensions(ctx) }
      },
    },
  ]

  test.each(variants)('$name: refused by each invitee ($rule), nothing stored', async ({ rule, build }) => {
    const planted = build()
    const ids = await plantGroup(mallory, [alice, bob], planted)
    for (const victim of [alice, bob]) {
      const envelopeId = ids.get(victim.deviceId) as Hex
      const { error } = await rejectionOf(victim, envelopeId)
      expect(error).toBeInstanceOf(ConversationPolicyError)
      expect(error.code).toBe('SEALPOST_CONVERSATION_POLICY')
      expect((error as ConversationPolicyError).rule).toBe(rule)
      expect(victim.groups.get(planted.groupId)).toBeUndefined()
      expect(victim.groups.list()).toEqual([])
      expect(victim.log.entries({ kind: 'rejected' }).some((e) => e.data.envelopeId === envelopeId)).toBe(
        true,
      )
    }
  })

  test('the honest group of the same accounts then works, and is the only group they hold', async () => {
    const team = await honestGroup(alice, [bob, mallory], { name: 'team' })
    for (const c of [alice, bob, mallory]) expect(c.groups.list().map((g) => g.id)).toEqual([team.id])
    const got = new Promise<string>((resolve) => bob.events.once('message', (m) => resolve(m.text)))
    await team.send('the real team')
    expect(await got).toBe('the real team')
  })
})
