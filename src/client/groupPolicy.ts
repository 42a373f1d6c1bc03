/** Group rules of the conversation policy: who may change a group's context, and which proposals a member accepts. */
import type { ClientState, Proposal } from 'ts-mls'
import { type Address, isAddressEqual } from 'viem'
import type { ConversationContext } from '../protocol/conversationContext.js'
import type { PolicyLeaf, PolicyRegistry } from './conversationPolicy.js'

/**
 * A proposal with the leaf that sent it, as ts-mls hands them to the incoming-message callback (a proposal carried
 * by value in a commit is sent by the committer).
 *
 * @example const p: SentProposal = { proposal, senderLeafIndex: 0 }
 */
export type SentProposal = { proposal: Proposal; senderLeafIndex: number | undefined }

/** A broken group rule: the rule's name and what broke it. @example const v: RuleViolation = { rule: 'not-admin', detail } */
export type RuleViolation = { rule: string; detail: string }

/**
 * Whether `author` may turn context `before` into `after`: an admin may change the member accounts, the admins and
 * the name; anyone may leave (the change is exactly the removal of the author's own account from members and
 * admins). The kind, the deployment and the nonce never change, and a direct conversation's context never changes.
 * Returns the violation, or undefined when the change is allowed.
 *
 * @example const violation = contextChangeViolation({ before, after, author: alice })
 */
export function contextChangeViolation(p: {
  before: ConversationContext
  after: ConversationContext
  author: Address | undefined
}): RuleViolation | undefined {
  const { before, after, author } = p
  if (before.kind === 'direct')
    return { rule: 'context-changed', detail: 'a direct conversation never changes' }
  if (
    after.kind !== before.kind ||
    after.chainId !== before.chainId ||
    !isAddressEqual(after.registry, before.registry) ||
    after.nonce !== before.nonce
  )
    return { rule: 'context-changed', detail: 'the kind, deployment and nonce of a group never change' }
  if (!author) return { rule: 'not-admin', detail: 'the context change has no author' }
  if (includes(before.admins, author)) return undefined
  if (isLeave(before, after, author)) return undefined
  return { rule: 'not-admin', detail: `${author} is not an admin of the group` }
}

/**
 * Whether a member accepts a standalone proposal from `sender` before any commit covers it (a pending proposal is
 * committed by reference by whoever commits next, so a bad one must never be kept): a context change by the rules of
 * {@link contextChangeViolation}; a removal of a revoked device, of a device of the sender's own account (leaving),
 * or by an admin; an add or an update. Anything else is refused.
 *
 * @example if (proposalViolation({ ...inputs, proposal })) return 'reject'
 */
export function proposalViolation(p: {
  proposal: SentProposal
  context: ConversationContext
  leaves: PolicyLeaf[]
  registry: PolicyRegistry
  decodeContext: (proposal: Proposal) => ConversationContext | undefined
}): RuleViolation | undefined {
  const { proposal, context, leaves } = p
  const sender = leaves.find((l) => l.leafIndex === proposal.senderLeafIndex)?.identity?.account
  const type = String(proposal.proposal.proposalType)
  if (type === 'add' || type === 'update') return undefined
  if (type === 'group_context_extensions') {
    const after = p.decodeContext(proposal.proposal)
    if (!after) return { rule: 'context-malformed', detail: 'the proposed context does not decode' }
    return contextChangeViolation({ before: context, after, author: sender })
  }
  const removal = proposal.proposal as Extract<Proposal, { proposalType: 'remove' }>
  if (type === 'remove') {
    const target = leaves.find((l) => l.leafIndex === removal.remove.removed)
    if (!target?.identity) return undefined // ts-mls refuses a removal of a blank leaf
    if (!isActiveDevice(p.registry, target)) return undefined
    if (sender && (isAddressEqual(target.identity.account, sender) || includes(context.admins, sender)))
      return undefined
    return { rule: 'removal-not-allowed', detail: `leaf ${target.leafIndex} is an active device of a member` }
  }
  return { rule: 'forbidden-proposal', detail: `a ${type} proposal` }
}

/**
 * Whether the devices a commit removed could be removed: each is revoked or no longer registered (a reorg took its
 * registration away), or its account is no longer a member of the new context (an admin removed it, or it left).
 * Devices follow the registry, so an active device of a member account is never removed.
 *
 * @example const violation = removalViolation({ removed, after: context, registry })
 */
export function removalViolation(p: {
  removed: PolicyLeaf[]
  after: ConversationContext
  registry: PolicyRegistry
}): RuleViolation | undefined {
  for (const leaf of p.removed) {
    const identity = leaf.identity
    if (!identity) continue
    if (!includes(p.after.members, identity.account)) continue
    if (!isActiveDevice(p.registry, leaf)) continue
    return {
      rule: 'removal-not-allowed',
      detail: `leaf ${leaf.leafIndex} (${identity.deviceId}) is an active device of member ${identity.account}`,
    }
  }
  return undefined
}

/**
 * Whether every account the commit made a member has a device in the group after it (a context that names accounts
 * that are not there is not the group it claims to be).
 *
 * @example const violation = addedAccountsViolation({ before, after, leaves })
 */
export function addedAccountsViolation(p: {
  before: ConversationContext | undefined
  after: ConversationContext
  leaves: PolicyLeaf[]
}): RuleViolation | undefined {
  // Sets, not scans: at 10,000 members a scan per account is 10^8 address comparisons (minutes per Welcome).
  const withDevice = new Set(p.leaves.flatMap((l) => (l.identity ? [l.identity.account.toLowerCase()] : [])))
  for (const account of p.after.members) {
    if (p.before && includes(p.before.members, account)) continue
    if (withDevice.has(account.toLowerCase())) continue
    return { rule: 'member-without-device', detail: `member ${account} has no device in the group` }
  }
  return undefined
}

/** Whether `state` still has proposals received in its epoch and not yet committed. @example hasPending(state) */
export function hasPending(state: ClientState): boolean {
  return Object.keys(state.unappliedProposals).length > 0
}

/**
 * The context after `account` leaves: without it among members and admins; when it was the only admin, the lowest
 * remaining member becomes admin (a group always has one). Undefined when it is the last member.
 *
 * @example const next = leaveContext(context, self)
 */
export function leaveContext(before: ConversationContext, account: Address): ConversationContext | undefined {
  const members = before.members.filter((a) => !isAddressEqual(a, account))
  if (members.length === 0) return undefined
  const admins = before.admins.filter((a) => !isAddressEqual(a, account))
  return { ...before, members, admins: admins.length > 0 ? admins : [members[0] as Address] }
}

function isLeave(before: ConversationContext, after: ConversationContext, author: Address): boolean {
  const expected = includes(before.members, author) ? leaveContext(before, author) : undefined
  return (
    expected !== undefined &&
    after.name === before.name &&
    sameList(after.members, expected.members) &&
    sameList(after.admins, expected.admins)
  )
}

const listed = new WeakMap<readonly Address[], ReadonlySet<string>>()

/**
 * Whether `account` is in `list` (a context's members or admins), by a set of lowercase addresses built once per list
 * (a check per leaf of a 10,000-member group would otherwise compare 10^8 pairs).
 *
 * @example if (!includes(context.members, identity.account)) throw fail('foreign-member', detail)
 */
export function includes(list: readonly Address[], account: Address): boolean {
  let set = listed.get(list)
  if (!set) {
    set = new Set(list.map((a) => a.toLowerCase()))
    listed.set(list, set)
  }
  return set.has(account.toLowerCase())
}

function sameList(a: readonly Address[], b: readonly Address[]): boolean {
  return a.length === b.length && a.every((x, i) => isAddressEqual(x, b[i] as Address))
}

/**
 * Whether a leaf is a device the registry view backs: registered to the leaf's account under the leaf's key, and not
 * revoked. Any other leaf may be removed (revoked, or its registration gone in a reorg; key-management.md §6).
 *
 * @example if (!isActiveDevice(registry, leaf)) removable.push(leaf)
 */
export function isActiveDevice(registry: PolicyRegistry, leaf: PolicyLeaf): boolean {
  const identity = leaf.identity
  const device = identity && registry.device(identity.deviceId)
  return (
    identity !== undefined &&
    device !== undefined &&
    isAddressEqual(device.account, identity.account) &&
    device.mlsKey.toLowerCase() === leaf.signatureKey.toLowerCase() &&
    device.revokedAt === undefined
  )
}
