/** The demo's team group (issue 11): four accounts, a message all verify, a non-admin refused, a removal that locks out. */
import type { Address, Hex, PublicClient } from 'viem'
import type { Client, Group } from '../client/Client.js'
import type { GroupMember } from '../client/groups.js'
import { refuseForgedGroupCommit, refuseNonAdminRemoval } from './groupRefusals.js'
import { connectParty, type DemoNetwork, type DemoParty, fundedAccount } from './parties.js'
import type { DemoReport } from './report.js'
import { openWithSavedState, readSavedGroupState } from './savedGroupState.js'
import { nextMessageIn, pollUntil } from './waits.js'

/**
 * The names of the team group's steps, as the report and `--json` list them (the forged commit is
 * `ATTACK_STEPS.forgedGroupCommit`).
 *
 * @example summary.steps.find((s) => s.name === GROUP_STEPS.removedCannotRead)?.ok
 */
export const GROUP_STEPS = {
  register: 'register Carol and Dave',
  create: 'Alice creates the team group "ops"',
  message: "a member's message reaches every member, verified",
  sdkRefusal: "a non-admin's change is refused by the SDK",
  remove: 'Alice removes Dave from "ops"',
  removedCannotRead: "the removed member's saved state fails to open the next message",
} as const

/**
 * Parameters of {@link runTeamGroup}.
 *
 * @example const p: TeamGroupParameters = { report, network, publicClient, alice, bob, keys: [], track }
 */
export type TeamGroupParameters = {
  report: DemoReport
  network: DemoNetwork
  publicClient: PublicClient
  /** Alice's and Bob's live clients (Alice is the group's admin). */
  alice: Client
  bob: Client
  /** Funded keys for Carol and Dave; a missing one is a fresh account funded with `anvil_setBalance`. */
  keys: readonly (Hex | undefined)[]
  /** Registers a client for the caller to close. */
  track: (client: Client) => Client
}

const WAIT_MS = 30_000
/** Receipts are batched (about 200 ms) and sealed as group messages; a few seconds is plenty. */
const RECEIPT_WAIT_MS = 15_000
const OPS = 'ops'

/**
 * Runs the team group's steps and records each in `report`: Carol and Dave register; Alice creates "ops" with Bob,
 * Carol and Dave (every device joins from its Welcome); Bob's message reaches Alice, Carol and Dave, each verifying
 * it, and Bob sees it delivered to all three by their signed delivery receipts; Carol (not an admin) tries to remove Dave through the SDK (`NotGroupAdminError`), then forges a commit making
 * herself admin (attack 4, refused by every other member with rule `not-admin`); Alice removes Dave, and Dave's
 * state saved before the removal fails to open Alice's next message while Bob and Carol read it. Returns Carol's live
 * client (still in "ops" with Alice and Bob). Throws only on an unexpected failure.
 *
 * @example await runTeamGroup({ report, network, publicClient, alice, bob, keys: keys.slice(2, 4), track })
 */
export async function runTeamGroup(p: TeamGroupParameters): Promise<{ carol: Client }> {
  const { report, network, alice, bob, track } = p
  const parties = await Promise.all(
    ['carol', 'dave'].map(
      async (name, i): Promise<DemoParty> => ({
        name,
        account: await fundedAccount(p.publicClient, p.keys[i]),
      }),
    ),
  )
  const [carolParty, daveParty] = parties as [DemoParty, DemoParty]
  const [carol, dave] = (await Promise.all(parties.map((party) => connectParty(network, party)))).map(
    track,
  ) as [Client, Client]
  report.record(GROUP_STEPS.register, true, `Carol ${carol.account}, Dave ${dave.account}`, [
    'each registered a device on chain and published key packages at the relay',
  ])
  const names = new Map<string, string>(
    [
      [alice, 'Alice'],
      [bob, 'Bob'],
      [carol, 'Carol'],
      [dave, 'Dave'],
    ].map(([c, n]) => [(c as Client).account.toLowerCase(), n as string]),
  )
  const nameOf = (a: Address) => names.get(a.toLowerCase()) ?? a

  // Alice, the admin, creates the group; every device of Bob, Carol and Dave joins from its Welcome.
  const ops = await alice.groups.create({ name: OPS, members: [bob.account, carol.account, dave.account] })
  const [bobOps] = await Promise.all(
    [bob, carol, dave].map((c) =>
      pollUntil(() => c.groups.get(ops.id), WAIT_MS, `${nameOf(c.account)} to join`),
    ),
  )
  const epoch = await converged(ops.id, [alice, bob, carol, dave])
  const info = ops.info()
  const { members } = ops.members()
  const inGroup = (m: GroupMember) => m.devices.filter((d) => d.inGroup).length
  const revoked = (m: GroupMember) => m.devices.filter((d) => d.status === 'revoked').length
  const devices = members.reduce((n, m) => n + inGroup(m), 0)
  const admins = info.admins.map(nameOf).join(', ')
  report.record(
    GROUP_STEPS.create,
    info.members.length === 4 && info.admins.length === 1 && members.every((m) => inGroup(m) > 0),
    `${info.members.length} accounts, ${devices} devices, epoch ${epoch}; admin: ${admins}`,
    [
      `group ${ops.id.slice(0, 18)}…: Bob, Carol and Dave joined from the Welcome in their inboxes`,
      ...members.map(
        (m) =>
          `${nameOf(m.account)}${m.admin ? ' (admin)' : ''}: ${inGroup(m)} device(s) in the group, ${revoked(m)} revoked`,
      ),
    ],
  )

  // A member (not an admin) writes to the team; everyone else receives and verifies it.
  const text = 'Deploy window opens at 17:00; Carol is on call.'
  const readers = [alice, carol, dave]
  const arriving = readers.map((c) => nextMessageIn(c, ops.id, WAIT_MS))
  const sent = await (bobOps as Group).send(text)
  const got = await Promise.all(arriving)
  const verified = got.every((m) => m?.text === text && m.report.ok && m.from === bob.account)
  const delivery = await deliveredToAll(bobOps as Group, sent.id)
  report.record(
    GROUP_STEPS.message,
    verified && delivery.all,
    verified
      ? `"${text}" from Bob, verified by Alice, Carol and Dave; Bob sees it ${delivery.line}`
      : `verified by ${got.filter((m) => m?.report.ok).length} of ${readers.length}`,
    [
      `one envelope ${sent.id.slice(0, 18)}… at epoch ${epoch}, fanned out by the relay to every member device`,
      `${delivery.line} by their signed delivery receipts: ${delivery.delivered.map(nameOf).join(', ') || 'none'}`,
      ...got.map((m, i) => {
        const who = nameOf((readers[i] as Client).account)
        if (!m) return `${who}: nothing arrived`
        const passed = m.report.steps.filter((s) => s.ok).length
        const device = `${m.device.slice(0, 10)}…`
        return `${who}: ${passed} of ${m.report.steps.length} checks passed (sender Bob, device ${device})`
      }),
    ],
  )

  // Carol is not an admin: her SDK refuses to remove Dave, and the commit she forges anyway is refused by all.
  await refuseNonAdminRemoval({
    report,
    name: GROUP_STEPS.sdkRefusal,
    member: carol,
    groupId: ops.id,
    target: dave.account,
  })
  await refuseForgedGroupCommit({
    report,
    network,
    forger: carol,
    forgerParty: carolParty,
    forgerName: 'Carol',
    groupId: ops.id,
    members: { Alice: alice, Bob: bob, Dave: dave },
  })

  // Alice removes Dave. What Dave's device saved before, a thief keeps: it must not open what follows.
  const saved = await readSavedGroupState(network, daveParty, ops.id)
  const removedAt = await ops.remove([dave.account])
  await pollUntil(() => dave.groups.get(ops.id)?.info().active === false, WAIT_MS, 'Dave to see his removal')
  const after = await converged(ops.id, [alice, bob, carol])
  const remaining = ops.info().members
  report.record(
    GROUP_STEPS.remove,
    after === removedAt && remaining.length === 3 && !remaining.includes(dave.account),
    `epoch ${removedAt}: ${remaining.map(nameOf).join(', ')}; Dave's device processed its removal`,
  )

  const farewell = 'Dave has moved teams; rotating the on-call keys.'
  const remainingReaders = [bob, carol]
  const reading = remainingReaders.map((c) => nextMessageIn(c, ops.id, WAIT_MS))
  const next = await ops.send(farewell)
  const read = await Promise.all(reading)
  const attempt = await openWithSavedState({ client: dave, saved, envelope: next.envelope })
  const daveHolds = dave.messages.get(next.id) !== undefined
  const othersRead = read.every((m) => m?.text === farewell && m.report.ok)
  const farewellDelivery = await deliveredToAll(ops, next.id)
  const daveConfirmed = farewellDelivery.delivered.some((a) => a.toLowerCase() === dave.account.toLowerCase())
  report.record(
    GROUP_STEPS.removedCannotRead,
    othersRead && !attempt.opened && !daveHolds && !daveConfirmed,
    attempt.opened
      ? `Dave's saved state of epoch ${attempt.epoch} opened the message of epoch ${removedAt}`
      : `Dave's saved state of epoch ${attempt.epoch} cannot open the message of epoch ${removedAt}`,
    [
      `Alice → ops: "${farewell}"; Bob and Carol read and verify it: ${othersRead ? 'yes' : 'no'}`,
      attempt.opened
        ? 'ts-mls opened it with the saved state'
        : `ts-mls with the saved state: ${attempt.reason}`,
      `Dave's device holds the message: ${daveHolds ? 'yes' : 'no'}`,
      `Alice sees it ${farewellDelivery.line} (${farewellDelivery.delivered.map(nameOf).join(', ') || 'none'})`,
    ],
  )
  return { carol }
}

/**
 * Waits (at most `RECEIPT_WAIT_MS`) until every other member account confirmed message `id` with a signed delivery
 * receipt, as the group's `sender` sees it; returns who did and the line to show ("delivered to 3 of 3 members").
 */
async function deliveredToAll(
  sender: Group,
  id: Hex,
): Promise<{ all: boolean; delivered: Address[]; line: string }> {
  const all = () => {
    const { delivered, members } = sender.delivery(id)
    return members.length > 0 && delivered.length === members.length
  }
  await pollUntil(all, RECEIPT_WAIT_MS, 'the delivery receipts').catch(() => undefined)
  const { delivered, members } = sender.delivery(id)
  return { all: all(), delivered, line: `delivered to ${delivered.length} of ${members.length} members` }
}

/** Waits until every client holds group `id` at one epoch, and returns it. */
function converged(id: Hex, clients: Client[]): Promise<bigint> {
  return pollUntil(
    () => {
      const epochs = clients.map((c) => c.groups.get(id)?.info().epoch)
      return epochs.every((e) => e !== undefined && e === epochs[0]) && (epochs[0] as bigint)
    },
    WAIT_MS,
    'the members to reach one epoch',
  )
}
