/** Founding a group, and committing to it in order: an own commit counts only if the relay sequenced it first. */
import {
  type ClientState,
  createCommit,
  createGroup,
  type KeyPackage,
  type Proposal,
  zeroOutUint8Array,
} from 'ts-mls'
import { type Hex, hexToBytes } from 'viem'
import { type ConversationContext, contextGroupId } from '../protocol/conversationContext.js'
import { createEnvelope } from '../protocol/envelope.js'
import { commitPayload } from './byReference.js'
import type { ClientContext } from './context.js'
import { checkCommit, checkWelcome, leavesOf, policyInput } from './conversationPolicy.js'
import { CommitContentionError } from './groupErrors.js'
import type { SentProposal } from './groupPolicy.js'
import {
  conversationExtensions,
  createKeyPackage,
  deserializeGroupState,
  encodeMls,
  identityOf,
  serializeGroupState,
} from './mls.js'
import { consumeDelivery } from './receive.js'
import { sendWelcome, type WelcomeRecipient } from './sendWelcome.js'
import { requireGroup, requireGroupState } from './storedGroup.js'
import { topicPreimage } from './topicPreimage.js'
import { MlsRejectedError } from './verificationErrors.js'
import { treeByReference } from './welcomeTree.js'

/**
 * What one commit does: its proposals (by value; pending proposals of the epoch are added by reference) and the
 * devices that get the Welcome. `undefined` from a planner means there is nothing to commit.
 *
 * @example const plan: CommitPlan = { proposals: [{ proposalType: 'remove', remove: { removed: 3 } }], welcomeTo: [] }
 */
export type CommitPlan = { proposals: Proposal[]; welcomeTo: Hex[] }

/** How many times a commit is rebuilt after losing its epoch to another member's commit. */
const ATTEMPTS = 5

/**
 * Plans, builds, checks and publishes a commit to `groupId` (call it under the client's lock), then settles it: the
 * relay's per-topic sequence orders commits, and every member applies the first commit of an epoch and ignores the
 * others. So after publishing, this device processes everything sequenced before its commit; if that moved the group
 * to a later epoch, its commit lost and is discarded (verdict `superseded`), and `plan` runs again on the new state.
 * Otherwise the commit is stored and its Welcome sent. A commit larger than `ctx.inlineCommitBytes` goes by reference
 * (protocol §3.9): its chunks first, then a commit reference in its place on the group topic. A proposal pending in the epoch that would make the commit
 * break the policy is dropped (it is never committed). Returns the new state, or undefined when the plan is empty.
 * Throws `CommitContentionError` after 5 lost attempts.
 *
 * @example await commitSettled(ctx, groupId, async (state) => ({ proposals, welcomeTo: [] }))
 */
export async function commitSettled(
  ctx: ClientContext,
  groupId: Hex,
  plan: (state: ClientState) => Promise<CommitPlan | undefined>,
): Promise<ClientState | undefined> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const group = requireGroup(ctx, groupId)
    const state = deserializeGroupState(group.state, ctx.config)
    const planned = await plan(state)
    if (!planned) return undefined
    const built = await buildChecked(ctx, state, planned.proposals)
    if (!built) return undefined
    if (built.commit.wireformat !== 'mls_private_message')
      throw new MlsRejectedError({ reason: 'unexpected commit wire format' })
    const payload = await commitPayload(ctx.transport, encodeMls(built.commit), ctx.inlineCommitBytes)
    const envelope = createEnvelope({ kind: 'commit', topic: groupId, payload })
    const { cursor } = await ctx.transport.publish(envelope)
    await settleBefore(ctx, groupId, cursor)
    const now = requireGroupState(ctx, groupId)
    if (now.groupContext.epoch !== state.groupContext.epoch) {
      ctx.store.markProcessed(envelope.id, 'superseded')
      continue
    }
    ctx.store.transaction(() => {
      ctx.store.putGroup({ ...group, state: serializeGroupState(built.newState) })
      ctx.store.markProcessed(envelope.id, 'sent')
    })
    if (built.welcome)
      await sendWelcome(ctx, built.welcome, welcomeRecipients(planned), built.treeByReference)
    ctx.events.emit('membership', {
      conversation: groupId,
      epoch: built.newState.groupContext.epoch,
      change: 'commit',
      removed: false,
    })
    return built.newState
  }
  throw new CommitContentionError({ groupId, attempts: ATTEMPTS })
}

/**
 * Founds a conversation: a new MLS group under the group id `context` derives, with `context` in its group context
 * and this device as its first leaf, and one commit adding the claimed key packages (the tree by reference when it is
 * large, protocol §3.7). Checked as every invitee will check its Welcome, stored (with `peer`: the other account of a
 * direct conversation, `GROUP_PEER` for a group), and the Welcome sent. Returns the group id.
 *
 * @example const groupId = await foundGroup(ctx, { context, peer: GROUP_PEER, keyPackages })
 */
export async function foundGroup(
  ctx: ClientContext,
  p: { context: ConversationContext; peer: string; keyPackages: { deviceId: Hex; keyPackage: KeyPackage }[] },
): Promise<Hex> {
  const groupId = contextGroupId(p.context)
  const own = await createKeyPackage({ identity: ctx.identity, mls: ctx.device.mls, impl: ctx.impl })
  const state = await createGroup(
    hexToBytes(groupId),
    own.publicPackage,
    own.privatePackage,
    conversationExtensions(p.context),
    ctx.impl,
    ctx.config,
  )
  const adds = p.keyPackages.map(
    (k): Proposal => ({ proposalType: 'add', add: { keyPackage: k.keyPackage } }),
  )
  const byReference = treeByReference(state, adds, ctx.inlineTreeBytes)
  const commit = await createCommit(
    { state, cipherSuite: ctx.impl },
    { extraProposals: adds, ratchetTreeExtension: !byReference },
  )
  commit.consumed.forEach(zeroOutUint8Array)
  checkWelcome({ ...policyInput(ctx), state: commit.newState }) // what every invitee will check
  ctx.store.putGroup({
    groupId,
    peer: p.peer,
    ciphersuite: ctx.ciphersuite,
    state: serializeGroupState(commit.newState),
  })
  if (commit.welcome)
    await sendWelcome(
      ctx,
      commit.welcome,
      p.keyPackages,
      byReference ? commit.newState.ratchetTree : undefined,
    )
  return groupId
}

/** The devices of `plan.welcomeTo`, each with the key package its add proposal carries. */
function welcomeRecipients(plan: CommitPlan): WelcomeRecipient[] {
  const wanted = new Set(plan.welcomeTo.map((d) => d.toLowerCase()))
  return plan.proposals.flatMap((p) => {
    if (p.proposalType !== 'add') return []
    const deviceId = identityOf(p.add.keyPackage.leafNode.credential)?.deviceId
    return deviceId && wanted.has(deviceId.toLowerCase()) ? [{ deviceId, keyPackage: p.add.keyPackage }] : []
  })
}

async function buildChecked(ctx: ClientContext, state: ClientState, proposals: Proposal[]) {
  const self = leavesOf(state).find((l) => l.identity?.deviceId.toLowerCase() === ctx.deviceId.toLowerCase())
  const committer = self?.identity && { leafIndex: self.leafIndex, identity: self.identity }
  const byReference = treeByReference(state, proposals, ctx.inlineTreeBytes)
  const attempt = async (from: ClientState) => {
    const result = await createCommit(
      { state: from, cipherSuite: ctx.impl },
      { extraProposals: proposals, ratchetTreeExtension: !byReference },
    )
    // The same policy every member applies to this commit (an own commit that breaks it would fork the group).
    checkCommit({
      self: ctx.account,
      deployment: ctx.deployment,
      registry: ctx.watcher,
      before: from,
      after: result.newState,
      committer,
      proposals: [
        ...pendingOf(from),
        ...proposals.map((proposal) => ({ proposal, senderLeafIndex: self?.leafIndex })),
      ],
    })
    result.consumed.forEach(zeroOutUint8Array)
    return { ...result, treeByReference: byReference ? result.newState.ratchetTree : undefined }
  }
  if (Object.keys(state.unappliedProposals).length === 0) return attempt(state)
  try {
    return await attempt(state)
  } catch {
    // A pending proposal broke it: commit without them, or not at all when nothing else was planned.
    return proposals.length === 0 ? undefined : attempt({ ...state, unappliedProposals: {} })
  }
}

function pendingOf(state: ClientState): SentProposal[] {
  return Object.values(state.unappliedProposals).map((p) => ({
    proposal: p.proposal,
    senderLeafIndex: p.senderLeafIndex,
  }))
}

/** Processes, in order, everything the relay sequenced on `topic` before `cursor` that this device has not seen. */
async function settleBefore(ctx: ClientContext, topic: Hex, cursor: bigint): Promise<void> {
  const result = { received: [], joined: [], commits: 0, rejected: [] }
  for (;;) {
    const after = ctx.store.getCursor(topic)
    if (after >= cursor - 1n) return
    const preimage = (t: Hex) => topicPreimage(ctx, t)
    const deliveries = await ctx.transport.pull({ topic, after, limit: 256, preimage })
    const earlier = deliveries.filter((d) => d.cursor < cursor)
    if (earlier.length === 0) return
    for (const delivery of earlier)
      await consumeDelivery(ctx, delivery, result, () => undefined, { locked: true })
  }
}
