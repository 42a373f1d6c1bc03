/** Group conversations: creating one, changing its accounts, admins and name, leaving it, and listing its members. */
import { randomBytes } from 'node:crypto'
import { type ClientState, createProposal, type Proposal } from 'ts-mls'
import { type Address, bytesToHex, getAddress, type Hex, isAddressEqual } from 'viem'
import { type ConversationContext, groupContext, sortAccounts } from '../protocol/conversationContext.js'
import { createEnvelope, type Envelope } from '../protocol/envelope.js'
import type { ClientContext } from './context.js'
import { contextOf, GROUP_PEER } from './conversationPolicy.js'
import { PeerHasNoDevicesError } from './errors.js'
import { commitSettled, foundGroup } from './groupCommit.js'
import { GroupChangeError, NotAGroupError, NotGroupAdminError } from './groupErrors.js'
import { leaveContext } from './groupPolicy.js'
import { claimKeyPackages } from './membership.js'
import {
  conversationExtensions,
  deserializeGroupState,
  encodeMls,
  membersOf,
  serializeGroupState,
} from './mls.js'
import { assertActive } from './registration.js'
import { requireGroup, requireGroupState } from './storedGroup.js'

/**
 * A member account of a group as this device sees it: whether it is an admin, and each of its registered devices
 * with its registry status at `block` and whether it holds a leaf.
 *
 * @example const { account, admin, devices } = (await group.members())[0]
 */
export type GroupMember = {
  account: Address
  admin: boolean
  devices: {
    deviceId: Hex
    /** `active` and `revokedAt` come from the registry view; `inGroup` from the ratchet tree. */
    status: 'active' | 'revoked'
    revokedAt?: bigint | undefined
    inGroup: boolean
  }[]
}

/**
 * A change to a group's context by one of its admins.
 *
 * @example const change: GroupChange = { add: [dave] }
 */
export type GroupChange = {
  add?: readonly Address[] | undefined
  remove?: readonly Address[] | undefined
  admins?: readonly Address[] | undefined
  name?: string | undefined
}

/**
 * Creates a group conversation: a new MLS group whose context names `name`, the member accounts (this account
 * included) and the admins (this account included), with every active device of every member added in one commit
 * (key packages claimed from the relay and checked against the registry). The Welcome goes to each added device's
 * inbox. Returns the group id.
 *
 * @example const id = await createGroupConversation(ctx, { name: 'ops', members: [bob, carol] })
 */
export async function createGroupConversation(
  ctx: ClientContext,
  p: { name: string; members: readonly Address[]; admins?: readonly Address[] | undefined },
): Promise<Hex> {
  await ctx.watcher.sync()
  await assertActive(ctx)
  const nonce = bytesToHex(randomBytes(32))
  const context = groupContext({
    chainId: ctx.chainId,
    registry: ctx.deployment.keyRegistry,
    nonce,
    name: p.name,
    creator: ctx.account,
    members: p.members,
    admins: p.admins,
  })
  const targets = context.members.flatMap((account) => {
    const devices = ctx.watcher.activeDevicesOf(account)
    if (devices.length === 0) throw new PeerHasNoDevicesError({ account })
    return devices.filter((d) => d.deviceId.toLowerCase() !== ctx.deviceId.toLowerCase())
  })
  const keyPackages = await claimKeyPackages(ctx, targets)
  return foundGroup(ctx, { context, peer: GROUP_PEER, keyPackages })
}

/**
 * Applies an admin's change in one commit: a `group_context_extensions` proposal with the new context, the removal
 * of every device of the removed accounts and the addition of every active device of the added ones (Welcome
 * included). Settled against concurrent commits (`commitSettled`): when another admin's commit wins the epoch, the
 * change is recomputed on the new context, so both changes land. Throws `NotGroupAdminError` when this account is
 * not an admin, `GroupChangeError` for a change that cannot apply. Resolves with the new epoch, or the current one
 * when the change is already in place.
 *
 * @example await changeGroup(ctx, groupId, { add: [dave], remove: [carol] })
 */
export async function changeGroup(ctx: ClientContext, groupId: Hex, change: GroupChange): Promise<bigint> {
  await ctx.watcher.sync()
  const state = await commitSettled(ctx, groupId, async (current) => {
    const before = groupContextOf(current, groupId)
    if (!before.admins.some((a) => isAddressEqual(a, ctx.account)))
      throw new NotGroupAdminError({ groupId, account: ctx.account })
    const after = applyChange(before, change, ctx.account, groupId)
    if (sameContext(before, after)) return undefined
    const added = after.members.filter((m) => !before.members.some((b) => isAddressEqual(b, m)))
    const removed = before.members.filter((m) => !after.members.some((a) => isAddressEqual(a, m)))
    const devices = added.flatMap((account) => {
      const active = ctx.watcher.activeDevicesOf(account)
      if (active.length === 0) throw new PeerHasNoDevicesError({ account })
      return active
    })
    const keyPackages = await claimKeyPackages(ctx, devices)
    const removals = membersOf(current).filter((m) =>
      removed.some((r) => isAddressEqual(r, m.identity.account)),
    )
    return {
      proposals: [
        {
          proposalType: 'group_context_extensions',
          groupContextExtensions: { extensions: conversationExtensions(after) },
        },
        ...removals.map((m): Proposal => ({ proposalType: 'remove', remove: { removed: m.leafIndex } })),
        ...keyPackages.map((k): Proposal => ({ proposalType: 'add', add: { keyPackage: k.keyPackage } })),
      ],
      welcomeTo: keyPackages.map((k) => k.deviceId),
    }
  })
  return (state ?? requireGroupState(ctx, groupId)).groupContext.epoch
}

/**
 * Leaves a group: proposes (standalone MLS proposals on the group topic) the context without this account and the
 * removal of every device of this account; the group's committer commits them (a member may always leave; when this
 * account was the only admin, the lowest remaining member becomes admin). The group becomes inactive on this device
 * when that commit arrives. Throws `GroupChangeError` for the last member.
 *
 * @example await leaveGroup(ctx, groupId)
 */
export async function leaveGroup(ctx: ClientContext, groupId: Hex): Promise<void> {
  const group = requireGroup(ctx, groupId)
  let state = deserializeGroupState(group.state, ctx.config)
  if (state.groupActiveState.kind !== 'active') return
  ctx.leaving.add(groupId)
  const after = leaveContext(groupContextOf(state, groupId), ctx.account)
  if (!after)
    throw new GroupChangeError({ groupId, reason: 'the last member cannot leave; the group ends with it' })
  const own = membersOf(state).filter((m) => isAddressEqual(m.identity.account, ctx.account))
  const proposals: Proposal[] = [
    {
      proposalType: 'group_context_extensions',
      groupContextExtensions: { extensions: conversationExtensions(after) },
    },
    ...own.map((m): Proposal => ({ proposalType: 'remove', remove: { removed: m.leafIndex } })),
  ]
  const envelopes: Envelope[] = []
  for (const proposal of proposals) {
    const made = await createProposal(state, false, proposal, ctx.impl)
    state = made.newState
    envelopes.push(createEnvelope({ kind: 'commit', topic: groupId, payload: encodeMls(made.message) }))
  }
  ctx.store.transaction(() => {
    ctx.store.putGroup({ ...group, state: serializeGroupState(state) })
    for (const envelope of envelopes) ctx.store.markProcessed(envelope.id, 'sent')
  })
  for (const envelope of envelopes) await ctx.transport.publish(envelope)
}

/**
 * Proposes again the departure from every group this device is leaving whose epoch moved on before a commit covered
 * the proposals (proposals live for one epoch), and forgets the groups it is out of. Call it after each epoch change.
 *
 * @example await renewLeaves(ctx)
 */
export async function renewLeaves(ctx: ClientContext): Promise<void> {
  for (const groupId of [...ctx.leaving]) {
    await ctx.exclusive(async () => {
      const group = ctx.store.getGroup(groupId)
      const state = group && deserializeGroupState(group.state, ctx.config)
      if (state?.groupActiveState.kind !== 'active') {
        ctx.leaving.delete(groupId)
        return
      }
      const own = new Set(
        membersOf(state)
          .filter((m) => isAddressEqual(m.identity.account, ctx.account))
          .map((m) => m.leafIndex),
      )
      const proposed = Object.values(state.unappliedProposals).some(
        (p) => p.senderLeafIndex !== undefined && own.has(p.senderLeafIndex),
      )
      if (!proposed) await leaveGroup(ctx, groupId)
    })
  }
}

/**
 * The member accounts of a group with their devices and registry status (the registry view's current block).
 *
 * @example const members = groupMembers(ctx, groupId)
 */
export function groupMembers(ctx: ClientContext, groupId: Hex): { block: bigint; members: GroupMember[] } {
  const state = requireGroupState(ctx, groupId)
  const context = groupContextOf(state, groupId)
  const inTree = new Set(membersOf(state).map((m) => m.identity.deviceId.toLowerCase()))
  return {
    block: ctx.watcher.syncedTo,
    members: context.members.map((account) => ({
      account,
      admin: context.admins.some((a) => isAddressEqual(a, account)),
      devices: ctx.watcher.devicesOf(account).map((d) => ({
        deviceId: d.deviceId,
        status: d.revokedAt === undefined ? 'active' : 'revoked',
        ...(d.revokedAt !== undefined && { revokedAt: d.revokedAt }),
        inGroup: inTree.has(d.deviceId.toLowerCase()),
      })),
    })),
  }
}

/**
 * The context of group `groupId` in `state`; `NotAGroupError` for a direct conversation.
 *
 * @example const { name, admins } = groupContextOf(state, groupId)
 */
export function groupContextOf(state: ClientState, groupId: Hex): ConversationContext {
  const context = contextOf(state)
  if (context.kind !== 'group') throw new NotAGroupError({ groupId })
  return context
}

function applyChange(
  before: ConversationContext,
  change: GroupChange,
  self: Address,
  groupId: Hex,
): ConversationContext {
  const fail = (reason: string) => new GroupChangeError({ groupId, reason })
  const has = (list: readonly Address[], a: Address) => list.some((x) => isAddressEqual(x, a))
  const remove = (change.remove ?? []).map((a) => getAddress(a))
  if (remove.some((a) => isAddressEqual(a, self))) throw fail('to remove your own account, leave the group')
  for (const a of remove) if (!has(before.members, a)) throw fail(`${a} is not a member`)
  const members = sortAccounts(
    [...new Set([...before.members, ...(change.add ?? []).map((a) => getAddress(a))])].filter(
      (m) => !has(remove, m),
    ),
  )
  const admins = sortAccounts(
    [...new Set((change.admins ?? before.admins).map((a) => getAddress(a)))].filter((a) => !has(remove, a)),
  )
  for (const a of admins) if (!has(members, a)) throw fail(`admin ${a} is not a member`)
  if (admins.length === 0) throw fail('a group keeps at least one admin')
  try {
    return groupContext({
      ...before,
      name: change.name ?? (before.name as string),
      creator: admins[0] as Address,
      members,
      admins,
    })
  } catch (err) {
    throw fail((err as Error).message)
  }
}

function sameContext(a: ConversationContext, b: ConversationContext): boolean {
  const list = (l: Address[]) => l.map((x) => x.toLowerCase()).join()
  return a.name === b.name && list(a.members) === list(b.members) && list(a.admins) === list(b.admins)
}
