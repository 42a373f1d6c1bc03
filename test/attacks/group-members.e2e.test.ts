// Issue 11, faults around membership: a member offline across several epochs catches up; the only admin leaves and
// the lowest remaining member becomes admin everywhere; a removed member's saved state still sends in its old epoch
// and every member refuses it.
import { cpSync } from 'node:fs'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Group } from '../../src/client/Client.js'
import { SenderRemovedError } from '../../src/client/verificationErrors.js'
import { sortAccounts } from '../../src/protocol/conversationContext.js'
import { conversationWorld, type LiveClient } from './conversation-setup.js'
import { converged, honestGroup, refusedByAll, viewsOf, waitFor } from './group-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>
let alice: LiveClient
let bob: LiveClient
let carol: LiveClient
let dave: LiveClient

beforeAll(async () => {
  world = await conversationWorld()
  ;[alice, bob, carol, dave] = await world.liveAll(1, 2, 3, 4)
}, 180_000)

afterAll(async () => {
  await world?.cleanup()
})

/** Sends `text` from `from` in group `id` and waits until each of `to` has it. */
async function say(from: LiveClient, id: Hex, text: string, to: LiveClient[]): Promise<void> {
  await (from.groups.get(id) as Group).send(text)
  await Promise.all(
    to.map((c) =>
      waitFor(
        () =>
          c.groups
            .get(id)
            ?.messages()
            .some((m) => m.body === text),
        `${c.account} to receive "${text}"`,
      ),
    ),
  )
}

describe('a member offline across several epochs', () => {
  test('comes back, applies every commit in order, reads every message, and ends at the same epoch', async () => {
    const night = await honestGroup(alice, [bob, carol], { name: 'night' })
    await say(alice, night.id, 'before carol sleeps', [bob, carol])
    const start = night.info().epoch
    await carol.close()

    await night.add([dave.account])
    await converged(night.id, [alice, bob, dave])
    await say(alice, night.id, 'dave joined', [bob, dave])
    await night.rename('night-shift')
    await say(bob, night.id, 'renamed', [alice, dave])
    await night.remove([dave.account])
    await waitFor(() => dave.groups.get(night.id)?.info().active === false, 'Dave to see his removal')
    await say(alice, night.id, 'dave left', [bob])
    await night.setAdmins([alice.account, bob.account])
    await say(bob, night.id, 'bob is admin', [alice])
    const end = await converged(night.id, [alice, bob])
    expect(end).toBe(start + 4n) // four commits while Carol was away

    carol = await world.live(3, carol.home)
    const back = await converged(night.id, [alice, bob, carol])
    expect(back).toBe(end)
    const carolNight = carol.groups.get(night.id) as Group
    expect(carolNight.info()).toEqual(night.info())
    expect(carolNight.info()).toMatchObject({
      name: 'night-shift',
      members: sortAccounts([alice.account, bob.account, carol.account]),
      admins: sortAccounts([alice.account, bob.account]),
      active: true,
    })
    await waitFor(() => carolNight.messages().length === 5, 'Carol to read what she missed')
    const [a, b] = [alice.account.toLowerCase(), bob.account.toLowerCase()]
    expect(carolNight.messages().map((m) => [m.from.toLowerCase(), m.body])).toEqual([
      [a, 'before carol sleeps'],
      [a, 'dave joined'],
      [b, 'renamed'],
      [a, 'dave left'],
      [b, 'bob is admin'],
    ])
    // She refuses nothing the members who stayed online accepted (a removed device's late message, such as Dave's
    // delivery receipt sealed before his removal and sequenced after it, is refused by everyone alike).
    const refused = (c: LiveClient) => c.rejected.filter((r) => r.topic === night.id).map((r) => r.envelopeId)
    for (const id of refused(carol)) expect(refused(alice)).toContain(id)
    // And she is a full member again: her message reaches the others.
    await say(carol, night.id, 'good morning', [alice, bob])
  })
})

describe('the only admin leaves', () => {
  test('the lowest remaining member becomes admin at every member, and can act as one', async () => {
    // Bob is made the only admin; the group's first leaf (Alice's) stays a plain member.
    const solo = await honestGroup(alice, [bob, carol, dave], { name: 'solo' })
    await solo.setAdmins([bob.account])
    const all = [alice, bob, carol, dave]
    await converged(solo.id, all)
    for (const c of all) expect(c.groups.get(solo.id)?.info().admins).toEqual([bob.account])
    const rest = [alice, carol, dave]
    const lowest = sortAccounts(rest.map((c) => c.account))[0] as Hex
    await (bob.groups.get(solo.id) as Group).leave()
    await waitFor(() => bob.groups.get(solo.id)?.info().active === false, 'Bob to be out of the group')
    await converged(solo.id, rest)
    for (const c of rest)
      expect(c.groups.get(solo.id)?.info()).toMatchObject({
        members: sortAccounts(rest.map((x) => x.account)),
        admins: [lowest],
        active: true,
      })
    const admin = rest.find((c) => c.account === lowest) as LiveClient
    const epoch = await (admin.groups.get(solo.id) as Group).rename('solo-2')
    expect(await converged(solo.id, rest)).toBe(epoch)
    for (const c of rest) expect(c.groups.get(solo.id)?.info().name).toBe('solo-2')
  })
})

describe('a removed member still sending in its old epoch', () => {
  test('its saved state seals a valid message after the removal: SenderRemovedError at every member, nothing stored', async () => {
    const crew = await honestGroup(alice, [bob, carol, dave], { name: 'crew' })
    // A copy of Dave's device (keys and group state) taken before his removal.
    await dave.close()
    const stolen = world.newHome()
    cpSync(dave.home, stolen, { recursive: true })
    const members = [alice, bob, carol]
    const before = crew.info().epoch
    await crew.remove([dave.account])
    expect(await converged(crew.id, members)).toBe(before + 1n)

    const thief = await world.net.client({
      account: world.net.account(4),
      home: stolen,
      transport: await world.relayTransportOf(stolen, 4),
    })
    const views = viewsOf(members, crew.id)
    const sent = await (thief.groups.get(crew.id) as Group).send('sealed after my removal')
    expect(sent.statement).toMatchObject({ epoch: before })
    const errors = await refusedByAll(members, sent.envelope, crew.id, views, {
      type: SenderRemovedError,
      code: 'SEALPOST_SENDER_REMOVED',
    })
    expect(errors).toHaveLength(3)
    for (const c of members)
      expect(
        c.groups
          .get(crew.id)
          ?.messages()
          .map((m) => m.body),
      ).not.toContain('sealed after my removal')
  })
})
