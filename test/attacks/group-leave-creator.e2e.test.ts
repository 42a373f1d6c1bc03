// Issue 11: the group's creator (leaf 0, its only admin) leaves. Unpatched, ts-mls's optionalEncoder dropped a
// senderLeafIndex of 0 when the state was stored, so the pending context change was taken as the committer's, refused,
// and proposed again forever (docs/ts-mls-upstream.md §9).
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { sortAccounts } from '../../src/protocol/conversationContext.js'
import { conversationWorld, type LiveClient } from './conversation-setup.js'
import { converged, honestGroup, storedState, waitFor } from './group-setup.js'

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

describe('the creator (leaf 0), only admin, leaves', () => {
  test('a pending proposal from leaf 0 keeps its sender in the stored state', async () => {
    const solo = await honestGroup(alice, [bob, carol], { name: 'solo' })
    await solo.leave()
    let seen: (number | undefined)[] = []
    await waitFor(() => {
      void storedState(bob, solo.id).then((s) => {
        const p = Object.values(s.unappliedProposals)
        if (p.length > 0) seen = p.map((x) => x.senderLeafIndex)
      })
      return seen.length === 2
    }, 'Bob to hold both leave proposals')
    expect(seen).toEqual([0, 0])
  })

  test('the lowest remaining member becomes admin', async () => {
    const solo = await honestGroup(alice, [bob, carol], { name: 'solo2' })
    const start = solo.info().epoch
    await solo.leave()
    await waitFor(() => solo.info().active === false, 'Alice to be out of the group')
    const rest = [bob, carol]
    expect(await converged(solo.id, rest)).toBeGreaterThan(start)
    const lowest = sortAccounts(rest.map((c) => c.account))[0] as Hex
    for (const c of rest) expect(c.groups.get(solo.id)?.info().admins).toEqual([lowest])
  })
})
