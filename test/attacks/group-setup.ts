/** Test helper for the group attacks: a member's stored MLS state read from disk, and raw ts-mls messages forged on it. */
import {
  type ClientConfig,
  type ClientState,
  createCommit,
  createProposal,
  type Proposal,
  zeroOutUint8Array,
} from 'ts-mls'
import type { Address, Hex } from 'viem'
import { expect } from 'vitest'
import type { Client, Group } from '../../src/client/Client.js'
import { loadDevice } from '../../src/client/identity.js'
import { deserializeGroupState, encodeMls, mlsClientConfig } from '../../src/client/mls.js'
import type { Rejection } from '../../src/client/types.js'
import { getMlsCiphersuite } from '../../src/crypto/mls.js'
import { createEnvelope, type Envelope } from '../../src/protocol/envelope.js'
import { DeviceStore } from '../../src/store/deviceStore.js'
import { testPassphrase } from '../utils/clients.js'
import type { LiveClient } from './conversation-setup.js'

/** The attacker's own MLS config: it checks no credential (what it builds is for the victims to judge). */
const lax: ClientConfig = mlsClientConfig({ validateCredential: async () => true })

/** Polls `probe` until it returns a truthy value, or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  probe: () => T | undefined | false,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The group `id` on `client`, once it has joined it. */
export function joined(client: Client, id: Hex): Promise<Group> {
  return waitFor(() => client.groups.get(id), `${client.account} to join ${id}`)
}

/** Waits until every client holds the group at the same epoch, and returns that epoch. */
export function converged(id: Hex, clients: Client[], timeoutMs?: number): Promise<bigint> {
  return waitFor(
    () => {
      const epochs = clients.map((c) => c.groups.get(id)?.info().epoch)
      return epochs.every((e) => e !== undefined && e === epochs[0]) && (epochs[0] as bigint)
    },
    'the members to reach the same epoch',
    timeoutMs,
  )
}

/** Creates a group from `admin` with `others` as members and waits until every device holds it at one epoch. */
export async function honestGroup(
  admin: Client,
  others: Client[],
  { name, admins }: { name: string; admins?: Address[] | undefined },
): Promise<Group> {
  const group = await admin.groups.create({ name, members: others.map((c) => c.account), admins })
  await Promise.all(others.map((c) => joined(c, group.id)))
  await converged(group.id, [admin, ...others])
  return group
}

/**
 * What a member's group looks like: epoch, name, member accounts, admins and the devices holding a leaf. Two equal
 * views mean nothing changed.
 */
export function viewOf(client: Client, id: Hex) {
  const group = client.groups.get(id)
  if (!group) return undefined
  const { epoch, name, members, admins, active } = group.info()
  const leaves = group
    .members()
    .members.flatMap((m) => m.devices.filter((d) => d.inGroup).map((d) => d.deviceId))
    .sort()
  return { epoch, name, members, admins, active, leaves }
}

/**
 * The group state `client` stored for `groupId`, read from its device store on disk (as a thief of the device, or
 * its own modified software, would), with a configuration that checks no credential.
 */
export async function storedState(client: Client & { home: string }, groupId: Hex): Promise<ClientState> {
  const keys = await loadDevice({ home: client.home, passphrase: testPassphrase })
  const store = DeviceStore.open({ path: `${keys.dir}/state.sqlite`, storageKey: keys.storageKey })
  try {
    const group = store.getGroup(groupId)
    if (!group) throw new Error(`${client.account} holds no group ${groupId}`)
    return deserializeGroupState(group.state, lax)
  } finally {
    store.close()
  }
}

/**
 * The attacker's commit, built with ts-mls on its stored state (carrying `proposals` by value, with an update path)
 * and published on the group topic through its own relay connection. Its own store is left as it was.
 */
export async function forgeCommit(
  attacker: Client & { home: string },
  groupId: Hex,
  proposals: Proposal[],
): Promise<Envelope> {
  const state = await storedState(attacker, groupId)
  const impl = await getMlsCiphersuite(attacker.ciphersuite)
  const built = await createCommit(
    { state, cipherSuite: impl },
    { extraProposals: proposals, ratchetTreeExtension: true },
  )
  built.consumed.forEach(zeroOutUint8Array)
  return publishOnGroup(attacker, groupId, encodeMls(built.commit))
}

/** The attacker's standalone proposal on its stored state, published on the group topic (its store untouched). */
export async function forgeProposal(
  attacker: Client & { home: string },
  groupId: Hex,
  proposal: Proposal,
): Promise<Envelope> {
  const state = await storedState(attacker, groupId)
  const impl = await getMlsCiphersuite(attacker.ciphersuite)
  const made = await createProposal(state, false, proposal, impl)
  made.consumed.forEach(zeroOutUint8Array)
  return publishOnGroup(attacker, groupId, encodeMls(made.message))
}

/** Publishes an MLS message as a new envelope (of `kind`, default `commit`) on the group topic through `client`. */
export async function publishOnGroup(
  client: Client,
  groupId: Hex,
  payload: Uint8Array,
  kind: 'commit' | 'application' = 'commit',
): Promise<Envelope> {
  const envelope = createEnvelope({ kind, topic: groupId, payload })
  await client.transport.publish(envelope)
  return envelope
}

/** The rejection `client` reported (its `rejected` event) for envelope `envelopeId`, once it has. */
export function rejectionOf(client: LiveClient, envelopeId: Hex): Promise<Rejection> {
  return waitFor(
    () => client.rejected.find((r) => r.envelopeId === envelopeId),
    `${client.account} to reject ${envelopeId}`,
  )
}

/**
 * Asserts that every victim refused `envelope` (its `rejected` event, a `rejected` log entry) with an error of type
 * `type` and, when given, `rule`; and that its view of the group is `before`'s. Returns the errors.
 */
export async function refusedByAll(
  victims: LiveClient[],
  envelope: Envelope,
  groupId: Hex,
  before: Map<LiveClient, ReturnType<typeof viewOf>>,
  expected: { type: abstract new (...args: never[]) => Error; code: string; rule?: string | undefined },
): Promise<Rejection['error'][]> {
  const errors: Rejection['error'][] = []
  for (const victim of victims) {
    const { error } = await rejectionOf(victim, envelope.id)
    expect(error).toBeInstanceOf(expected.type)
    expect(error.code).toBe(expected.code)
    if (expected.rule !== undefined) expect((error as { rule?: string }).rule).toBe(expected.rule)
    expect(victim.log.entries({ kind: 'rejected' }).some((e) => e.data.envelopeId === envelope.id)).toBe(true)
    expect(viewOf(victim, groupId)).toEqual(before.get(victim))
    errors.push(error)
  }
  return errors
}

/** Every client's current view of group `id`. */
export function viewsOf(clients: LiveClient[], id: Hex): Map<LiveClient, ReturnType<typeof viewOf>> {
  return new Map(clients.map((c) => [c, viewOf(c, id)]))
}
