/** The demo's attack steps: each is performed for real and passes only on the typed refusal (group ones: groupRefusals). */
import { join } from 'node:path'
import type { Hex, PublicClient } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import type { Client } from '../client/Client.js'
import type { Deployment } from '../client/deployment.js'
import { type DeviceKeys, loadDevice } from '../client/identity.js'
import { formatVerification, type Transcript, verifyTranscript } from '../client/transcript.js'
import type { Rejection } from '../client/types.js'
import {
  ConversationPolicyError,
  DeploymentMismatchError,
  SenderRemovedError,
} from '../client/verificationErrors.js'
import { sealWithRevokedDevice } from './attacks.js'
import { DemoAttackError } from './errors.js'
import { type EarlyStatement, judgeLateStatement, lateStatementTranscript } from './lateStatement.js'
import { forgeAgainstLookAlike } from './lookAlikeForgery.js'
import { connectParty, DEMO_PASSPHRASE, type DemoNetwork, fundedAccount } from './parties.js'
import { plantDirectGroup } from './plantGroup.js'
import type { DemoReport } from './report.js'
import { watchRejections } from './waits.js'

/**
 * The names of the attack steps, as the report and `--json` list them.
 *
 * @example summary.steps.find((s) => s.name === ATTACK_STEPS.plantedGroup)?.ok
 */
export const ATTACK_STEPS = {
  plantedGroup: "attack 1 refused: outsider's planted 1:1 group",
  removedSender: 'attack 2 refused: revoked device sending from an old epoch',
  lateStatement: "attack 2 refused at the statement layer: revoked device's late statement",
  lookAlikeTranscript: 'attack 3 refused: forged transcript against a look-alike registry',
  forgedGroupCommit: "attack 4 refused: a non-admin's forged commit promoting itself in the team group",
} as const

/**
 * Mallory, a registered outsider: her live client, her device keys and her (funded) account.
 *
 * @example const mallory: Outsider = await joinOutsider(network, publicClient)
 */
export type Outsider = { client: Client; keys: DeviceKeys; account: LocalAccount }

/**
 * How long a refusal step waits for each recipient's refusal.
 *
 * @example await watch.find(envelope.id, REFUSAL_TIMEOUT_MS)
 */
export const REFUSAL_TIMEOUT_MS = 30_000
const random32 = (): Hex => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`

/**
 * Gives a fresh account 10 ETH on the local chain (`anvil_setBalance`), registers its device and connects it: an
 * outsider anyone could be.
 *
 * @example const mallory = await joinOutsider(network, publicClient)
 */
export async function joinOutsider(network: DemoNetwork, publicClient: PublicClient): Promise<Outsider> {
  const account = await fundedAccount(publicClient)
  const party = { name: 'mallory', account }
  const client = await connectParty(network, party)
  const keys = await loadDevice({ home: join(network.dir, party.name), passphrase: DEMO_PASSPHRASE })
  return { client, keys, account }
}

/**
 * One line naming who refused an envelope and how (error, code and, for a policy refusal, its rule).
 *
 * @example refusal('Alice', rejection) // "Alice: ConversationPolicyError [SEALPOST_CONVERSATION_POLICY], rule not-admin"
 */
export function refusal(who: string, r: Rejection | undefined): string {
  if (!r) return `${who}: no refusal`
  const rule = r.error instanceof ConversationPolicyError ? `, rule ${r.error.rule}` : ''
  return `${who}: ${r.error.name} [${r.error.code}]${rule}`
}

/**
 * Attack 1: Mallory plants a group carrying a direct context for Alice and Bob but keeping her own leaf. Passes
 * only if both refuse the Welcome with ConversationPolicyError rule `foreign-member`, neither stores the group, and
 * Alice's `open(Bob)` still returns their honest conversation.
 *
 * @example await refusePlantedGroup({ report, mallory, alice, bob, honest: chat.id })
 */
export async function refusePlantedGroup({
  report,
  mallory,
  alice,
  bob,
  honest,
}: {
  report: DemoReport
  mallory: Outsider
  alice: Client
  bob: Client
  /** The id of Alice and Bob's honest conversation. */
  honest: Hex
}): Promise<void> {
  const victims = [alice, bob] as const
  const watches = victims.map(watchRejections)
  try {
    const planted = await plantDirectGroup({
      builder: mallory.client,
      keys: mallory.keys,
      victims,
      nonce: random32(),
    })
    const refusals = await Promise.all(
      victims.map((v, i) => watches[i]?.find(planted.welcomes.get(v.deviceId) as Hex, REFUSAL_TIMEOUT_MS)),
    )
    const rules = refusals.map((r) =>
      r?.error instanceof ConversationPolicyError ? r.error.rule : undefined,
    )
    const stored = victims.filter((v) => v.conversations.get(planted.groupId) !== undefined)
    const opened = (await alice.conversations.open(bob.account)).id
    const ok = rules.every((rule) => rule === 'foreign-member') && stored.length === 0 && opened === honest
    report.record(
      ATTACK_STEPS.plantedGroup,
      ok,
      ok
        ? 'Alice and Bob refused the Welcome with ConversationPolicyError [SEALPOST_CONVERSATION_POLICY], rule foreign-member'
        : `refusals: ${rules.map((r) => r ?? 'none').join(', ')}; stored by ${stored.length}; open(Bob) ${opened === honest ? 'honest' : opened}`,
      [
        `Mallory built group ${planted.groupId.slice(0, 18)}… with ts-mls from her own registered device: a direct`,
        '  context for {Alice, Bob} with the canonical group id, her leaf kept, both added in one commit',
        refusal('Alice', refusals[0]),
        refusal('Bob', refusals[1]),
        `neither stored the group; Alice's open(Bob) still returns the honest conversation: ${opened === honest ? 'yes' : 'no'}`,
      ],
    )
  } catch (err) {
    report.record(ATTACK_STEPS.plantedGroup, false, `the attack could not run: ${(err as Error).message}`)
  } finally {
    for (const w of watches) w.stop()
  }
}

/**
 * Attack 2 (MLS layer): the thief's copy of Alice's revoked phone, removed from the conversation but never told,
 * seals in the epoch before its removal and Mallory publishes it. Passes only if Alice and Bob both refuse it with
 * SenderRemovedError and neither stores the text.
 *
 * @example await refuseRemovedSender({ report, stolen: stolenPhone, publisher: mallory.client, conversation: chat.id, recipients: [alice, bob] })
 */
export async function refuseRemovedSender({
  report,
  stolen,
  publisher,
  conversation,
  recipients,
}: {
  report: DemoReport
  /** The removed device's stolen state, offline (it never processed its removal). */
  stolen: Client
  /** Whoever puts the sealed envelope on the relay for the thief. */
  publisher: Client
  conversation: Hex
  recipients: readonly Client[]
}): Promise<void> {
  const text = 'New bank details: wire the invoice to 0xBAD.'
  const watches = recipients.map(watchRejections)
  try {
    const staleEpoch = stolen.conversations.get(conversation)?.info().epoch
    const envelope = await sealWithRevokedDevice(stolen, conversation, text)
    if (!envelope)
      throw new DemoAttackError({ attack: 'seal with the removed phone', reason: 'nothing was sealed' })
    await publisher.transport.publish(envelope)
    const refusals = await Promise.all(
      recipients.map((_, i) => watches[i]?.find(envelope.id, REFUSAL_TIMEOUT_MS)),
    )
    const stored = recipients.filter((r) =>
      r.conversations
        .get(conversation)
        ?.messages()
        .some((m) => m.body === text),
    )
    const ok = refusals.every((r) => r?.error instanceof SenderRemovedError) && stored.length === 0
    const current = recipients[0]?.conversations.get(conversation)?.info().epoch
    report.record(
      ATTACK_STEPS.removedSender,
      ok,
      ok
        ? 'Alice and Bob refused it with SenderRemovedError [SEALPOST_SENDER_REMOVED]'
        : `${refusals.map((r, i) => refusal(i === 0 ? 'Alice' : 'Bob', r)).join('; ')}; stored by ${stored.length}`,
      [
        `sealed at epoch ${staleEpoch} by the removed phone (the conversation is at epoch ${current}), published by Mallory`,
        ...refusals.map((r, i) => refusal(i === 0 ? 'Alice' : 'Bob', r)),
      ],
    )
  } catch (err) {
    report.record(ATTACK_STEPS.removedSender, false, `the attack could not run: ${(err as Error).message}`)
  } finally {
    for (const w of watches) w.stop()
  }
}

/**
 * Attack 2 (statement layer): the thief's copy of Alice's phone signed a statement while the phone was still valid,
 * referencing a block before its revocation; after the revocation Mallory anchors its leaf and the thief exports the
 * phone's log. Passes only if `verifyTranscript` against the pinned deployment refuses it with
 * RevokedBeforeAnchorError at its `time-bounds` check, and nothing else fails.
 *
 * @example await refuseLateStatement({ report, stolen, keys, early, mallory, rpc, publicClient, deployment, revokedAt })
 */
export async function refuseLateStatement({
  report,
  stolen,
  keys,
  early,
  mallory,
  rpc,
  publicClient,
  deployment,
  revokedAt,
}: {
  report: DemoReport
  stolen: Client
  keys: DeviceKeys
  early: EarlyStatement
  mallory: Outsider
  rpc: string
  publicClient: PublicClient
  deployment: Deployment
  /** The block of the phone's revocation. */
  revokedAt: bigint
}): Promise<void> {
  try {
    const { result, anchoredIn } = await lateStatementTranscript({
      stolen,
      keys,
      early,
      anchorer: mallory.account,
      rpc,
      publicClient,
      deployment,
      revokedAt,
    })
    const { ok, lines } = judgeLateStatement(result)
    report.record(
      ATTACK_STEPS.lateStatement,
      ok,
      ok
        ? "the thief's transcript fails verify with RevokedBeforeAnchorError [SEALPOST_REVOKED_BEFORE_ANCHOR]"
        : `verification ${result.ok ? 'passed' : `failed with ${result.error?.name ?? 'no typed error'}`}`,
      [
        `signed by the phone referencing block ${early.block}, before its revocation in block ${revokedAt}`,
        `anchored by Mallory in block ${anchoredIn}, after the revocation; the export signed at block ${revokedAt - 1n}`,
        ...lines,
      ],
    )
  } catch (err) {
    report.record(ATTACK_STEPS.lateStatement, false, `the attack could not run: ${(err as Error).message}`)
  }
}

/**
 * Attack 3: Mallory forges "Alice's" transcript against a look-alike KeyRegistry that maps her key to Alice. Passes
 * only if verification against the pinned deployment fails its `contracts` check with DeploymentMismatchError
 * (field keyRegistry); also reports what trusting the file's own addresses would have said.
 *
 * @example await refuseLookAlikeTranscript({ report, mallory, rpc, publicClient, genuine: transcript, deployment })
 */
export async function refuseLookAlikeTranscript({
  report,
  mallory,
  rpc,
  publicClient,
  genuine,
  deployment,
}: {
  report: DemoReport
  mallory: Outsider
  rpc: string
  publicClient: PublicClient
  /** Alice's real transcript. */
  genuine: Transcript
  /** The pinned deployment. */
  deployment: Deployment
}): Promise<void> {
  try {
    const { forged, lookAlike } = await forgeAgainstLookAlike({
      account: mallory.account,
      rpc,
      publicClient,
      genuine,
    })
    const trusting = await verifyTranscript({
      transcript: forged,
      publicClient,
      deployment: {
        chainId: forged.chainId,
        keyRegistry: forged.keyRegistry,
        messageAnchor: forged.messageAnchor,
      },
    })
    const pinned = await verifyTranscript({ transcript: forged, publicClient, deployment })
    const failed = pinned.checks.filter((c) => !c.ok)
    const contracts = failed.find((c) => c.check === 'contracts')
    const ok =
      !pinned.ok &&
      pinned.error instanceof DeploymentMismatchError &&
      pinned.error.field === 'keyRegistry' &&
      contracts !== undefined
    report.record(
      ATTACK_STEPS.lookAlikeTranscript,
      ok,
      ok
        ? `rejected with DeploymentMismatchError [SEALPOST_DEPLOYMENT_MISMATCH]: ${contracts?.detail}`
        : `pinned verification ${pinned.ok ? 'passed' : `failed with ${pinned.error?.name ?? 'no typed error'}`}`,
      [
        `look-alike KeyRegistry ${lookAlike} maps Mallory's key to Alice ${genuine.account}`,
        `trusting the addresses inside the file (the old verifier): ${trusting.ok ? 'verifies' : 'fails too'}`,
        ...trusting.checks
          .filter((c) => !c.ok)
          .map((c) => `  ✗ entry ${c.entry ?? '-'} ${c.check}: ${c.detail}`),
        `pinned deployment: KeyRegistry ${deployment.keyRegistry}, MessageAnchor ${deployment.messageAnchor}`,
        ...(ok ? [] : formatVerification({ ok: false, checks: failed })),
      ],
    )
  } catch (err) {
    report.record(
      ATTACK_STEPS.lookAlikeTranscript,
      false,
      `the attack could not run: ${(err as Error).message}`,
    )
  }
}
