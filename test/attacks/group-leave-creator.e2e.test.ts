// Issue 11: the group's creator (leaf 0, its only admin) leaves. Unpatched, ts-mls's optionalEncoder dropped a
// senderLeafIndex of 0 when the state was stored, so the pending context change was taken as the committer's, refused,
// and proposed again forever (docs/ts-mls-upstream.md §9).
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { deserializeGroupState, mlsClientConfig } from '../../src/client/mls.js'
import { sortAccounts } from '../../src/protocol/conversationContext.js'
import { DeviceStore } from '../../src/store/deviceStore.js'
import { conversationWorld, type LiveClient } from './conversation-setup.js'
import { converged, honestGroup, waitFor } from './group-setup.js'

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
    // Every state stored for this group from now on. A member holds Alice's proposals only until the committer commits
    // them, a moment later, so polling the file can miss that state; the writes themselves cannot be missed.
    const written: Uint8Array[] = []
    const original = DeviceStore.prototype.putGroup
    const spy = vi.spyOn(DeviceStore.prototype, 'putGroup').mockImplementation(function (
      this: DeviceStore,
      group,
    ) {
      if (group.groupId === solo.id) written.push(group.state)
      original.call(this, group)
    })
    try {
      await solo.leave()
      await waitFor(() => solo.info().active === false, 'Alice to be out of the group')
    } finally {
      spy.mockRestore()
    }
    const lax = mlsClientConfig({ validateCredential: async () => true })
    const states = await Promise.all(written.map((s) => deserializeGroupState(s, lax)))
    // What the others (not leaf 0) stored while both proposals were pending: each names leaf 0 as its sender.
    const pending = states
      .filter((s) => s.privatePath.leafIndex !== 0)
      .map((s) => Object.values(s.unappliedProposals).map((p) => p.senderLeafIndex))
      .filter((senders) => senders.length === 2)
    expect(pending.length).toBeGreaterThan(0)
    for (const senders of pending) expect(senders).toEqual([0, 0])
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
