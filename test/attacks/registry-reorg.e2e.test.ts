// Issue 12, bad input: a chain reorganisation takes away a device addition after the conversation's committer added
// that device. Every client's registry watcher rewinds; the committer removes the leaf the registry no longer backs
// and the members accept that removal, so nobody keeps the vanished device as a member.
import type { Hex } from 'viem'
import { expect, test } from 'vitest'
import type { Client, Conversation } from '../../src/client/Client.js'
import { conversationWorld, type LiveClient } from './conversation-setup.js'
import { waitFor } from './group-setup.js'

/** The device ids holding a leaf of direct conversation `id` on `client`, lower case and sorted. */
function leaves(client: Client, id: Hex): string[] {
  const info = client.conversations.get(id)?.info()
  return info?.active ? info.members.map((m) => m.deviceId.toLowerCase()).sort() : []
}

function holds(client: Client, id: Hex, devices: Hex[], what: string): Promise<true> {
  const want = JSON.stringify(devices.map((d) => d.toLowerCase()).sort())
  return waitFor(() => JSON.stringify(leaves(client, id)) === want, what, 60_000)
}

// The world is made inside the test, so that a retry (CI) starts from a fresh chain and fresh clients.
test('a reorg removes the block that registered a device after it joined a conversation: its leaf is removed everywhere', async () => {
  const world = await conversationWorld()
  try {
    const [alice, bob] = (await world.liveAll(1, 2)) as [LiveClient, LiveClient]
    await reorgRemovesLeaf(world, alice, bob)
  } finally {
    await world.cleanup()
  }
}, 240_000)

async function reorgRemovesLeaf(
  world: Awaited<ReturnType<typeof conversationWorld>>,
  alice: LiveClient,
  bob: LiveClient,
): Promise<void> {
  const chat: Conversation = await alice.conversations.open(bob.account)
  await holds(bob, chat.id, [alice.deviceId, bob.deviceId], 'Bob to join the chat')
  const snapshot = await world.ctx.snapshot()
  const tablet = await world.live(1) // a second device of Alice's account, registered after the snapshot
  const everyone = [alice.deviceId, bob.deviceId, tablet.deviceId]
  await holds(bob, chat.id, everyone, "Bob to see Alice's tablet added")
  await holds(alice, chat.id, everyone, 'Alice to see her tablet added')

  // Replace every block since the snapshot by empty blocks, one more than there were: the addition never happened.
  const head = await world.ctx.publicClient.getBlockNumber()
  await world.ctx.revert(snapshot)
  const base = await world.ctx.publicClient.getBlockNumber()
  await world.ctx.mine(Number(head - base) + 2)

  await holds(bob, chat.id, [alice.deviceId, bob.deviceId], "Bob to drop the tablet's leaf")
  await holds(alice, chat.id, [alice.deviceId, bob.deviceId], "Alice to drop the tablet's leaf")
  expect(bob.watcher.device(tablet.deviceId)).toBeUndefined()
  expect(alice.watcher.device(tablet.deviceId)).toBeUndefined()
  // The removal was accepted by the members, not refused as the removal of an active device.
  const refused = [...alice.rejected, ...bob.rejected].filter(
    (r) => r.error.code === 'SEALPOST_CONVERSATION_POLICY',
  )
  expect(refused.map((r) => r.error.shortMessage)).toEqual([])
  await tablet.close()
}
