import { randomBytes } from 'node:crypto'
import {
  type ClientState,
  createCommit,
  createGroup,
  type Extension,
  type Proposal,
  zeroOutUint8Array,
} from 'ts-mls'
import { type Address, bytesToHex, type Hex, hexToBytes } from 'viem'
import { beforeAll, describe, expect, test } from 'vitest'
import { CHAIN_ID, mlsWorld, type Party, REGISTRY } from '../../test/utils/mlsParties.js'
import { directContext, directGroupId } from '../protocol/conversationContext.js'
import { checkCommit, checkWelcome, leavesOf, peerOf, policyFilter } from './conversationPolicy.js'
import { conversationExtensions, createKeyPackage } from './mls.js'
import { ConversationPolicyError } from './verificationErrors.js'

let world: Awaited<ReturnType<typeof mlsWorld>>
let alice: Party
let bob: Party
let bob2: Party
let carol: Party

beforeAll(async () => {
  world = await mlsWorld()
  alice = await world.party('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')
  bob = await world.party('0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC')
  bob2 = await world.party('0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC')
  carol = await world.party('0x90F79bf6EB2c4f870365E785982E1f101E93b906')
})

function pair(a: Address, b: Address, chainId = CHAIN_ID) {
  return { chainId, registry: REGISTRY, a, b, nonce: bytesToHex(randomBytes(32)) }
}

/** Alice creates a group (`groupId`, `extensions`) and adds `invitees` in one commit; her state after it. */
async function aliceGroup(
  invitees: Party[],
  { groupId, extensions }: { groupId: Hex; extensions: Extension[] },
): Promise<ClientState> {
  const own = await createKeyPackage({ identity: alice.identity, mls: alice.mls, impl: world.impl })
  const state = await createGroup(
    hexToBytes(groupId),
    own.publicPackage,
    own.privatePackage,
    extensions,
    world.impl,
    world.config,
  )
  return commit(state, await adds(invitees))
}

async function adds(parties: Party[]): Promise<Proposal[]> {
  const proposals: Proposal[] = []
  for (const p of parties) {
    const kp = await createKeyPackage({ identity: p.identity, mls: p.mls, impl: world.impl })
    proposals.push({ proposalType: 'add', add: { keyPackage: kp.publicPackage } })
  }
  return proposals
}

async function commit(state: ClientState, proposals: Proposal[]): Promise<ClientState> {
  const result = await createCommit(
    { state, cipherSuite: world.impl },
    { extraProposals: proposals, ratchetTreeExtension: true },
  )
  result.consumed.forEach(zeroOutUint8Array)
  return result.newState
}

function direct(a: Address, b: Address, chainId = CHAIN_ID) {
  const p = pair(a, b, chainId)
  return { groupId: directGroupId(p), extensions: conversationExtensions(directContext(p)) }
}

function ruleOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConversationPolicyError)
    expect((err as ConversationPolicyError).code).toBe('SEALPOST_CONVERSATION_POLICY')
    return (err as ConversationPolicyError).rule
  }
  throw new Error('expected a refusal')
}

const aliceLeaf = (state: ClientState) => {
  const leaf = leavesOf(state).find((l) => l.identity?.deviceId === alice.deviceId)
  if (!leaf?.identity) throw new Error('alice is not in the group')
  return { leafIndex: leaf.leafIndex, identity: leaf.identity }
}

describe('checkWelcome', () => {
  test('an honest direct group passes and names the peer', async () => {
    const state = await aliceGroup([bob, bob2], direct(alice.account, bob.account))
    const context = checkWelcome({ ...world.policy(bob), state })
    expect(context.kind).toBe('direct')
    expect(peerOf(context, bob.account)).toBe(alice.account)
  })

  test('each broken rule is named', async () => {
    const cases: [string, Party, () => Promise<ClientState>][] = [
      [
        'context-missing',
        bob,
        () => aliceGroup([bob], { groupId: bytesToHex(randomBytes(32)), extensions: [] }),
      ],
      ['wrong-deployment', bob, () => aliceGroup([bob], direct(alice.account, bob.account, 1))],
      ['not-a-member-account', bob, () => aliceGroup([bob], direct(alice.account, carol.account))],
      [
        'bad-group-id',
        bob,
        () =>
          aliceGroup([bob], {
            groupId: bytesToHex(randomBytes(32)),
            extensions: direct(alice.account, bob.account).extensions,
          }),
      ],
      ['foreign-member', bob, () => aliceGroup([bob, carol], direct(alice.account, bob.account))],
    ]
    for (const [rule, judge, build] of cases) {
      const state = await build()
      expect(
        ruleOf(() => checkWelcome({ ...world.policy(judge), state })),
        rule,
      ).toBe(rule)
    }
  })
})

/** Bob's policy with the registry record of `party` replaced (or removed with `undefined`). */
function withRecord(
  party: Party,
  change: (r: NonNullable<ReturnType<typeof world.registry.get>>) => typeof r | undefined,
) {
  const base = world.policy(bob)
  return {
    ...base,
    registry: {
      device: (id: Hex) => {
        const record = world.registry.get(id.toLowerCase())
        return record && id.toLowerCase() === party.deviceId.toLowerCase() ? change(record) : record
      },
    },
  }
}

describe('checkWelcome against the registry', () => {
  test('an unregistered device, a device under another MLS key, and a revoked device are refused', async () => {
    const state = await aliceGroup([bob, bob2], direct(alice.account, bob.account))
    expect(ruleOf(() => checkWelcome({ ...withRecord(bob2, () => undefined), state }))).toBe(
      'unregistered-member',
    )
    expect(
      ruleOf(() =>
        checkWelcome({ ...withRecord(bob2, (r) => ({ ...r, mlsKey: `0x${'11'.repeat(32)}` })), state }),
      ),
    ).toBe('unregistered-member')
    expect(ruleOf(() => checkWelcome({ ...withRecord(bob2, (r) => ({ ...r, revokedAt: 5n })), state }))).toBe(
      'revoked-member',
    )
  })
})

describe('checkCommit', () => {
  test('a removal passes and reports the removed leaf; an addition of the same account passes', async () => {
    const before = await aliceGroup([bob, bob2], direct(alice.account, bob.account))
    const bob2Leaf = leavesOf(before).find((l) => l.identity?.deviceId === bob2.deviceId)
    const after = await commit(before, [
      { proposalType: 'remove', remove: { removed: bob2Leaf?.leafIndex as number } },
    ])
    // Devices follow the registry: an active device of a member account is never removed.
    expect(
      ruleOf(() => checkCommit({ ...world.policy(bob), before, after, committer: aliceLeaf(before) })),
    ).toBe('removal-not-allowed')
    const revoked = withRecord(bob2, (r) => ({ ...r, revokedAt: 5n }))
    const result = checkCommit({ ...revoked, before, after, committer: aliceLeaf(before) })
    expect(result.removed.map((l) => l.identity?.deviceId)).toEqual([bob2.deviceId])
    const again = await commit(after, await adds([bob2]))
    expect(
      checkCommit({ ...world.policy(bob), before: after, after: again, committer: aliceLeaf(after) }).added,
    ).toHaveLength(1)
  })

  test('a member adding a foreign device is refused', async () => {
    const before = await aliceGroup([bob], direct(alice.account, bob.account))
    const after = await commit(before, await adds([carol]))
    expect(
      ruleOf(() => checkCommit({ ...world.policy(bob), before, after, committer: aliceLeaf(before) })),
    ).toBe('foreign-member')
  })

  test('a member changing the context of a direct conversation is refused', async () => {
    const before = await aliceGroup([bob], direct(alice.account, bob.account))
    const { extensions } = direct(alice.account, bob.account)
    const after = await commit(before, [
      { proposalType: 'group_context_extensions', groupContextExtensions: { extensions } },
    ])
    // The context still names Alice and Bob, but its new nonce no longer derives the group id.
    expect(
      ruleOf(() => checkCommit({ ...world.policy(bob), before, after, committer: aliceLeaf(before) })),
    ).toBe('bad-group-id')
    const reordered = await commit(before, [
      {
        proposalType: 'group_context_extensions',
        groupContextExtensions: { extensions: [...before.groupContext.extensions].reverse() },
      },
    ])
    expect(
      ruleOf(() =>
        checkCommit({ ...world.policy(bob), before, after: reordered, committer: aliceLeaf(before) }),
      ),
    ).toBe('context-changed')
    const dropped = await commit(before, [
      {
        proposalType: 'group_context_extensions',
        groupContextExtensions: { extensions: before.groupContext.extensions.slice(1) },
      },
    ])
    expect(
      ruleOf(() =>
        checkCommit({ ...world.policy(bob), before, after: dropped, committer: aliceLeaf(before) }),
      ),
    ).toBe('capabilities-missing')
  })

  test('an unknown or revoked committer is refused', async () => {
    const before = await aliceGroup([bob, bob2], direct(alice.account, bob.account))
    const after = await commit(before, await adds([]))
    expect(ruleOf(() => checkCommit({ ...world.policy(bob), before, after, committer: undefined }))).toBe(
      'committer-not-allowed',
    )
    expect(
      ruleOf(() =>
        checkCommit({
          ...withRecord(alice, (r) => ({ ...r, revokedAt: 5n })),
          before,
          after,
          committer: aliceLeaf(before),
        }),
      ),
    ).toBe('committer-not-allowed')
  })

  test('a leaf that changes its device is refused', async () => {
    const before = await aliceGroup([bob], direct(alice.account, bob.account))
    const other = await aliceGroup([bob2], direct(alice.account, bob.account))
    const bobNode = leavesOf(before).find((l) => l.identity?.deviceId === bob.deviceId)?.leafIndex as number
    const after = {
      ...before,
      ratchetTree: before.ratchetTree.map((n, i) => (i === bobNode * 2 ? other.ratchetTree[i] : n)),
    } as ClientState
    expect(
      ruleOf(() => checkCommit({ ...world.policy(bob), before, after, committer: aliceLeaf(before) })),
    ).toBe('leaf-identity-changed')
  })

  test('the policy filter lets a commit carry add, remove, update and group-context-extensions proposals only', async () => {
    const state = await aliceGroup([bob], direct(alice.account, bob.account))
    const commitOf = (proposalType: string) =>
      policyFilter(world.policy(bob), state).callback({
        kind: 'commit',
        senderLeafIndex: 0,
        proposals: [{ proposal: { proposalType } as Proposal, senderLeafIndex: 0 }],
      } as never)
    expect(['add', 'remove', 'update', 'group_context_extensions'].map(commitOf)).toEqual([
      'accept',
      'accept',
      'accept',
      'accept',
    ])
    expect(['psk', 'reinit', 'external_init'].map(commitOf)).toEqual(['reject', 'reject', 'reject'])
  })
})
