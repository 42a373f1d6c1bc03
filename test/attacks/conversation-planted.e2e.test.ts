// Issue 9, attack 1: an outsider plants a group that both clients then use as their 1:1 conversation, and reads it.
import type { Extension } from 'ts-mls'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { conversationExtensions } from '../../src/client/mls.js'
import { ConversationPolicyError } from '../../src/client/verificationErrors.js'
import { directContext, directGroupId } from '../../src/protocol/conversationContext.js'
import { conversationWorld, eventually, type LiveClient, plantGroup, random32 } from './conversation-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>
let alice: LiveClient
let bob: LiveClient
let mallory: LiveClient

beforeAll(async () => {
  world = await conversationWorld()
  alice = await world.live(1)
  bob = await world.live(2)
  mallory = await world.live(3)
})

afterAll(async () => {
  await world?.cleanup()
})

/** The rule each victim's client names for the planted Welcome it refused. */
async function refusals(ids: Map<Hex, Hex>): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [name, client] of [
    ['alice', alice],
    ['bob', bob],
  ] as const) {
    const rejection = await eventually(() =>
      client.rejected.find((r) => r.envelopeId === ids.get(client.deviceId)),
    )
    expect(rejection.error).toBeInstanceOf(ConversationPolicyError)
    expect(rejection.error.code).toBe('SEALPOST_CONVERSATION_POLICY')
    out[name] = (rejection.error as ConversationPolicyError).rule
  }
  return out
}

function pair(nonce: Hex, b = bob.account) {
  const { chainId, keyRegistry } = world.net.deployment
  return { chainId, registry: keyRegistry, a: alice.account, b, nonce }
}

describe('attack 1: a planted 1:1 conversation', () => {
  const variants: {
    name: string
    build: () => { groupId: Hex; extensions: Extension[] }
    rules: Record<string, string>
  }[] = [
    {
      name: 'a group without a conversation context',
      build: () => ({ groupId: random32(), extensions: [] }),
      rules: { alice: 'context-missing', bob: 'context-missing' },
    },
    {
      name: "a direct context for {Alice, Bob} that keeps Mallory's leaf",
      build: () => {
        const p = pair(random32())
        return { groupId: directGroupId(p), extensions: conversationExtensions(directContext(p)) }
      },
      rules: { alice: 'foreign-member', bob: 'foreign-member' },
    },
    {
      name: 'a direct context listing Mallory (with Alice) into which Bob is added',
      build: () => {
        const p = pair(random32(), mallory.account)
        return { groupId: directGroupId(p), extensions: conversationExtensions(directContext(p)) }
      },
      rules: { alice: 'foreign-member', bob: 'not-a-member-account' },
    },
    {
      name: 'a direct context for {Alice, Bob} under a group id of Mallory’s choosing',
      build: () => ({
        groupId: random32(),
        extensions: conversationExtensions(directContext(pair(random32()))),
      }),
      rules: { alice: 'bad-group-id', bob: 'bad-group-id' },
    },
  ]

  test.each(variants)(
    '$name is refused by both with the rule named, and nothing is stored',
    async ({ build, rules }) => {
      const planted = build()
      const ids = await plantGroup(mallory, [alice, bob], planted)
      expect(await refusals(ids)).toEqual(rules)
      for (const victim of [alice, bob]) {
        expect(victim.conversations.get(planted.groupId)).toBeUndefined()
        expect(victim.conversations.list().map((c) => c.id)).not.toContain(planted.groupId)
        expect(
          victim.log
            .entries({ kind: 'rejected' })
            .some((e) => e.data.envelopeId === ids.get(victim.deviceId)),
        ).toBe(true)
      }
    },
  )

  test('open(bob) never returns a planted group, and the honest conversation works', async () => {
    await bob.publishKeyPackages(2)
    const joined = new Promise<Hex>((resolve) => bob.events.once('joined', (j) => resolve(j.conversation)))
    const chat = await alice.conversations.open(bob.account)
    expect(await joined).toBe(chat.id)
    const planted = new Set([...alice.rejected, ...bob.rejected].map((r) => r.envelopeId))
    expect(planted.size).toBeGreaterThanOrEqual(4)
    expect(alice.conversations.list().map((c) => c.id)).toEqual([chat.id])
    expect((await bob.conversations.open(alice.account)).id).toBe(chat.id)
    const got = new Promise<string>((resolve) => bob.events.once('message', (m) => resolve(m.text)))
    await chat.send('only for bob')
    expect(await got).toBe('only for bob')
    expect(
      chat
        .info()
        .members.map((m) => m.account)
        .sort(),
    ).toEqual([alice.account, bob.account].sort())
  })
})
