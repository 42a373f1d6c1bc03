// Issue 14: the client and chain taps that had no emitter, on a real relay and chain. A gap in a sender's sequence
// numbers (messages the relay never delivered) reaches the IDS as `seq-gap` and its relay-drop model fires; a
// stranger's group Welcome held for consent is `welcome` with `expected: false` and the unexpected-welcome rule fires;
// a root anchored by an account that is not a known anchorer is `anchor` and the front-running rule fires.
import { randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { anchorRoot } from '../../src/chain/messageAnchor.js'
import type { Alert } from '../../src/ids/alerts.js'
import { tapAnchorLogs } from '../../src/ids/anchorTap.js'
import { tapClient } from '../../src/ids/clientTap.js'
import { IdsEngine } from '../../src/ids/engine.js'
import type { IdsEvent } from '../../src/ids/events.js'
import { conversationWorld, type LiveClient } from './conversation-setup.js'
import { joined, waitFor } from './group-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>
let alice: LiveClient
let bob: LiveClient
let carol: LiveClient
let mallory: LiveClient
const untaps: (() => void)[] = []

/** An engine that keeps every event it got (no warm-up: the first window is scored). */
function tappedEngine(knownAnchorers: string[] = []) {
  const events: IdsEvent[] = []
  const engine = new IdsEngine({ warmupMs: 0, knownAnchorers })
  const sink = {
    emit: (e: IdsEvent) => {
      events.push(e)
      engine.ingest(e)
    },
  }
  return { engine, events, sink }
}
const ofCategory = (alerts: readonly Alert[], category: string) =>
  alerts.filter((a) => a.category === category)

beforeAll(async () => {
  world = await conversationWorld()
  ;[alice, bob, carol, mallory] = await Promise.all([
    world.live(1),
    world.live(2, undefined, { groups: { accept: 'contacts' } }),
    world.live(3),
    world.live(6),
  ])
}, 120_000)

afterAll(async () => {
  for (const u of untaps) u()
  await world?.cleanup()
})

describe('IDS taps on real components', () => {
  test('a gap in the sender’s sequence numbers is seq-gap with the messages missing; relay-drop fires', async () => {
    const { engine, events, sink } = tappedEngine()
    untaps.push(tapClient(carol, sink))
    const group = await alice.groups.create({ name: 'gap', members: [carol.account] })
    const carolGroup = await joined(carol, group.id)
    const arriving = carolGroup.stream()
    await group.send('one')
    expect((await arriving.next()).value.text).toBe('one')
    // Ten messages the relay "lost": the next one Carol receives jumps from seq 1 (or a receipt after it) to 20.
    await group.send('after the gap', { unsafeSeq: 20n })
    expect((await arriving.next()).value.text).toBe('after the gap')
    const gap = await waitFor(() => events.find((e) => e.kind === 'seq-gap'), 'the seq-gap event')
    expect(gap).toMatchObject({
      src: 'client',
      kind: 'seq-gap',
      device: carol.deviceId.toLowerCase(),
      topic: group.id.toLowerCase(),
      relay: world.node.url,
    })
    expect(gap.kind === 'seq-gap' && gap.missing >= 10 && gap.missing <= 18).toBe(true)
    engine.flush()
    const [drop] = ofCategory(engine.alerts(), 'relay-drop')
    expect(drop).toMatchObject({
      detector: { type: 'anomaly', name: 'relay.seqGaps' },
      entities: [`relay:${world.node.url}`],
    })
    expect(carol.rejected).toEqual([])
  })

  test("a stranger's group Welcome held for consent is welcome expected:false; the unexpected-welcome rule fires", async () => {
    const { engine, events, sink } = tappedEngine()
    untaps.push(tapClient(bob, sink))
    const spam = await mallory.groups.create({ name: 'free tokens', members: [bob.account] })
    await waitFor(() => bob.groups.invitations().length > 0, 'the invitation to be held')
    const welcome = await waitFor(() => events.find((e) => e.kind === 'welcome'), 'the welcome event')
    expect(welcome).toMatchObject({
      kind: 'welcome',
      device: bob.deviceId.toLowerCase(),
      group: spam.id.toLowerCase(),
      expected: false,
    })
    const [alert] = ofCategory(engine.alerts(), 'policy-violation')
    expect(alert).toMatchObject({
      severity: 'high',
      detector: { type: 'rule', name: 'unexpected-welcome' },
      entities: [`device:${bob.deviceId.toLowerCase()}`],
    })
  })

  test('a root anchored by an account that is no known anchorer is anchor; the front-running rule fires', async () => {
    const { ctx } = world
    const known = ctx.walletClients[0]!
    const stranger = ctx.walletClients[7]!
    const relayAnchorer = ctx.walletClients[9]! // the test relay's anchorer (test/utils/stack.ts)
    const { engine, events, sink } = tappedEngine(
      [known, relayAnchorer].map((w) => w.account.address.toLowerCase()),
    )
    const tap = tapAnchorLogs(ctx.publicClient, sink, { contract: ctx.contracts.messageAnchor, pollMs: 0 })
    untaps.push(() => tap.stop())
    await tap.poll() // starts after the head: earlier anchors are not news
    const rand32 = (): Hex => `0x${randomBytes(32).toString('hex')}`
    const ours = rand32()
    const theirs = rand32()
    await anchorRoot(known, { contract: ctx.contracts.messageAnchor, root: ours, leafCount: 1 })
    await anchorRoot(stranger, { contract: ctx.contracts.messageAnchor, root: theirs, leafCount: 1 })
    await tap.poll()
    expect(events.filter((e) => e.kind === 'anchor' && (e.root === ours || e.root === theirs))).toEqual([
      expect.objectContaining({ root: ours, submitter: known.account.address.toLowerCase() }),
      expect.objectContaining({ root: theirs, submitter: stranger.account.address.toLowerCase() }),
    ])
    const front = ofCategory(engine.alerts(), 'anchor-front-running')
    expect(front).toEqual([
      expect.objectContaining({
        severity: 'high',
        detector: { type: 'rule', name: 'unknown-anchorer' },
        entities: [`submitter:${stranger.account.address.toLowerCase()}`],
        evidence: expect.objectContaining({ root: theirs }),
      }),
    ])
    expect(tap.failures).toBe(0)
  })
})
