/** Sealpost's conversation policy: what a Welcome or a commit must satisfy before its group state is stored. */
import {
  type ClientState,
  decodeRequiredCapabilities,
  type IncomingMessageAction,
  type IncomingMessageCallback,
  type KeyPackage,
  type LeafNode,
} from 'ts-mls'
import { type Address, bytesToHex, type Hex, isAddressEqual } from 'viem'
import type { DeviceRecord } from '../chain/registryWatcher.js'
import {
  CONVERSATION_CONTEXT_EXTENSION,
  type ConversationContext,
  contextGroupId,
  decodeConversationContext,
} from '../protocol/conversationContext.js'
import type { DeviceIdentity } from '../protocol/credential.js'
import {
  addedAccountsViolation,
  contextChangeViolation,
  includes,
  proposalViolation,
  type RuleViolation,
  removalViolation,
  type SentProposal,
} from './groupPolicy.js'
import { conversationContextExtensions, identityOf } from './mls.js'
import { ConversationPolicyError } from './verificationErrors.js'

/**
 * What the policy asks of the registry: a device record by id (a `RegistryWatcher` fits).
 *
 * @example const registry: PolicyRegistry = watcher
 */
export type PolicyRegistry = { device(deviceId: Hex): DeviceRecord | undefined }

/**
 * Who judges, against which deployment and which registry view.
 *
 * @example const p: PolicyInput = { self: ctx.account, deployment: ctx.deployment, registry: ctx.watcher }
 */
export type PolicyInput = {
  self: Address
  deployment: { chainId: number; keyRegistry: Address }
  registry: PolicyRegistry
}

/**
 * What a group conversation stores as its `peer`: nothing (a direct conversation stores its other account).
 *
 * @example store.putGroup({ groupId, peer: GROUP_PEER, ciphersuite, state })
 */
export const GROUP_PEER = ''

/**
 * The policy inputs of a device: its account, its deployment and its registry view.
 *
 * @example checkWelcome({ ...policyInput(ctx), state })
 */
export function policyInput(ctx: {
  account: Address
  deployment: PolicyInput['deployment']
  watcher: PolicyRegistry
}): PolicyInput {
  return { self: ctx.account, deployment: ctx.deployment, registry: ctx.watcher }
}

/**
 * A leaf of the ratchet tree: its index, its Sealpost identity (undefined if the credential is not one) and its
 * signature key.
 *
 * @example leavesOf(state).map((l) => l.identity?.deviceId)
 */
export type PolicyLeaf = { leafIndex: number; identity: DeviceIdentity | undefined; signatureKey: Hex }

/** Proposal types a Sealpost commit may carry (only a group's admins, or a leaving member, change the context). */
const ALLOWED_PROPOSALS = new Set(['add', 'remove', 'update', 'group_context_extensions'])

/**
 * Checks the group a Welcome joined (before anything is stored): the conversation context is present, well formed,
 * for this deployment, names this device's account, and the group id derives from it; every leaf is an active,
 * registered device of a member account, and every member account has a device in the group. Returns the context;
 * throws `ConversationPolicyError` naming the broken rule.
 *
 * @example const context = checkWelcome({ self: ctx.account, deployment, registry: ctx.watcher, state })
 */
export function checkWelcome(p: PolicyInput & { state: ClientState }): ConversationContext {
  const context = checkContext(p, p.state)
  const leaves = leavesOf(p.state)
  for (const leaf of leaves) checkLeaf(p, p.state, context, leaf, { mustBeActive: true })
  throwIf(p.state, addedAccountsViolation({ before: undefined, after: context, leaves }))
  return context
}

/**
 * The conversation context of a stored (already checked) group state.
 *
 * @example const { kind, members, admins, name } = contextOf(state)
 */
export function contextOf(state: ClientState): ConversationContext {
  const found = conversationContextExtensions(state.groupContext)
  if (found.length !== 1)
    throw failure(state)('context-missing', 'the group has no single Sealpost conversation context')
  return decodeConversationContext(found[0] as Uint8Array)
}

/**
 * Checks a commit's result (before it is stored). The context is still valid; if it changed, only the context
 * extension changed and its author (the sender of the `group_context_extensions` proposal) was allowed to change it
 * (a group's admin, or a member leaving; a direct conversation never changes); the committer is a registered,
 * unrevoked device of a member account; every leaf index present before and after keeps its device; every leaf
 * belongs to a registered device of a member account, and leaves the commit added are not revoked (members revoked
 * since they were added are the committer's to remove: they are returned in `revoked`); every removed leaf is a
 * revoked device or a device of an account that is no longer a member; every account that became a member has a
 * device in the group. Throws `ConversationPolicyError`. A commit that removed this device is judged on what it
 * proposes (there is no next epoch to read): its committer is a valid member, its context change is allowed, and its
 * removals are allowed, so no non-admin can evict a member's device on that device's own side.
 *
 * @example const { added, removed, revoked } = checkCommit({ ...input, before, after, committer, proposals })
 */
export function checkCommit(
  p: PolicyInput & {
    before: ClientState
    after: ClientState
    committer: { leafIndex: number; identity: DeviceIdentity } | undefined
    /** The commit's proposals with their senders (by reference or by value), as ts-mls reports them. */
    proposals?: SentProposal[] | undefined
  },
): { added: PolicyLeaf[]; removed: PolicyLeaf[]; revoked: PolicyLeaf[] } {
  const { before, after } = p
  if (after.groupActiveState.kind !== 'active') return checkOwnRemoval(p)
  const context = checkContext(p, after)
  const previous = contextOf(before)
  const fail = failure(after)
  const old = new Map(leavesOf(before).map((l) => [l.leafIndex, l]))
  if (!sameExtensions(before, after)) {
    if (!sameExtensions(before, after, { except: CONVERSATION_CONTEXT_EXTENSION }))
      throw fail('context-changed', 'only the conversation context extension may change')
    const change = p.proposals?.find((x) => x.proposal.proposalType === 'group_context_extensions')
    const authorLeaf = change?.senderLeafIndex ?? p.committer?.leafIndex
    const author = authorLeaf === undefined ? undefined : old.get(authorLeaf)?.identity?.account
    throwIf(after, contextChangeViolation({ before: previous, after: context, author }))
  }
  const committer = p.committer
  if (!committer) throw fail('committer-not-allowed', 'the committer has no Sealpost credential')
  const committerLeaf = old.get(committer.leafIndex)
  if (!committerLeaf?.identity)
    throw fail('committer-not-allowed', `leaf ${committer.leafIndex} is not a member`)
  checkLeaf(p, after, context, committerLeaf, { mustBeActive: true, rule: 'committer-not-allowed' })
  const now = leavesOf(after)
  const added: PolicyLeaf[] = []
  const revoked: PolicyLeaf[] = []
  for (const leaf of now) {
    const was = old.get(leaf.leafIndex)
    if (was && !sameDevice(was, leaf))
      throw fail(
        'leaf-identity-changed',
        `leaf ${leaf.leafIndex} was ${was.identity?.deviceId ?? 'no device'}, now ${leaf.identity?.deviceId ?? 'no device'}`,
      )
    const isNew = !was
    const device = checkLeaf(p, after, context, leaf, { mustBeActive: isNew })
    if (isNew) added.push(leaf)
    else if (device.revokedAt !== undefined) revoked.push(leaf)
  }
  const present = new Set(now.map((l) => l.leafIndex))
  const removed = [...old.values()].filter((l) => !present.has(l.leafIndex))
  throwIf(after, removalViolation({ removed, after: context, registry: p.registry }))
  throwIf(after, addedAccountsViolation({ before: previous, after: context, leaves: now }))
  return { added, removed, revoked }
}

/**
 * Whether a key package is an active, registered device (under its registered MLS key) of a member account of
 * `context`. Membership is a set lookup (`includes`): a scan of the members per proposed add made many adds quadratic.
 */
function addsMemberDevice(p: PolicyInput, context: ConversationContext, keyPackage: KeyPackage): boolean {
  const identity = identityOf(keyPackage.leafNode.credential)
  const device = identity && p.registry.device(identity.deviceId)
  return (
    identity !== undefined &&
    device !== undefined &&
    device.revokedAt === undefined &&
    isAddressEqual(device.account, identity.account) &&
    device.mlsKey.toLowerCase() === bytesToHex(keyPackage.leafNode.signaturePublicKey).toLowerCase() &&
    includes(context.members, identity.account)
  )
}

/** A commit that removed this device: judged on its proposals, against the previous epoch's tree and context. */
function checkOwnRemoval(
  p: PolicyInput & {
    before: ClientState
    committer: { leafIndex: number; identity: DeviceIdentity } | undefined
    proposals?: SentProposal[] | undefined
  },
): { added: PolicyLeaf[]; removed: PolicyLeaf[]; revoked: PolicyLeaf[] } {
  const { before } = p
  const previous = contextOf(before)
  const leaves = leavesOf(before)
  const committerLeaf = leaves.find((l) => l.leafIndex === p.committer?.leafIndex)
  if (!committerLeaf?.identity)
    throw failure(before)('committer-not-allowed', 'the committer is not a member')
  checkLeaf(p, before, previous, committerLeaf, { mustBeActive: true, rule: 'committer-not-allowed' })
  const change = p.proposals?.find((x) => x.proposal.proposalType === 'group_context_extensions')
  let next = previous
  if (change) {
    const proposed = proposedContext(change.proposal)
    if (!proposed) throw failure(before)('context-malformed', 'the proposed context does not decode')
    const author = leaves.find((l) => l.leafIndex === (change.senderLeafIndex ?? p.committer?.leafIndex))
    throwIf(
      before,
      contextChangeViolation({ before: previous, after: proposed, author: author?.identity?.account }),
    )
    next = proposed
  }
  const targets = new Set(
    (p.proposals ?? []).flatMap((x) =>
      x.proposal.proposalType === 'remove' ? [x.proposal.remove.removed] : [],
    ),
  )
  const removed = leaves.filter((l) => targets.has(l.leafIndex))
  throwIf(before, removalViolation({ removed, after: next, registry: p.registry }))
  return { added: [], removed, revoked: [] }
}

/**
 * The callback handed to ts-mls's `processPrivateMessage` for a group in `state`: a commit may carry add, remove,
 * update and group-context-extensions proposals only (its proposals are recorded for `checkCommit`); a standalone
 * proposal must pass the group rules before it is kept as pending (see `proposalViolation`). When it answers
 * `reject`, ts-mls returns `actionTaken: 'reject'` and the caller throws `violation()`.
 *
 * @example const filter = policyFilter(policy, state); await processPrivateMessage(state, pm, psks, impl, filter.callback)
 */
export function policyFilter(
  p: PolicyInput,
  state: ClientState,
): {
  callback: IncomingMessageCallback
  proposals: () => SentProposal[]
  violation: () => ConversationPolicyError
} {
  let proposals: SentProposal[] = []
  let broken: RuleViolation = { rule: 'forbidden-proposal', detail: 'refused' }
  // The state does not change while ts-mls runs the callback: its context and leaves are read once, not per proposal.
  let seen: { context: ConversationContext; leaves: PolicyLeaf[] } | undefined
  const current = () => {
    seen ??= { context: contextOf(state), leaves: leavesOf(state) }
    return seen
  }
  const callback: IncomingMessageCallback = (incoming): IncomingMessageAction => {
    if (incoming.kind === 'commit') {
      proposals = incoming.proposals.map((x) => ({
        proposal: x.proposal,
        senderLeafIndex: x.senderLeafIndex,
      }))
      const bad = proposals.find((x) => !ALLOWED_PROPOSALS.has(String(x.proposal.proposalType)))
      if (!bad) return 'accept'
      broken = {
        rule: 'forbidden-proposal',
        detail: `a commit may not carry a ${bad.proposal.proposalType} proposal`,
      }
      return 'reject'
    }
    const proposal = incoming.proposal.proposal
    const { context, leaves } = current()
    if (proposal.proposalType === 'add' && !addsMemberDevice(p, context, proposal.add.keyPackage)) {
      broken = {
        rule: 'foreign-member',
        detail: 'a proposed add is not an active, registered device of a member account',
      }
      return 'reject'
    }
    const violation = proposalViolation({
      proposal: { proposal: incoming.proposal.proposal, senderLeafIndex: incoming.proposal.senderLeafIndex },
      context,
      leaves,
      registry: p.registry,
      decodeContext: proposedContext,
    })
    if (!violation) return 'accept'
    broken = violation
    return 'reject'
  }
  return {
    callback,
    proposals: () => proposals,
    violation: () => failure(state)(broken.rule, broken.detail),
  }
}

/**
 * The conversation context a `group_context_extensions` proposal would install (undefined if it names none or a
 * malformed one).
 *
 * @example const next = proposedContext(proposal)
 */
export function proposedContext(proposal: import('ts-mls').Proposal): ConversationContext | undefined {
  if (proposal.proposalType !== 'group_context_extensions') return undefined
  const found = proposal.groupContextExtensions.extensions.filter(
    (e) => e.extensionType === CONVERSATION_CONTEXT_EXTENSION,
  )
  if (found.length !== 1) return undefined
  try {
    return decodeConversationContext((found[0] as { extensionData: Uint8Array }).extensionData)
  } catch {
    return undefined
  }
}

/**
 * Every non-blank leaf of the current ratchet tree.
 *
 * @example leavesOf(state).length
 */
export function leavesOf(state: ClientState): PolicyLeaf[] {
  const leaves: PolicyLeaf[] = []
  const tree = state.ratchetTree
  for (let index = 0; index < tree.length; index += 2) {
    const node = tree[index]
    if (node?.nodeType !== 'leaf') continue
    const { identity, signatureKey } = leafIdentity(node.leaf)
    leaves.push({ leafIndex: index / 2, identity, signatureKey })
  }
  return leaves
}

type LeafFields = Pick<LeafNode, 'credential' | 'signaturePublicKey'>
const leafIdentities = new WeakMap<
  LeafFields,
  Pick<PolicyLeaf, 'identity' | 'signatureKey'> & { from: LeafFields }
>()

/**
 * A leaf node's Sealpost identity and signature key in hex, kept per leaf object: the trees before and after a commit
 * share their unchanged leaf objects, so a commit into a group of N no longer decodes N credentials twice. An entry
 * counts only while the object still holds the credential and key it was read from.
 */
function leafIdentity(leaf: LeafFields): Pick<PolicyLeaf, 'identity' | 'signatureKey'> {
  const kept = leafIdentities.get(leaf)
  if (
    kept &&
    kept.from.credential === leaf.credential &&
    kept.from.signaturePublicKey === leaf.signaturePublicKey
  )
    return kept
  const read = { identity: identityOf(leaf.credential), signatureKey: bytesToHex(leaf.signaturePublicKey) }
  leafIdentities.set(leaf, {
    ...read,
    from: { credential: leaf.credential, signaturePublicKey: leaf.signaturePublicKey },
  })
  return read
}

/**
 * The peer of a direct conversation: the member account that is not `self`.
 *
 * @example const peer = peerOf(context, ctx.account)
 */
export function peerOf(context: ConversationContext, self: Address): Address {
  return context.members.find((m) => !isAddressEqual(m, self)) ?? self
}

function checkContext(p: PolicyInput, state: ClientState): ConversationContext {
  const fail = failure(state)
  const groupId = bytesToHex(state.groupContext.groupId)
  const found = conversationContextExtensions(state.groupContext)
  if (found.length === 0) throw fail('context-missing', 'the group has no Sealpost conversation context')
  if (found.length > 1) throw fail('context-malformed', 'the group has several conversation contexts')
  let context: ConversationContext
  try {
    context = decodeConversationContext(found[0] as Uint8Array)
  } catch (err) {
    throw fail('context-malformed', (err as Error).message)
  }
  const required = state.groupContext.extensions.find((e) => e.extensionType === 'required_capabilities')
  if (!required || !requiresContext(required.extensionData))
    throw fail('capabilities-missing', 'required_capabilities does not name the conversation context')
  if (context.chainId !== p.deployment.chainId || !isAddressEqual(context.registry, p.deployment.keyRegistry))
    throw fail('wrong-deployment', `context names chain ${context.chainId}, registry ${context.registry}`)
  if (!context.members.some((m) => isAddressEqual(m, p.self)))
    throw fail('not-a-member-account', `the context lists ${context.members.length} accounts, not ${p.self}`)
  const expected = contextGroupId(context)
  if (expected !== groupId) throw fail('bad-group-id', `expected ${expected} for this context`)
  return context
}

function checkLeaf(
  p: PolicyInput,
  state: ClientState,
  context: ConversationContext,
  leaf: PolicyLeaf,
  { mustBeActive, rule }: { mustBeActive: boolean; rule?: string },
): DeviceRecord {
  const fail = failure(state)
  const where = `leaf ${leaf.leafIndex}`
  const { identity } = leaf
  if (!identity) throw fail(rule ?? 'foreign-member', `${where} has no Sealpost credential`)
  if (identity.chainId !== p.deployment.chainId)
    throw fail(rule ?? 'wrong-deployment', `${where} names chain ${identity.chainId}`)
  if (!includes(context.members, identity.account))
    throw fail(rule ?? 'foreign-member', `${where} is device ${identity.deviceId} of ${identity.account}`)
  const device = p.registry.device(identity.deviceId)
  if (
    !device ||
    !isAddressEqual(device.account, identity.account) ||
    device.mlsKey.toLowerCase() !== leaf.signatureKey.toLowerCase()
  )
    throw fail(
      rule ?? 'unregistered-member',
      `${where}: ${identity.deviceId} is not registered with this key`,
    )
  if (mustBeActive && device.revokedAt !== undefined)
    throw fail(
      rule ?? 'revoked-member',
      `${where}: ${identity.deviceId} was revoked at block ${device.revokedAt}`,
    )
  return device
}

function sameDevice(a: PolicyLeaf, b: PolicyLeaf): boolean {
  return (
    a.identity !== undefined &&
    b.identity !== undefined &&
    a.identity.deviceId.toLowerCase() === b.identity.deviceId.toLowerCase()
  )
}

function sameExtensions(
  before: ClientState,
  after: ClientState,
  { except }: { except?: number | undefined } = {},
): boolean {
  const encode = (s: ClientState) =>
    s.groupContext.extensions
      .filter((e) => e.extensionType !== except)
      .map((e) => `${String(e.extensionType)}:${bytesToHex(e.extensionData)}`)
      .join('|')
  return encode(before) === encode(after)
}

function throwIf(state: ClientState, violation: RuleViolation | undefined): void {
  if (violation) throw failure(state)(violation.rule, violation.detail)
}

function requiresContext(data: Uint8Array): boolean {
  try {
    const decoded = decodeRequiredCapabilities(data, 0)
    return decoded?.[0].extensionTypes.includes(CONVERSATION_CONTEXT_EXTENSION) === true
  } catch {
    return false
  }
}

function failure(state: ClientState) {
  const groupId = bytesToHex(state.groupContext.groupId)
  const epoch = state.groupContext.epoch
  return (rule: string, detail: string) => new ConversationPolicyError({ rule, groupId, epoch, detail })
}
