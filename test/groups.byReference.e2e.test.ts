// Issue 11: a group larger than the 1 MiB envelope runs through the relay with the SDK. Each joiner gets the Welcome
// trimmed to its own group secrets, the GroupInfo and the tree stored once by reference, and a commit larger than an
// envelope (the first removal after an add-only creation seals a path secret to every leaf) goes by reference: its
// chunks on a blob topic, a commit reference in its place on the group topic (protocol §3.7, §3.9). The admin's
// thresholds are lowered to 1 byte, so a group of five exercises every path a group of 1,000 takes.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Group } from '../src/client/Client.js'
import { decodeMls } from '../src/client/mls.js'
import { decodeReference } from '../src/protocol/byReference.js'
import { createEnvelope, type Envelope } from '../src/protocol/envelope.js'
import { blobPreimage, inboxTopic } from '../src/protocol/topics.js'
import { blobTopic, welcomeTreeTopic } from '../src/protocol/welcomeTree.js'
import { conversationWorld, type LiveClient } from './attacks/conversation-setup.js'
import { converged, joined, waitFor } from './attacks/group-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>
let alice: LiveClient
let bob: LiveClient
let carol: LiveClient
let dave: LiveClient
let erin: LiveClient
const published: Envelope[] = []

beforeAll(async () => {
  world = await conversationWorld()
  const inline = { inlineTreeBytes: 1, inlineCommitBytes: 1, inlineGroupInfoBytes: 1 }
  ;[alice, bob, carol, dave, erin] = await Promise.all([
    world.live(1, undefined, inline),
    world.live(2),
    world.live(3),
    world.live(4),
    world.live(5),
  ])
  const publish = alice.transport.publish.bind(alice.transport)
  alice.transport.publish = (envelope) => {
    published.push(envelope)
    return publish(envelope)
  }
}, 120_000)

afterAll(async () => {
  await world?.cleanup()
})

/** The chunks stored on `topic`, read over a fresh connection (the relay's copy). */
async function stored(topic: `0x${string}`, digest: `0x${string}`) {
  const reader = await world.relayTransportOf(dave.home, 4)
  try {
    return await reader.pull({ topic, after: 0n, preimage: () => blobPreimage(digest) })
  } finally {
    await reader.close()
  }
}

describe('a group beyond the envelope limit, through the relay', () => {
  let team: Group

  test('each joiner gets its own trimmed Welcome; the GroupInfo and the tree are stored once', async () => {
    team = await alice.groups.create({
      name: 'by-reference',
      members: [bob, carol, dave].map((c) => c.account),
    })
    await Promise.all([bob, carol, dave].map((c) => joined(c, team.id)))
    const welcomes = published.filter((e) => e.kind === 'welcome' && decodeReference(e.payload, 'welcome'))
    expect(welcomes).toHaveLength(3)
    const references = welcomes.map((e) => decodeReference(e.payload, 'welcome')!)
    const inner = references.map((r) => decodeMls(r.welcome))
    for (const m of inner) {
      if (m.wireformat !== 'mls_welcome') throw new Error('not a Welcome')
      expect(m.welcome.secrets).toHaveLength(1)
      expect(m.welcome.encryptedGroupInfo).toHaveLength(0)
    }
    expect(new Set(references.map((r) => r.digest)).size).toBe(1) // one GroupInfo for all three
    const [{ digest, total }] = references as [(typeof references)[0]]
    const chunks = await stored(blobTopic(digest), digest)
    expect(chunks.map((c) => c.envelope.payload.length - 41).reduce((a, b) => a + b, 0)).toBe(total)
    // The tree went by reference too, on the topic derived from that GroupInfo.
    const treeChunks = published.filter((e) => e.kind === 'welcome' && !decodeReference(e.payload, 'welcome'))
    expect(treeChunks.length).toBeGreaterThan(1) // the GroupInfo's chunk and at least one tree chunk
    expect(treeChunks.some((e) => e.topic !== blobTopic(digest))).toBe(true)
    await converged(team.id, [alice, bob, carol, dave])
  })

  test('a removal whose commit is larger than the limit goes by reference and is applied in its place', async () => {
    const before = published.length
    await team.remove([carol.account])
    const commits = published.slice(before).filter((e) => e.kind === 'commit' && e.topic === team.id)
    expect(commits).toHaveLength(1)
    const reference = decodeReference((commits[0] as Envelope).payload, 'commit')
    expect(reference?.kind).toBe('commit')
    const chunks = await stored(blobTopic(reference!.digest), reference!.digest)
    expect(chunks.length).toBeGreaterThan(0)
    const epoch = await converged(team.id, [alice, bob, dave])
    expect(epoch).toBe(team.info().epoch)
    await waitFor(() => carol.groups.get(team.id)?.info().active === false, 'Carol to see her removal')
  })

  test('a later add (one joiner: GroupInfo inline, tree and commit by reference); messages flow; nothing refused', async () => {
    const before = published.length
    await team.add([erin.account])
    const erinTeam = await joined(erin, team.id)
    const inbox = inboxTopic(erin.deviceId)
    const [welcome] = published.slice(before).filter((e) => e.kind === 'welcome' && e.topic === inbox)
    const message = decodeMls((welcome as Envelope).payload) // a plain trimmed Welcome: one joiner
    if (message.wireformat !== 'mls_welcome') throw new Error('not a Welcome')
    expect(message.welcome.secrets).toHaveLength(1)
    expect(welcomeTreeTopic(message.welcome.encryptedGroupInfo)).toMatch(/^0x[0-9a-f]{64}$/)
    await converged(team.id, [alice, bob, dave, erin])
    const arriving = [bob, dave, erin].map((c) => (c.groups.get(team.id) as Group).stream().next())
    await team.send('by reference')
    for (const next of arriving) expect((await next).value.text).toBe('by reference')
    expect(erinTeam.info().epoch).toBe(team.info().epoch)
    expect([...bob.rejected, ...dave.rejected]).toEqual([])
    // Erin replays the group topic from its start: what was sealed before she joined is not hers to read.
    expect(erin.rejected.every((r) => r.error.message.includes('epoch too old'))).toBe(true)
  })

  test('a commit reference whose chunks are not on the relay is refused, and the group goes on', async () => {
    const digest = `0x${'ab'.repeat(32)}` as const
    const planted = createEnvelope({
      kind: 'commit',
      topic: team.id,
      payload: Uint8Array.from([0x53, 0x50, 1, 1, ...Buffer.from(digest.slice(2), 'hex'), 0, 0, 1, 0]),
    })
    await bob.transport.publish(planted)
    const refused = await waitFor(
      () => dave.rejected.find((r) => r.envelopeId === planted.id),
      'Dave to refuse the dangling reference',
    )
    expect(refused.error.code).toBe('SEALPOST_MLS_REJECTED')
    const arriving = (dave.groups.get(team.id) as Group).stream().next()
    await team.send('still here')
    expect((await arriving).value.text).toBe('still here')
  })
})
