// Issue 11: a non-admin's commit removing another member's active device (no context change) is refused by every
// member, the targeted device included: nobody is evicted on its own side.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { membersOf } from '../../src/client/mls.js'
import { ConversationPolicyError } from '../../src/client/verificationErrors.js'
import { conversationWorld, type LiveClient } from './conversation-setup.js'
import { forgeCommit, honestGroup, rejectionOf, storedState, viewOf, viewsOf } from './group-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>
let alice: LiveClient
let bob: LiveClient
let carol: LiveClient
let dave: LiveClient

beforeAll(async () => {
  world = await conversationWorld()
  ;[alice, bob, carol, dave] = await world.liveAll(1, 2, 3, 4)
}, 120_000)

afterAll(async () => {
  await world?.cleanup()
})

describe("a non-admin's commit removing another member's device", () => {
  test('is refused by every member, the removed one included', async () => {
    const ops = await honestGroup(alice, [bob, carol, dave], { name: 'ops' })
    const leaf = membersOf(await storedState(carol, ops.id)).find((m) => m.identity.deviceId === bob.deviceId)
      ?.leafIndex as number
    const before = viewsOf([alice, bob, dave], ops.id)
    const envelope = await forgeCommit(carol, ops.id, [{ proposalType: 'remove', remove: { removed: leaf } }])
    for (const c of [alice, dave]) {
      const { error } = await rejectionOf(c, envelope.id)
      expect((error as ConversationPolicyError).rule).toBe('removal-not-allowed')
      expect(viewOf(c, ops.id)).toEqual(before.get(c))
    }
    expect(viewOf(bob, ops.id)).toEqual(before.get(bob))
    const { error } = await rejectionOf(bob, envelope.id)
    expect(error).toBeInstanceOf(ConversationPolicyError)
  })
})
