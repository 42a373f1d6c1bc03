// Issue 11: a member's standalone proposal adding a device of an account outside the group is refused at receipt
// (rule foreign-member): it is never kept pending, so it cannot make the committer commit for nothing.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { decodeMls } from '../../src/client/mls.js'
import { ConversationPolicyError } from '../../src/client/verificationErrors.js'
import { conversationWorld, type LiveClient } from './conversation-setup.js'
import { forgeProposal, honestGroup, rejectionOf, storedState, viewOf } from './group-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>
let alice: LiveClient
let bob: LiveClient
let carol: LiveClient

beforeAll(async () => {
  world = await conversationWorld()
  ;[alice, bob, carol] = await world.liveAll(1, 2, 3)
}, 120_000)

afterAll(async () => {
  await world?.cleanup()
})

describe('a proposed add of an outsider', () => {
  test('is refused by every member at receipt, and no commit follows', async () => {
    const ops = await honestGroup(alice, [bob, carol], { name: 'ops' })
    const erin = await world.manual(5)
    const kp = await carol.transport.takeKeyPackage({ deviceId: erin.deviceId })
    const m = kp && decodeMls(kp.payload)
    if (m?.wireformat !== 'mls_key_package') throw new Error('no kp')
    const e0 = viewOf(alice, ops.id)?.epoch
    const envelope = await forgeProposal(carol, ops.id, {
      proposalType: 'add',
      add: { keyPackage: m.keyPackage },
    })
    for (const c of [alice, bob]) {
      const { error } = await rejectionOf(c, envelope.id)
      expect(error).toBeInstanceOf(ConversationPolicyError)
      expect((error as ConversationPolicyError).rule).toBe('foreign-member')
      expect(Object.keys((await storedState(c, ops.id)).unappliedProposals)).toEqual([])
    }
    await new Promise((r) => setTimeout(r, 1000)) // a reconcile would have committed by now
    expect(viewOf(alice, ops.id)?.epoch).toBe(e0)
  })
})
