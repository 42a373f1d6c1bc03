/** Group membership follows the registry: creating a conversation, adding and removing devices, claiming key packages. */
import { randomBytes } from 'node:crypto'
import type { ClientState, KeyPackage, Proposal } from 'ts-mls'
import { type Address, bytesToHex, type Hex, isAddressEqual } from 'viem'
import type { DeviceRecord } from '../chain/registryWatcher.js'
import { directContext } from '../protocol/conversationContext.js'
import type { DeviceIdentity } from '../protocol/credential.js'
import type { Envelope } from '../protocol/envelope.js'
import type { ClientContext } from './context.js'
import { contextOf, leavesOf } from './conversationPolicy.js'
import { NoKeyPackageError, PeerHasNoDevicesError } from './errors.js'
import { commitSettled, foundGroup } from './groupCommit.js'
import { isActiveDevice } from './groupPolicy.js'
import {
  decodeMls,
  deserializeGroupState,
  identityOf,
  isLastResortKeyPackage,
  membersOf,
  supportsConversationContext,
} from './mls.js'
import { assertActive } from './registration.js'
import { requireGroupState } from './storedGroup.js'
import { KeyPackageRejectedError } from './verificationErrors.js'

/**
 * Opens the 1:1 conversation with `peer`: the canonical one if this device holds it, else a new MLS group holding
 * every active device of both accounts (their key packages claimed from the relay, each checked against the
 * registry), whose group context carries the direct conversation context (docs/protocol.md §3). Returns its group id.
 *
 * @example const groupId = await openConversation(ctx, peer)
 */
export async function openConversation(ctx: ClientContext, peer: Address): Promise<Hex> {
  const existing = canonicalConversation(ctx, peer)
  if (existing) return existing
  await ctx.watcher.sync() // resolve the peer's devices from the freshest registry view
  await assertActive(ctx)
  if (ctx.watcher.activeDevicesOf(peer).length === 0) throw new PeerHasNoDevicesError({ account: peer })
  const targets = [
    ...ctx.watcher.activeDevicesOf(peer),
    ...ctx.watcher.activeDevicesOf(ctx.account).filter((d) => d.deviceId !== ctx.deviceId),
  ]
  const keyPackages = await claimKeyPackages(ctx, targets)
  const pair = {
    chainId: ctx.chainId,
    registry: ctx.deployment.keyRegistry,
    a: ctx.account,
    b: peer,
    nonce: bytesToHex(randomBytes(32)),
  }
  return foundGroup(ctx, { context: directContext(pair), peer, keyPackages })
}

/**
 * The canonical direct conversation with `peer` among those this device holds: the one with the numerically lowest
 * group id in which this device is still active. When both sides create one at once, each joins the other's, and
 * both then pick the same one (docs/protocol.md §3.5).
 *
 * @example const id = canonicalConversation(ctx, bob)
 */
export function canonicalConversation(
  ctx: Pick<ClientContext, 'store' | 'config'>,
  peer: Address,
): Hex | undefined {
  const active = ctx.store
    .groupsWithPeer(peer)
    .find((g) => deserializeGroupState(g.state, ctx.config).groupActiveState.kind === 'active')
  return active?.groupId as Hex | undefined
}

/**
 * Brings the group in line with the registry and its context: removes revoked devices (and devices the registry no
 * longer knows, after a reorg), then adds every active
 * device of every member account that is missing (a direct conversation's members are its two accounts). Removals
 * and additions go in two separate commits (see below); proposals pending in the epoch (a member leaving) go with
 * the first commit. Returns the devices added and removed, and those still waiting for a key package (added once
 * they publish one; `NoKeyPackageError` when no missing device has one).
 *
 * @example const { added, removed, waiting } = await syncMembers(ctx, groupId)
 */
export async function syncMembers(
  ctx: ClientContext,
  groupId: Hex,
  /** `synced`: the caller synced the registry view just before (a reconcile pass over every group). */
  { synced = false }: { synced?: boolean | undefined } = {},
): Promise<{ added: Hex[]; removed: Hex[]; waiting: Hex[] }> {
  if (!synced) await ctx.watcher.sync()
  let removed: Hex[] = []
  // Removals and additions go in separate commits: an added leaf may reuse a removed member's slot, and the
  // removed member must still see its own removal (ts-mls 1.6 misdetects it when both share one commit).
  await commitSettled(ctx, groupId, async (state) => {
    // Revoked devices, and devices whose registration a reorg took away (the registry no longer backs them).
    const judge = () => leavesOf(state).filter((l) => l.identity && !isActiveDevice(ctx.watcher, l))
    let gone = judge()
    // A leaf the registry view does not know may be newer than the view (another member added it after this pass
    // synced): sync and judge again, so that only a device the chain no longer has is removed as unknown.
    if (gone.some((l) => l.identity && !ctx.watcher.device(l.identity.deviceId))) {
      await ctx.watcher.sync()
      gone = judge()
    }
    removed = gone.flatMap((l) => (l.identity ? [l.identity.deviceId] : []))
    if (gone.length === 0 && Object.keys(state.unappliedProposals).length === 0) return undefined
    return {
      proposals: gone.map((l): Proposal => ({ proposalType: 'remove', remove: { removed: l.leafIndex } })),
      welcomeTo: [],
    }
  })
  let added: Hex[] = []
  let waiting: Hex[] = []
  await commitSettled(ctx, groupId, async (state) => {
    added = [] // a commit that lost the epoch is planned again: report only what the winning plan did
    const missing = missingDevices(ctx, state)
    if (missing.length === 0) return undefined
    // A device without a key package yet (registered or rotated a moment ago) does not hold up the others.
    const keyPackages: Awaited<ReturnType<typeof claimKeyPackages>> = []
    waiting = []
    for (const device of missing) {
      const claimed = await claimKeyPackages(ctx, [device]).catch((err: unknown) => {
        if (!(err instanceof NoKeyPackageError)) throw err
        waiting.push(device.deviceId)
        return []
      })
      keyPackages.push(...claimed)
    }
    if (keyPackages.length === 0) throw new NoKeyPackageError({ deviceId: waiting[0] as Hex })
    added = keyPackages.map((k) => k.deviceId)
    return { proposals: addProposals(keyPackages), welcomeTo: added }
  })
  return { added, removed, waiting }
}

/**
 * The active devices of the group's member accounts (its context's) that hold no leaf.
 *
 * @example const missing = missingDevices(ctx, state)
 */
export function missingDevices(ctx: Pick<ClientContext, 'watcher'>, state: ClientState): DeviceRecord[] {
  const present = new Set(membersOf(state).map((m) => m.identity.deviceId.toLowerCase()))
  return contextOf(state)
    .members.flatMap((account) => ctx.watcher.activeDevicesOf(account))
    .filter((d) => !present.has(d.deviceId.toLowerCase()))
}

/**
 * The device that commits membership changes of a group: the lowest leaf among members that are still valid, so
 * that members do not race each other.
 *
 * @example committerOf(state, (id) => watcher.device(id)?.revokedAt === undefined)?.deviceId
 */
export function committerOf(
  state: ClientState,
  isValid: (deviceId: Hex) => boolean,
): DeviceIdentity | undefined {
  const valid = membersOf(state).filter((m) => isValid(m.identity.deviceId))
  const low = valid.reduce<(typeof valid)[number] | undefined>(
    (low, m) => (low === undefined || m.leafIndex < low.leafIndex ? m : low),
    undefined,
  )
  return low?.identity
}

/**
 * For every group where this device is the committer, commits pending proposals (members leaving), removes revoked
 * devices and adds new ones. Removal matters for security and happens even when an addition cannot: returns how many
 * groups still wait for a device that had no key package yet (`reconcile` tries them again).
 *
 * @example const { waiting } = await reconcileGroups(ctx)
 */
export async function reconcileGroups(ctx: ClientContext): Promise<{ waiting: number }> {
  let waiting = 0
  await ctx.watcher.sync() // once per pass: a sync per group (4 RPC calls each) dominated adding a device to 100
  const me = ctx.watcher.device(ctx.deviceId)
  if (!me || me.revokedAt !== undefined) return { waiting }
  for (const group of ctx.store.listGroups()) {
    const state = deserializeGroupState(group.state, ctx.config)
    if (state.groupActiveState.kind !== 'active') continue
    // A device that a pending proposal removes (a member leaving) cannot commit its own removal.
    const leaving = pendingRemovals(state)
    const committer = committerOf(state, (id) => isRegistered(ctx, id) && !leaving.has(id.toLowerCase()))
    if (committer?.deviceId.toLowerCase() !== ctx.deviceId.toLowerCase()) continue
    const result = await ctx
      .exclusive(() => syncMembers(ctx, group.groupId as Hex, { synced: true }))
      .catch((err) => {
        if (!(err instanceof NoKeyPackageError)) throw err
        return { waiting: [err] }
      })
    if (result.waiting.length > 0) waiting++
  }
  return { waiting }
}

/** Whether the registry view knows `deviceId` and has not revoked it (a reorg may have taken its registration away). */
function isRegistered(ctx: Pick<ClientContext, 'watcher'>, deviceId: Hex): boolean {
  const device = ctx.watcher.device(deviceId)
  return device !== undefined && device.revokedAt === undefined
}

/**
 * The devices that proposals pending in the group's epoch remove (lower-case device ids).
 *
 * @example pendingRemovals(state).has(deviceId.toLowerCase())
 */
export function pendingRemovals(state: ClientState): Set<string> {
  const leaves = new Set(
    Object.values(state.unappliedProposals).flatMap((p) =>
      p.proposal.proposalType === 'remove' ? [p.proposal.remove.removed] : [],
    ),
  )
  return new Set(
    membersOf(state)
      .filter((m) => leaves.has(m.leafIndex))
      .map((m) => m.identity.deviceId.toLowerCase()),
  )
}

/**
 * Current epoch, members and whether this device is still in the group.
 *
 * @example const { epoch, members } = groupInfo(ctx, groupId)
 */
export function groupInfo(
  ctx: Pick<ClientContext, 'store' | 'config'>,
  groupId: Hex,
): { epoch: bigint; members: DeviceIdentity[]; active: boolean } {
  const state = requireGroupState(ctx, groupId)
  return {
    epoch: state.groupContext.epoch,
    members: membersOf(state).map((m) => m.identity),
    active: state.groupActiveState.kind === 'active',
  }
}

/**
 * Takes one key package per device from the relay and checks it names that device, account, chain, registered MLS
 * key and ciphersuite. Key packages that do not advertise the conversation context extension (published by an
 * older client) are skipped: the next one is taken.
 *
 * @example const claimed = await claimKeyPackages(ctx, watcher.activeDevicesOf(peer))
 */
export async function claimKeyPackages(
  ctx: Pick<ClientContext, 'transport' | 'chainId' | 'ciphersuite'>,
  devices: DeviceRecord[],
): Promise<{ deviceId: Hex; keyPackage: KeyPackage }[]> {
  const claimed: { deviceId: Hex; keyPackage: KeyPackage }[] = []
  for (const device of devices) {
    for (;;) {
      const envelope = await ctx.transport.takeKeyPackage({ deviceId: device.deviceId })
      if (!envelope) throw new NoKeyPackageError({ deviceId: device.deviceId })
      const keyPackage = checkKeyPackage(ctx, device, envelope)
      // Published before the conversation context existed: ts-mls could not add it. Take the next one (a last-resort
      // key package would be handed out again: the device has none usable).
      if (!supportsConversationContext(keyPackage)) {
        if (isLastResortKeyPackage(keyPackage)) throw new NoKeyPackageError({ deviceId: device.deviceId })
        continue
      }
      claimed.push({ deviceId: device.deviceId, keyPackage })
      break
    }
  }
  return claimed
}

function checkKeyPackage(
  ctx: Pick<ClientContext, 'chainId' | 'ciphersuite'>,
  device: DeviceRecord,
  envelope: Envelope,
): KeyPackage {
  const message = decodeMls(envelope.payload, envelope.id)
  const reject = (reason: string) => new KeyPackageRejectedError({ deviceId: device.deviceId, reason })
  if (message.wireformat !== 'mls_key_package') throw reject('not a key package')
  const keyPackage = message.keyPackage
  const identity = identityOf(keyPackage.leafNode.credential)
  if (
    !identity ||
    identity.deviceId.toLowerCase() !== device.deviceId.toLowerCase() ||
    identity.chainId !== ctx.chainId
  )
    throw reject('credential names another device')
  if (!isAddressEqual(identity.account, device.account)) throw reject('credential names another account')
  if (bytesToHex(keyPackage.leafNode.signaturePublicKey).toLowerCase() !== device.mlsKey.toLowerCase())
    throw reject('MLS key differs from the registered key')
  if (keyPackage.cipherSuite !== ctx.ciphersuite) throw reject(`ciphersuite ${keyPackage.cipherSuite}`)
  return keyPackage
}

function addProposals(keyPackages: { keyPackage: KeyPackage }[]): Proposal[] {
  return keyPackages.map((kp): Proposal => ({ proposalType: 'add', add: { keyPackage: kp.keyPackage } }))
}
