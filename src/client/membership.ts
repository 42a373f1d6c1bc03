/** Group membership follows the registry: creating a conversation, adding and removing devices, claiming key packages. */
import { randomBytes } from 'node:crypto'
import {
  type ClientState,
  createCommit,
  createGroup,
  type KeyPackage,
  type Proposal,
  type Welcome,
  zeroOutUint8Array,
} from 'ts-mls'
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes, isAddressEqual } from 'viem'
import type { DeviceRecord } from '../chain/registryWatcher.js'
import { directContext, directGroupId } from '../protocol/conversationContext.js'
import type { DeviceIdentity } from '../protocol/credential.js'
import { createEnvelope, type Envelope } from '../protocol/envelope.js'
import { inboxTopic } from '../protocol/topics.js'
import type { StoredGroup } from '../store/deviceStore.js'
import type { ClientContext } from './context.js'
import { checkCommit, checkWelcome, leavesOf, type PolicyInput } from './conversationPolicy.js'
import { NoKeyPackageError, PeerHasNoDevicesError, UnknownConversationError } from './errors.js'
import {
  conversationExtensions,
  createKeyPackage,
  decodeMls,
  deserializeGroupState,
  encodeMls,
  identityOf,
  membersOf,
  serializeGroupState,
  supportsConversationContext,
} from './mls.js'
import { assertActive } from './registration.js'
import { KeyPackageRejectedError, MlsRejectedError } from './verificationErrors.js'

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
  const groupId = directGroupId(pair)
  const own = await createKeyPackage({ identity: ctx.identity, mls: ctx.device.mls, impl: ctx.impl })
  const state = await createGroup(
    hexToBytes(groupId),
    own.publicPackage,
    own.privatePackage,
    conversationExtensions(directContext(pair)),
    ctx.impl,
    ctx.config,
  )
  const commit = await createCommit(
    { state, cipherSuite: ctx.impl },
    { extraProposals: addProposals(keyPackages), ratchetTreeExtension: true },
  )
  commit.consumed.forEach(zeroOutUint8Array)
  checkWelcome({ ...policyInput(ctx), state: commit.newState }) // what every invitee will check
  ctx.store.putGroup({
    groupId,
    peer,
    ciphersuite: ctx.ciphersuite,
    state: serializeGroupState(commit.newState),
  })
  if (commit.welcome)
    await sendWelcome(
      ctx,
      commit.welcome,
      keyPackages.map((k) => k.deviceId),
    )
  return groupId
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
 * The policy inputs of this device: its account, its deployment and its registry view.
 *
 * @example checkWelcome({ ...policyInput(ctx), state })
 */
export function policyInput(ctx: Pick<ClientContext, 'account' | 'deployment' | 'watcher'>): PolicyInput {
  return { self: ctx.account, deployment: ctx.deployment, registry: ctx.watcher }
}

/**
 * Brings the group in line with the registry: removes revoked devices, adds new active devices of both accounts.
 * Removals and additions go in two separate commits (see below). Returns the devices added and removed.
 *
 * @example const { added, removed } = await syncMembers(ctx, groupId)
 */
export async function syncMembers(
  ctx: ClientContext,
  groupId: Hex,
): Promise<{ added: Hex[]; removed: Hex[] }> {
  await ctx.watcher.sync()
  const group = requireGroup(ctx, groupId)
  let state = deserializeGroupState(group.state, ctx.config)
  const members = membersOf(state)
  const removed = members.filter((m) => ctx.watcher.device(m.identity.deviceId)?.revokedAt !== undefined)
  const present = new Set(members.map((m) => m.identity.deviceId.toLowerCase()))
  const wanted = [
    ...ctx.watcher.activeDevicesOf(getAddress(group.peer)),
    ...ctx.watcher.activeDevicesOf(ctx.account),
  ]
  const missing = wanted.filter((d) => !present.has(d.deviceId.toLowerCase()))
  if (removed.length === 0 && missing.length === 0) return { added: [], removed: [] }
  // Removals and additions go in separate commits: an added leaf may reuse a removed member's slot, and the
  // removed member must still see its own removal (ts-mls 1.6 misdetects it when both share one commit).
  if (removed.length > 0)
    state = await commit(
      ctx,
      group,
      state,
      removed.map((m): Proposal => ({ proposalType: 'remove', remove: { removed: m.leafIndex } })),
    )
  const keyPackages = await claimKeyPackages(ctx, missing)
  if (keyPackages.length > 0)
    await commit(
      ctx,
      group,
      state,
      addProposals(keyPackages),
      keyPackages.map((k) => k.deviceId),
    )
  return { added: keyPackages.map((k) => k.deviceId), removed: removed.map((m) => m.identity.deviceId) }
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
 * For every group where this device is the committer, removes revoked devices and adds new ones. Removal matters
 * for security and happens even when an addition cannot (a new device without key packages is retried on the next
 * change).
 *
 * @example await reconcileGroups(ctx)
 */
export async function reconcileGroups(ctx: ClientContext): Promise<void> {
  const me = ctx.watcher.device(ctx.deviceId)
  if (!me || me.revokedAt !== undefined) return
  for (const group of ctx.store.listGroups()) {
    const state = deserializeGroupState(group.state, ctx.config)
    if (state.groupActiveState.kind !== 'active') continue
    const committer = committerOf(state, (id) => ctx.watcher.device(id)?.revokedAt === undefined)
    if (committer?.deviceId.toLowerCase() !== ctx.deviceId.toLowerCase()) continue
    await ctx
      .exclusive(() => syncMembers(ctx, group.groupId as Hex))
      .catch((err) => {
        if (!(err instanceof NoKeyPackageError)) throw err
      })
  }
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
  const state = deserializeGroupState(requireGroup(ctx, groupId).state, ctx.config)
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
      // Published before the conversation context existed: ts-mls could not add it. Take the next one.
      if (!supportsConversationContext(keyPackage)) continue
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

async function commit(
  ctx: ClientContext,
  group: StoredGroup,
  current: ClientState,
  proposals: Proposal[],
  welcomeTo: Hex[] = [],
): Promise<ClientState> {
  const result = await createCommit(
    { state: current, cipherSuite: ctx.impl },
    { extraProposals: proposals, ratchetTreeExtension: true },
  )
  result.consumed.forEach(zeroOutUint8Array)
  // The same policy every member applies to this commit (an own commit that breaks it would fork the group).
  const self = leavesOf(current).find(
    (l) => l.identity?.deviceId.toLowerCase() === ctx.deviceId.toLowerCase(),
  )
  checkCommit({
    ...policyInput(ctx),
    before: current,
    after: result.newState,
    committer: self?.identity && { leafIndex: self.leafIndex, identity: self.identity },
  })
  if (result.commit.wireformat !== 'mls_private_message' && result.commit.wireformat !== 'mls_public_message')
    throw new MlsRejectedError({ reason: 'unexpected commit wire format' })
  const envelope = createEnvelope({
    kind: 'commit',
    topic: group.groupId as Hex,
    payload: encodeMls(result.commit),
  })
  ctx.store.transaction(() => {
    ctx.store.putGroup({ ...group, state: serializeGroupState(result.newState) })
    ctx.store.markProcessed(envelope.id, 'sent')
  })
  await ctx.transport.publish(envelope)
  if (result.welcome) await sendWelcome(ctx, result.welcome, welcomeTo)
  return result.newState
}

async function sendWelcome(
  ctx: Pick<ClientContext, 'transport'>,
  welcome: Welcome,
  deviceIds: Hex[],
): Promise<void> {
  const payload = encodeMls({ version: 'mls10', wireformat: 'mls_welcome', welcome })
  for (const deviceId of deviceIds)
    await ctx.transport.publish(createEnvelope({ kind: 'welcome', topic: inboxTopic(deviceId), payload }))
}

function requireGroup(ctx: Pick<ClientContext, 'store'>, groupId: Hex): StoredGroup {
  const group = ctx.store.getGroup(groupId)
  if (!group) throw new UnknownConversationError({ topic: groupId })
  return group
}
