/** Issue 11's non-admin attack: a member forges a commit with ts-mls from its saved state, bypassing the SDK's check. */
import { createCommit, type Proposal, zeroOutUint8Array } from 'ts-mls'
import type { Hex } from 'viem'
import type { Client } from '../client/Client.js'
import { contextOf } from '../client/conversationPolicy.js'
import {
  conversationExtensions,
  deserializeGroupState,
  encodeMls,
  mlsClientConfig,
  registryAuthService,
} from '../client/mls.js'
import { getMlsCiphersuite } from '../crypto/mls.js'
import { groupContext } from '../protocol/conversationContext.js'
import { createEnvelope, type Envelope } from '../protocol/envelope.js'
import { DemoAttackError } from './errors.js'

/**
 * The forged commit: its envelope on the group topic and the epoch it was built in.
 *
 * @example const { envelope, epoch } = await forgeSelfPromotion({ forger: carol, saved, groupId })
 */
export type ForgedCommit = { envelope: Envelope; epoch: bigint }

/**
 * A member that is not an admin promotes itself: from its saved group state it builds, with ts-mls directly, a
 * commit whose `group_context_extensions` proposal installs the group's context with its own account among the
 * admins (the SDK would refuse to build it: `NotGroupAdminError`), and publishes it on the group topic through its
 * relay connection without storing anything. Every other member must refuse it (ConversationPolicyError, rule
 * `not-admin`). Throws `DemoAttackError` for a state that is not a group's.
 *
 * @example const forged = await forgeSelfPromotion({ forger: carol, saved: await readSavedGroupState(network, carolParty, ops.id), groupId: ops.id })
 */
export async function forgeSelfPromotion({
  forger,
  saved,
  groupId,
}: {
  /** The forger's live client (its relay connection publishes the commit). */
  forger: Client
  /** The forger's saved state of the group (`readSavedGroupState`). */
  saved: Uint8Array
  groupId: Hex
}): Promise<ForgedCommit> {
  const config = mlsClientConfig(
    registryAuthService({ chainId: forger.chainId, lookup: async (id) => forger.watcher.device(id) }),
  )
  const state = deserializeGroupState(saved, config)
  const before = contextOf(state)
  if (before.kind !== 'group' || before.name === undefined)
    throw new DemoAttackError({ attack: 'forge a group commit', reason: `${groupId} is not a group` })
  const after = groupContext({
    ...before,
    name: before.name,
    creator: forger.account,
    admins: [...before.admins, forger.account],
  })
  const proposal: Proposal = {
    proposalType: 'group_context_extensions',
    groupContextExtensions: { extensions: conversationExtensions(after) },
  }
  const impl = await getMlsCiphersuite(forger.ciphersuite)
  const built = await createCommit(
    { state, cipherSuite: impl },
    { extraProposals: [proposal], ratchetTreeExtension: true },
  )
  built.consumed.forEach(zeroOutUint8Array)
  const envelope = createEnvelope({ kind: 'commit', topic: groupId, payload: encodeMls(built.commit) })
  await forger.transport.publish(envelope)
  return { envelope, epoch: state.groupContext.epoch }
}
