/** The demo's refusals of a non-admin's change to the team group: by the SDK, and by every member for a forged commit. */
import type { Address, Hex } from 'viem'
import type { Client } from '../client/Client.js'
import { NotGroupAdminError } from '../client/groupErrors.js'
import { ConversationPolicyError } from '../client/verificationErrors.js'
import { DemoAttackError } from './errors.js'
import { forgeSelfPromotion } from './forgeGroupCommit.js'
import type { DemoNetwork, DemoParty } from './parties.js'
import { ATTACK_STEPS, REFUSAL_TIMEOUT_MS, refusal } from './refusals.js'
import { type DemoReport, expectRejection } from './report.js'
import { readSavedGroupState } from './savedGroupState.js'
import { watchRejections } from './waits.js'

/**
 * A non-admin member asks its own SDK to remove another member: the step passes only on `NotGroupAdminError`
 * (nothing is built or published).
 *
 * @example await refuseNonAdminRemoval({ report, name, member: carol, groupId: ops.id, target: dave.account })
 */
export function refuseNonAdminRemoval({
  report,
  name,
  member,
  groupId,
  target,
}: {
  report: DemoReport
  /** The step's name. */
  name: string
  member: Client
  groupId: Hex
  target: Address
}): Promise<void> {
  return expectRejection(
    report,
    name,
    async () => {
      const group = member.groups.get(groupId)
      if (!group)
        throw new DemoAttackError({ attack: 'change the group as a non-admin', reason: 'not a member' })
      await group.remove([target])
    },
    NotGroupAdminError,
  )
}

/**
 * Attack 4 (issue 11): a non-admin member forges, with ts-mls from its saved state, a commit that makes it an admin
 * and publishes it without storing it (`forgeSelfPromotion`). Passes only if every other member refuses it with
 * ConversationPolicyError rule `not-admin` and none of them changes its epoch or admins.
 *
 * @example await refuseForgedGroupCommit({ report, network, forger: carol, forgerParty, forgerName: 'Carol', groupId: ops.id, members: { Alice: alice, Bob: bob, Dave: dave } })
 */
export async function refuseForgedGroupCommit({
  report,
  network,
  forger,
  forgerParty,
  forgerName,
  groupId,
  members,
}: {
  report: DemoReport
  network: Pick<DemoNetwork, 'dir'>
  forger: Client
  forgerParty: DemoParty
  /** The forger's display name. */
  forgerName: string
  groupId: Hex
  /** The other members by display name. */
  members: Record<string, Client>
}): Promise<void> {
  const names = Object.keys(members)
  const clients = Object.values(members)
  const views = () =>
    clients.map((c) => {
      const info = c.groups.get(groupId)?.info()
      return `${info?.epoch}:${info?.admins.join()}`
    })
  const before = views()
  const watches = clients.map(watchRejections)
  try {
    const saved = await readSavedGroupState(network, forgerParty, groupId)
    const forged = await forgeSelfPromotion({ forger, saved, groupId })
    const refusals = await Promise.all(watches.map((w) => w.find(forged.envelope.id, REFUSAL_TIMEOUT_MS)))
    const rules = refusals.map((r) =>
      r?.error instanceof ConversationPolicyError ? r.error.rule : undefined,
    )
    const unchanged = views().every((v, i) => v === before[i])
    const ok = rules.every((rule) => rule === 'not-admin') && unchanged
    report.record(
      ATTACK_STEPS.forgedGroupCommit,
      ok,
      ok
        ? `${names.join(', ')} refused it with ConversationPolicyError [SEALPOST_CONVERSATION_POLICY], rule not-admin`
        : `refusals: ${rules.map((r) => r ?? 'none').join(', ')}; group unchanged: ${unchanged ? 'yes' : 'no'}`,
      [
        `${forgerName}, not an admin, built a commit at epoch ${forged.epoch} with ts-mls from the state saved on her`,
        `  device, naming ${forgerName} among the admins, and published it on the group topic without storing it`,
        ...refusals.map((r, i) => refusal(names[i] as string, r)),
        `every member kept its epoch and admins: ${unchanged ? 'yes' : 'no'}`,
      ],
    )
  } catch (err) {
    report.record(
      ATTACK_STEPS.forgedGroupCommit,
      false,
      `the attack could not run: ${(err as Error).message}`,
    )
  } finally {
    for (const w of watches) w.stop()
  }
}
