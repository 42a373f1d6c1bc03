/** `sealpost up --demo`'s traffic on real components: the team group forms, a non-admin's forged commit is refused, Dave is removed. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Rejection } from '../src/client/types.js'
import {
  ConversationPolicyError,
  KeyRevokedError,
  SenderRemovedError,
} from '../src/client/verificationErrors.js'
import { type DemoTraffic, startDemoTraffic } from '../src/demo/traffic.js'
import { pollUntil } from '../src/demo/waits.js'
import type { RelayNode } from '../src/relay/node.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { testNetwork } from './utils/clients.js'
import { startTestRelayNode } from './utils/stack.js'

let ctx: ChainContext
let node: RelayNode
let traffic: DemoTraffic
let dir: string
/** Every refusal of the parties, with the account that refused. */
const rejections: { by: string; rejection: Rejection }[] = []

beforeAll(async () => {
  ctx = await setupChain()
  const net = testNetwork(ctx)
  dir = mkdtempSync(join(tmpdir(), 'sealpost-traffic-'))
  node = await startTestRelayNode(ctx, net, join(dir, 'relay'))
  traffic = await startDemoTraffic({
    network: {
      rpc: ctx.anvil.rpcUrl,
      deployment: net.deployment,
      relay: node.url,
      dir: join(dir, 'parties'),
    },
    keys: ctx.anvil.accounts.slice(1, 7) as Hex[],
    intervalMs: 100,
    attackEvery: 3,
    observe: (client) => {
      const record = (rejection: Rejection) => rejections.push({ by: client.account, rejection })
      client.events.on('rejected', record)
      return () => client.events.off('rejected', record)
    },
  })
}, 120_000)

afterAll(async () => {
  await traffic?.stop()
  await node?.stop()
  await ctx?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

test('the team group of four forms; Carol forges a commit and every other member refuses it; Dave is removed and reads nothing more', async () => {
  const { alice, bob, carol, dave } = traffic.parties
  const id = traffic.group.id
  for (const c of [bob, carol, dave]) expect(c.groups.get(id)?.info().name).toBe('ops')
  expect(traffic.group.info().admins).toEqual([alice.account])

  // Carol's self-promotion: refused by Alice, Bob and Dave (rule not-admin); Carol stays a member, not an admin.
  const refusedBy = await pollUntil(
    () => {
      const who = new Set(
        rejections
          .filter(
            ({ rejection: r }) => r.error instanceof ConversationPolicyError && r.error.rule === 'not-admin',
          )
          .map((r) => r.by),
      )
      return [alice, bob, dave].every((c) => who.has(c.account)) && who
    },
    60_000,
    "Carol's forged commit to be refused",
  )
  expect(refusedBy.has(carol.account)).toBe(false)
  expect(traffic.group.info().admins).toEqual([alice.account])

  // Alice removes Dave after the team's third message; the group's next message reaches Bob, never Dave.
  await pollUntil(() => dave.groups.get(id)?.info().active === false, 60_000, 'Dave to be removed')
  // Alice stores her commit's new state just after publishing it, so Dave may see it a moment before her view does.
  await pollUntil(
    () => !traffic.group.info().members.includes(dave.account),
    10_000,
    "Alice's view without Dave",
  )
  const removedAt = Date.now()
  const later = await pollUntil(
    () =>
      bob.groups
        .get(id)
        ?.messages()
        .find((m) => m.direction === 'in' && m.receivedAt > removedAt),
    60_000,
    'a team message after the removal',
  )
  expect(dave.messages.get(later.id as Hex)).toBeUndefined()
}, 150_000)

test("Alice's phone, linked by approval, rotated and revoked: Bob and Carol are alerted of each change, in order", async () => {
  const { alice, bob, carol } = traffic.parties
  for (const peer of [bob, carol])
    expect(peer.keyChanges({ account: alice.account }).map((c) => c.kind)).toEqual([
      'added',
      'rotated',
      'revoked',
    ])
  const [added, rotated, revoked] = bob.keyChanges({ account: alice.account })
  // Revoking the rotated phone leaves Alice's devices as they were before the phone: the same safety number.
  expect(revoked?.fingerprintAfter).toBe(added?.fingerprintBefore)
  expect(rotated?.revoked).toEqual(added?.added)
  // The thief's copy holds the rotated, revoked phone: what it seals in its old epoch, Bob refuses.
  const refused = await pollUntil(
    () =>
      rejections.find(
        ({ by, rejection: r }) =>
          by === bob.account && (r.error instanceof SenderRemovedError || r.error instanceof KeyRevokedError),
      ),
    60_000,
    "the revoked phone's message to be refused",
  )
  expect(refused.rejection.error.code).toMatch(/^SEALPOST_(SENDER_REMOVED|KEY_REVOKED)$/)
}, 90_000)
