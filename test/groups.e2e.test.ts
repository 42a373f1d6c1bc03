// Issue 11: group chats on real components (anvil, contracts, a relay over sockets, SQLite homes): creation, admin
// changes, removal with forward secrecy, concurrent admin commits, rename, leave, and a non-admin's refused change.
import { makePskIndex, processPrivateMessage } from 'ts-mls'
import type { Address, Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Client, Group } from '../src/client/Client.js'
import { GroupChangeError, NotGroupAdminError } from '../src/client/groupErrors.js'
import { loadDevice } from '../src/client/identity.js'
import { decodeMls, deserializeGroupState, mlsClientConfig, registryAuthService } from '../src/client/mls.js'
import { getMlsCiphersuite } from '../src/crypto/mls.js'
import { DeviceStore } from '../src/store/deviceStore.js'
import { conversationWorld, type LiveClient } from './attacks/conversation-setup.js'
import { converged, joined, waitFor } from './attacks/group-setup.js'
import { testPassphrase } from './utils/clients.js'

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

/** The next message `client` receives in group `id` (verified). */
function nextMessage(client: Client, id: Hex): Promise<{ from: Address; text: string }> {
  const stream = (client.groups.get(id) as Group).stream()
  return stream.next().then(async (r) => {
    await stream.return?.()
    return { from: r.value.from, text: r.value.text }
  })
}

describe('group chats', () => {
  let ops: Group

  test('an admin creates a group of four accounts: every device joins, a message reaches every member, and every member confirms it with a signed delivery receipt', async () => {
    ops = await alice.groups.create({
      name: 'ops',
      members: [bob.account, carol.account, dave.account],
      admins: [bob.account],
    })
    const handles = await Promise.all([bob, carol, dave].map((c) => joined(c, ops.id)))
    expect(handles.map((g) => g.info().name)).toEqual(['ops', 'ops', 'ops'])
    const info = ops.info()
    expect(info.members).toHaveLength(4)
    expect(new Set(info.admins)).toEqual(new Set([alice.account, bob.account]))
    await converged(ops.id, [alice, bob, carol, dave])

    const arriving = [bob, carol, dave].map((c) => nextMessage(c, ops.id))
    const sent = await ops.send('standup in 5')
    for (const got of await Promise.all(arriving))
      expect(got).toEqual({ from: alice.account, text: 'standup in 5' })
    await alice.waitForState(sent.id, 'accepted', { timeoutMs: 10_000 })
    // Each member device returns a signed delivery receipt, sealed to the group: Alice can show who received it.
    const delivery = await waitFor(() => {
      const d = ops.delivery(sent.id)
      return d.delivered.length === 3 && d
    }, 'three signed delivery receipts')
    expect(new Set(delivery.delivered)).toEqual(new Set([bob.account, carol.account, dave.account]))
    expect(delivery.members).toHaveLength(3)
    expect(alice.messages.deliveries(sent.id).every((d) => d.receipt.startsWith('0x'))).toBe(true)
    // Every member sees the receipts too (they are group messages), and no receipt shows up as a chat message.
    await waitFor(
      () => (bob.groups.get(ops.id) as Group).delivery(sent.id).delivered.length === 3,
      'Bob to see them',
    )
    expect(ops.messages().map((m) => m.body)).toEqual(['standup in 5'])

    const { members } = ops.members()
    expect(members.map((m) => m.account).sort()).toEqual(info.members.slice().sort())
    for (const m of members) {
      expect(m.devices.length).toBeGreaterThan(0)
      expect(m.devices.every((d) => d.status === 'active' && d.inGroup)).toBe(true)
    }
    expect(alice.conversations.list().map((c) => c.id)).not.toContain(ops.id) // groups are not 1:1 conversations
  })

  test('a non-admin cannot change the group, and cannot remove its own account except by leaving', async () => {
    const carolOps = carol.groups.get(ops.id) as Group
    const err = await carolOps.add([world.net.account(5).address]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NotGroupAdminError)
    expect((err as NotGroupAdminError).code).toBe('SEALPOST_NOT_GROUP_ADMIN')
    const self = await ops.remove([alice.account]).catch((e: unknown) => e)
    expect(self).toBeInstanceOf(GroupChangeError)
  })

  test('an admin removes an account: its devices leave, and its saved state cannot open what follows', async () => {
    // Dave's state before the removal, as a thief of his device would keep it.
    const keys = await loadDevice({ home: dave.home, passphrase: testPassphrase })
    const daveStore = DeviceStore.open({ path: `${keys.dir}/state.sqlite`, storageKey: keys.storageKey })
    const saved = (daveStore.getGroup(ops.id) as { state: Uint8Array }).state
    daveStore.close()

    const epoch = await bob.groups.get(ops.id)?.remove([dave.account])
    await waitFor(() => dave.groups.get(ops.id)?.info().active === false, 'Dave to see his removal')
    expect(await converged(ops.id, [alice, bob, carol])).toBe(epoch)
    expect(ops.info().members).not.toContain(dave.account)

    const arriving = nextMessage(carol, ops.id)
    const sent = await ops.send('after dave left')
    expect(await arriving).toEqual({ from: alice.account, text: 'after dave left' })
    // The removed device gets nothing more from the relay; its thief has the envelope from the wire anyway.
    const message = decodeMls(sent.envelope.payload)
    if (message.wireformat !== 'mls_private_message') throw new Error('not a private message')
    const config = mlsClientConfig(
      registryAuthService({ chainId: dave.chainId, lookup: async (id) => dave.watcher.device(id) }),
    )
    const old = deserializeGroupState(saved, config)
    const impl = await getMlsCiphersuite(dave.ciphersuite)
    await expect(
      processPrivateMessage(old, message.privateMessage, makePskIndex(old, {}), impl),
    ).rejects.toThrow()
  })

  test('two admins commit at the same epoch: the relay orders them, the loser re-applies, both changes land', async () => {
    const [erin, frank] = await Promise.all([5, 6].map((i) => world.live(i)))
    const bobOps = bob.groups.get(ops.id) as Group
    const start = ops.info().epoch
    await Promise.all([ops.add([(erin as LiveClient).account]), bobOps.add([(frank as LiveClient).account])])
    const members = [alice, bob, carol, erin as LiveClient, frank as LiveClient]
    await Promise.all([erin, frank].map((c) => joined(c as LiveClient, ops.id)))
    const epoch = await converged(ops.id, members)
    expect(epoch).toBe(start + 2n) // two commits, one per epoch: no fork, no lost change
    for (const c of members) {
      const names = (c.groups.get(ops.id) as Group).info().members
      expect(names).toContain((erin as LiveClient).account)
      expect(names).toContain((frank as LiveClient).account)
    }
    const arriving = nextMessage(frank as LiveClient, ops.id)
    await bobOps.send('welcome erin and frank')
    expect((await arriving).text).toBe('welcome erin and frank')
  })

  test('an admin renames the group; a member leaves and the group commits its departure', async () => {
    await ops.rename('ops-emea')
    await waitFor(() => carol.groups.get(ops.id)?.info().name === 'ops-emea', 'Carol to see the new name')
    expect(carol.groups.get('ops-emea')?.id).toBe(ops.id)
    const start = ops.info().epoch
    await (carol.groups.get(ops.id) as Group).leave()
    await waitFor(() => carol.groups.get(ops.id)?.info().active === false, 'Carol to be out of the group')
    await waitFor(
      () => ops.info().epoch > start && !ops.info().members.includes(carol.account),
      'her departure',
    )
    expect(ops.members().members.some((m) => m.account === carol.account)).toBe(false)
  })
})
