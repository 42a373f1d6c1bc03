// Security E4: anyone registered can put an account into a group it did not ask for. With `groups: { accept:
// 'contacts' }` a Welcome whose signer (the inviter, found from the signed GroupInfo, not from the context the inviter
// wrote) shares no conversation with the account is held as an invitation: no group is stored, nothing of it is
// read, until the account accepts; declining forgets it with its key package. Mallory is a stranger to Alice; Bob is
// a contact once Alice has a group with him.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Group } from '../../src/client/Client.js'
import { InvitationNotFoundError } from '../../src/client/groupErrors.js'
import { conversationWorld, type LiveClient } from './conversation-setup.js'
import { converged, joined, waitFor } from './group-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>
let alice: LiveClient
let bob: LiveClient
let mallory: LiveClient

beforeAll(async () => {
  world = await conversationWorld()
  ;[alice, bob, mallory] = await Promise.all([
    world.live(1, undefined, { groups: { accept: 'contacts' } }),
    world.live(2),
    world.live(6),
  ])
}, 120_000)

afterAll(async () => {
  await world?.cleanup()
})

describe('group invitations need consent (accept: contacts)', () => {
  test("a stranger's group is held, not joined, even when it names Alice's contact as admin; declining forgets it", async () => {
    await alice.groups.create({ name: 'alice-bob', members: [bob.account] }) // Bob becomes a contact
    const spam = await mallory.groups.create({
      name: 'free tokens',
      members: [alice.account, bob.account],
      admins: [bob.account], // a context names whoever its writer likes: the inviter is the GroupInfo's signer
    })
    const [held] = await waitFor(() => {
      const list = alice.groups.invitations()
      return list.length > 0 && list
    }, 'the invitation to be held')
    expect(held).toMatchObject({ conversation: spam.id, inviter: mallory.account, name: 'free tokens' })
    expect(alice.groups.get(spam.id)).toBeUndefined()
    const arriving = (await joined(bob, spam.id)).stream().next() // Bob's policy takes anyone
    await spam.send('click here')
    expect((await arriving).value.text).toBe('click here')
    expect(alice.groups.get(spam.id)).toBeUndefined() // nothing of it is stored or read

    await alice.groups.decline(held!.id)
    expect(alice.groups.invitations()).toEqual([])
    await expect(alice.groups.accept(held!.id)).rejects.toBeInstanceOf(InvitationNotFoundError)
    expect(alice.rejected).toEqual([])
  })

  test("a contact's group is joined at once; a held invitation accepted later joins and reads what follows", async () => {
    const team = await bob.groups.create({ name: 'bob-team', members: [alice.account] })
    await joined(alice, team.id) // Bob is a contact: no invitation
    expect(alice.groups.invitations()).toEqual([])

    const other = await mallory.groups.create({ name: 'second try', members: [alice.account] })
    const [held] = await waitFor(() => {
      const list = alice.groups.invitations()
      return list.length > 0 && list
    }, 'the second invitation')
    const accepted: Group = await alice.groups.accept(held!.id)
    expect(accepted.id).toBe(other.id)
    expect(alice.groups.invitations()).toEqual([])
    await converged(other.id, [alice, mallory])
    const arriving = accepted.stream().next()
    await other.send('welcome, with consent')
    expect((await arriving).value.text).toBe('welcome, with consent')
  })
})
