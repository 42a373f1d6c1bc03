// Issue 11, bad input: forged group commits and proposals from a member's own stored state (raw ts-mls, where the
// SDK refuses): a non-admin's context change, a revoked or unregistered device added, a non-admin's standalone
// proposal, and a replayed commit. Every other member refuses each, typed, and its group does not move.
import type { Proposal } from 'ts-mls'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Group } from '../../src/client/Client.js'
import { contextOf } from '../../src/client/conversationPolicy.js'
import { loadDevice } from '../../src/client/identity.js'
import { conversationExtensions, createKeyPackage, decodeMls, membersOf } from '../../src/client/mls.js'
import {
  ConversationPolicyError,
  MlsRejectedError,
  ReplayError,
} from '../../src/client/verificationErrors.js'
import { getMlsCiphersuite } from '../../src/crypto/mls.js'
import { type ConversationContext, sortAccounts } from '../../src/protocol/conversationContext.js'
import type { Envelope } from '../../src/protocol/envelope.js'
import { conversationPreimage } from '../../src/protocol/topics.js'
import { testPassphrase } from '../utils/clients.js'
import { conversationWorld, type LiveClient, random32 } from './conversation-setup.js'
import {
  converged,
  forgeCommit,
  forgeProposal,
  honestGroup,
  publishOnGroup,
  refusedByAll,
  storedState,
  viewsOf,
  waitFor,
} from './group-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>
let alice: LiveClient
let bob: LiveClient
let carol: LiveClient
let dave: LiveClient
let ops: Group
/** A registered device outside the group, reading its topic from the relay as anyone may (never acking). */
let observer: Awaited<ReturnType<typeof world.manual>>

beforeAll(async () => {
  world = await conversationWorld()
  ;[alice, bob, carol, dave] = await world.liveAll(1, 2, 3, 4)
  // Alice is the only admin; Carol, a plain member, is the attacker.
  ops = await honestGroup(alice, [bob, carol, dave], { name: 'ops' })
  observer = await world.manual(6, { keyPackages: 0 })
}, 180_000)

afterAll(async () => {
  await world?.cleanup()
})

/** The members who judge Carol's forgeries. */
const victims = () => [alice, bob, dave]

/** The group context as Carol's stored state holds it. */
async function contextNow(): Promise<ConversationContext> {
  const info = ops.info()
  const state = await storedState(carol, ops.id)
  expect(state.groupContext.epoch).toBe(info.epoch)
  return contextOf(state)
}

function contextProposal(context: ConversationContext): Proposal {
  return {
    proposalType: 'group_context_extensions',
    groupContextExtensions: { extensions: conversationExtensions(context) },
  }
}

/** The leaf index of `client`'s device in the group (Carol's view). */
async function leafOf(client: LiveClient): Promise<number> {
  const found = membersOf(await storedState(carol, ops.id)).find(
    (m) => m.identity.deviceId.toLowerCase() === client.deviceId.toLowerCase(),
  )
  if (!found) throw new Error('not in the group')
  return found.leafIndex
}

describe("a non-admin's commit that changes the group context", () => {
  const variants: { name: string; forge: (before: ConversationContext) => Promise<Proposal[]> }[] = [
    {
      name: 'adds an account (its device included)',
      forge: async (before) => {
        const erin = await world.manual(5)
        const kp = await carol.transport.takeKeyPackage({ deviceId: erin.deviceId })
        const message = kp && decodeMls(kp.payload)
        if (message?.wireformat !== 'mls_key_package') throw new Error('no key package for Erin')
        const after = { ...before, members: sortAccounts([...before.members, erin.account]) }
        return [contextProposal(after), { proposalType: 'add', add: { keyPackage: message.keyPackage } }]
      },
    },
    {
      name: 'makes its own account an admin',
      forge: async (before) => [
        contextProposal({ ...before, admins: sortAccounts([...before.admins, carol.account]) }),
      ],
    },
    {
      name: 'renames the group',
      forge: async (before) => [contextProposal({ ...before, name: 'carol-was-here' })],
    },
  ]

  test.each(variants)(
    '$name: refused by every other member (not-admin), the group does not move',
    async ({ forge }) => {
      const before = viewsOf(victims(), ops.id)
      const envelope = await forgeCommit(carol, ops.id, await forge(await contextNow()))
      await refusedByAll(victims(), envelope, ops.id, before, {
        type: ConversationPolicyError,
        code: 'SEALPOST_CONVERSATION_POLICY',
        rule: 'not-admin',
      })
    },
  )
})

describe('a commit adding a device the registry does not back', () => {
  test('a revoked device of a member account: refused by every other member, typed', async () => {
    // Bob's second device never published key packages (the committer cannot add it); its key package is public
    // data the attacker may hold, made here from its keys. Then Bob revokes it.
    const laptop = await world.manual(2, { keyPackages: 0 })
    const keys = await loadDevice({ home: laptop.home, passphrase: testPassphrase })
    const impl = await getMlsCiphersuite(laptop.ciphersuite)
    const { publicPackage } = await createKeyPackage({ identity: laptop.identity, mls: keys.mls, impl })
    await bob.revokeDevice(laptop.deviceId)
    await waitFor(
      () => [...victims(), carol].every((c) => c.watcher.device(laptop.deviceId)?.revokedAt !== undefined),
      'every member to see the revocation',
    )
    const before = viewsOf(victims(), ops.id)
    const envelope = await forgeCommit(carol, ops.id, [
      { proposalType: 'add', add: { keyPackage: publicPackage } },
    ])
    const errors = await refusedByAll(victims(), envelope, ops.id, before, {
      type: MlsRejectedError,
      code: 'SEALPOST_MLS_REJECTED',
    })
    // The registry-backed authentication service refuses the credential before the group rules run.
    for (const error of errors) expect(error.metaMessages?.join('\n')).toMatch(/credential/i)
  })

  test('an unregistered device claiming a member account: refused by every other member, typed', async () => {
    const impl = await getMlsCiphersuite(carol.ciphersuite)
    const mls = await impl.signature.keygen()
    const identity = { chainId: carol.chainId, account: bob.account, deviceId: random32() }
    const { publicPackage } = await createKeyPackage({ identity, mls, impl })
    const before = viewsOf(victims(), ops.id)
    const envelope = await forgeCommit(carol, ops.id, [
      { proposalType: 'add', add: { keyPackage: publicPackage } },
    ])
    const errors = await refusedByAll(victims(), envelope, ops.id, before, {
      type: MlsRejectedError,
      code: 'SEALPOST_MLS_REJECTED',
    })
    for (const error of errors) expect(error.metaMessages?.join('\n')).toMatch(/credential/i)
  })
})

describe("a non-admin's standalone proposal", () => {
  test('removing another member’s active device: refused at receipt (removal-not-allowed), never pending', async () => {
    const before = viewsOf(victims(), ops.id)
    const envelope = await forgeProposal(carol, ops.id, {
      proposalType: 'remove',
      remove: { removed: await leafOf(bob) },
    })
    await refusedByAll(victims(), envelope, ops.id, before, {
      type: ConversationPolicyError,
      code: 'SEALPOST_CONVERSATION_POLICY',
      rule: 'removal-not-allowed',
    })
    for (const victim of victims())
      expect(Object.keys((await storedState(victim, ops.id)).unappliedProposals)).toEqual([])
  })

  test('changing the context: refused at receipt (not-admin), never pending', async () => {
    const before = viewsOf(victims(), ops.id)
    const context = await contextNow()
    const envelope = await forgeProposal(
      carol,
      ops.id,
      contextProposal({ ...context, admins: sortAccounts([...context.admins, carol.account]) }),
    )
    await refusedByAll(victims(), envelope, ops.id, before, {
      type: ConversationPolicyError,
      code: 'SEALPOST_CONVERSATION_POLICY',
      rule: 'not-admin',
    })
    for (const victim of victims())
      expect(Object.keys((await storedState(victim, ops.id)).unappliedProposals)).toEqual([])
  })
})

describe('a replayed commit', () => {
  let honest: Envelope

  test('an honest admin commit still lands at every member after the refused forgeries', async () => {
    const start = ops.info().epoch
    const cursorBefore = await topicHead()
    const epoch = await ops.rename('ops-2')
    expect(epoch).toBe(start + 1n)
    const all = [alice, bob, carol, dave]
    expect(await converged(ops.id, all)).toBe(epoch)
    for (const c of all) {
      const info = c.groups.get(ops.id)?.info()
      expect(info?.name).toBe('ops-2')
      expect(info?.members).toEqual(sortAccounts(all.map((x) => x.account)))
      expect(info?.admins).toEqual([alice.account])
    }
    const preimage = conversationPreimage(await contextNow())
    const commits = (
      await observer.transport.pull({ topic: ops.id, after: cursorBefore, preimage: () => preimage })
    ).filter((d) => d.envelope.kind === 'commit')
    expect(commits).toHaveLength(1)
    honest = (commits[0] as { envelope: Envelope }).envelope
  })

  test('the same envelope again: the relay does not deliver it twice, and a member given it refuses it (ReplayError)', async () => {
    const before = viewsOf([alice, bob, carol, dave], ops.id)
    const head = await topicHead()
    const { cursor } = await carol.transport.publish(honest)
    expect(cursor).toBeLessThanOrEqual(head) // the relay's copy: same sequence, no second delivery
    expect(await topicHead()).toBe(head)
    for (const member of [bob, dave]) {
      const err = await member.receive(honest).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ReplayError)
      expect((err as ReplayError).code).toBe('SEALPOST_REPLAY')
    }
    expect(viewsOf([alice, bob, carol, dave], ops.id)).toEqual(before)
  })

  test('the same commit in a new envelope: refused by every member (MlsRejectedError), no state change', async () => {
    const all = [alice, bob, carol, dave]
    const before = viewsOf(all, ops.id)
    // An envelope id hashes kind, topic and payload: the same commit under another kind is a new envelope. Anyone
    // registered may publish on a group topic; here a device outside the group replays what it read there.
    const envelope = await publishOnGroup(observer, ops.id, honest.payload, 'application')
    expect(envelope.id).not.toBe(honest.id)
    await refusedByAll(all, envelope, ops.id, before, {
      type: MlsRejectedError,
      code: 'SEALPOST_MLS_REJECTED',
    })
    // Still one group: a message from Bob reaches everyone.
    const arriving = all
      .filter((c) => c !== bob)
      .map((c) => new Promise<string>((resolve) => c.events.once('message', (m) => resolve(m.text))))
    await (bob.groups.get(ops.id) as Group).send('still one group')
    expect(await Promise.all(arriving)).toEqual(['still one group', 'still one group', 'still one group'])
  })
})

/** The relay's last cursor on the group topic. */
async function topicHead(): Promise<bigint> {
  let after = 0n
  const preimage = conversationPreimage(await contextNow())
  for (;;) {
    const page = await observer.transport.pull({
      topic: ops.id as Hex,
      after,
      limit: 256,
      preimage: () => preimage,
    })
    if (page.length === 0) return after
    after = (page[page.length - 1] as { cursor: bigint }).cursor
  }
}
