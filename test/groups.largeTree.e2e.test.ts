// Issue 11: a Welcome whose ratchet tree is too large to travel inline sends it by reference: chunks on a topic
// derived from the Welcome's encrypted_group_info (the same in every joiner's trimmed Welcome), stored once by the
// relay, fetched and checked (by MLS's tree hash) by each joiner. The committer's inline limit is set to 1 byte, so
// every Welcome of this test goes by reference.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Group } from '../src/client/Client.js'
import { decodeMls } from '../src/client/mls.js'
import { welcomeTreePreimage } from '../src/protocol/topics.js'
import { welcomeTreeTopic } from '../src/protocol/welcomeTree.js'
import { conversationWorld, type LiveClient } from './attacks/conversation-setup.js'
import { waitFor } from './attacks/group-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>
let alice: LiveClient
let bob: LiveClient
let carol: LiveClient
let dave: LiveClient

beforeAll(async () => {
  world = await conversationWorld()
  alice = await world.live(1, undefined, { inlineTreeBytes: 1 })
  ;[bob, carol, dave] = await world.liveAll(2, 3, 4)
}, 120_000)

afterAll(async () => {
  await world?.cleanup()
})

function welcomeOf(payload: Uint8Array) {
  const message = decodeMls(payload)
  return message.wireformat === 'mls_welcome' ? message.welcome : undefined
}

function isWelcome(payload: Uint8Array): boolean {
  try {
    return decodeMls(payload).wireformat === 'mls_welcome'
  } catch {
    return false // a tree chunk
  }
}

describe('ratchet tree by reference', () => {
  test('members join from a Welcome without the tree; a later add does too; messages flow', async () => {
    const welcomes: Uint8Array[] = []
    const publish = alice.transport.publish.bind(alice.transport)
    alice.transport.publish = (envelope) => {
      if (envelope.kind === 'welcome' && isWelcome(envelope.payload)) welcomes.push(envelope.payload)
      return publish(envelope)
    }
    const team = await alice.groups.create({ name: 'big-tree', members: [bob.account, carol.account] })
    await Promise.all([bob, carol].map((c) => waitFor(() => c.groups.get(team.id), 'the join')))
    // Each joiner got the Welcome trimmed to its own group secrets; both name one tree topic, which holds the tree once.
    const [first, second] = welcomes.map((w) => welcomeOf(w))
    expect([first?.secrets.length, second?.secrets.length]).toEqual([1, 1])
    const groupInfo = first?.encryptedGroupInfo as Uint8Array
    expect(welcomeTreeTopic(second?.encryptedGroupInfo as Uint8Array)).toBe(welcomeTreeTopic(groupInfo))
    const reader = await world.relayTransportOf(carol.home, 3) // a fresh connection: the relay's stored copy
    const topic = welcomeTreeTopic(groupInfo)
    const preimage = () => welcomeTreePreimage(groupInfo)
    const chunks = await reader.pull({ topic, after: 0n, preimage })
    await reader.close()
    expect(chunks.length).toBeGreaterThan(0)
    expect(chunks.every((c) => c.envelope.kind === 'welcome')).toBe(true)

    await team.add([dave.account])
    const daveTeam = await waitFor(() => dave.groups.get(team.id), 'Dave to join')
    expect(welcomes).toHaveLength(3) // one Welcome per invited device: Bob, Carol, then Dave
    const arriving = (daveTeam as Group).stream().next()
    await team.send('trees by reference')
    expect((await arriving).value.text).toBe('trees by reference')
    expect(bob.rejected).toEqual([])
  })
})
