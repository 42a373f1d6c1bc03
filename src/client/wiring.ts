/** How a client's rooms are wired: the context they share, and the conversation host onto send and membership. */
import type { EventEmitter } from 'node:events'
import { getAddress, type Hex, isAddressEqual } from 'viem'
import { decodeDeliveryReceiptBody } from '../protocol/deliveryReceipt.js'
import { inboxTopic } from '../protocol/topics.js'
import { knownMessages, putDeliveries } from '../store/deliveryReceipts.js'
import { AuditTrail, openAuditLog } from './auditTrail.js'
import { watcherChainView } from './chainView.js'
import type { ClientContext } from './context.js'
import type { ConversationHost } from './conversation.js'
import { DeliveryReceipts } from './deliveryReceipts.js'
import { SelfConversationError } from './errors.js'
import type { GroupHost } from './group.js'
import { InvitationNotFoundError } from './groupErrors.js'
import { changeGroup, createGroupConversation, groupContextOf, groupMembers, leaveGroup } from './groups.js'
import { findInvitation, forgetInvitation, listInvitations } from './invitations.js'
import { LeafSubmitter } from './leafSubmitter.js'
import { groupInfo, openConversation, syncMembers } from './membership.js'
import { MessageView } from './messageView.js'
import { mlsClientConfig, registryAuthService } from './mls.js'
import type { ClientParts } from './openClient.js'
import { Outbox } from './outbox.js'
import { ReceiptChecker } from './receipts.js'
import { applyWelcome, syncInbox } from './receive.js'
import { sendMessage } from './send.js'
import { requireGroupState } from './storedGroup.js'
import { streamMessages } from './streamMessages.js'
import type { ClientEvents } from './types.js'

/**
 * What only the façade holds: its event emitter, its processing lock and its closing flag.
 *
 * @example const hooks: FacadeHooks = { events, exclusive: (fn) => lock(fn), closing: () => closing }
 */
export type FacadeHooks = {
  events: EventEmitter<ClientEvents>
  exclusive: ClientContext['exclusive']
  closing: () => boolean
}

/**
 * Builds the context every room takes: the chain view over the watcher, the MLS configuration whose
 * authentication service asks the registry, the audit trail, the leaf submitter (the one place leaves are
 * submitted, log heads included), the outbox and the receipt checker.
 *
 * @example const ctx = wireClientContext(await openClient(parameters), { events, exclusive, closing })
 */
export function wireClientContext(parts: ClientParts, hooks: FacadeHooks): ClientContext {
  const { device, store, transport, watcher, publicClient, chainId, deployment } = parts
  const chain = watcherChainView({ watcher, publicClient, chainId, pollingInterval: parts.pollingInterval })
  const leaves = new LeafSubmitter({
    transport,
    store,
    inbox: inboxTopic(device.deviceId),
    logAnchors: () => store.pendingLogAnchors() as { hash: Hex }[],
  })
  // A receipt is a message, sent through the very context it belongs to.
  const deliveryReceipts = new DeliveryReceipts(
    async (conversation, text) => {
      const sent = await sendMessage(ctx, conversation, text, {}, { contentType: 'deliveryReceipt' })
      recordOwnDeliveries(ctx, conversation, text, sent.id)
    },
    { onError: () => undefined }, // best effort: a device that left the group owes nothing
  )
  const ctx: ClientContext = {
    chainId,
    account: device.account,
    deviceId: device.deviceId,
    identity: { chainId, account: device.account, deviceId: device.deviceId },
    ciphersuite: device.mls.ciphersuite,
    device,
    wallet: parts.wallet,
    submitter: parts.submitter,
    rpc: parts.rpc,
    deployment,
    publicClient,
    watcher,
    chain,
    transport,
    store,
    impl: parts.impl,
    config: mlsClientConfig(
      registryAuthService({
        chainId,
        lookup: async (id) => {
          if (!watcher.device(id)) await watcher.sync()
          return watcher.device(id)
        },
      }),
    ),
    clock: parts.clock,
    events: hooks.events,
    audit: new AuditTrail({
      log: openAuditLog(store),
      store,
      every: parts.logAnchorEvery,
      submitHead: leaves.enabled ? (leaf) => leaves.submitLogHead(leaf) : undefined,
      signer: {
        chainId,
        registry: deployment.keyRegistry,
        account: device.account,
        deviceId: device.deviceId,
        key: device.signingKey,
        recentBlock: () => chain.recentBlock(),
      },
    }),
    outbox: new Outbox({ store, events: hooks.events, leaves, transport }),
    leaves,
    receipts: new ReceiptChecker({ publicClient, chainId, messageAnchor: deployment.messageAnchor }),
    leaving: new Set(),
    inlineTreeBytes: parts.inlineTreeBytes,
    inlineCommitBytes: parts.inlineCommitBytes,
    inlineGroupInfoBytes: parts.inlineGroupInfoBytes,
    groupAccept: parts.groupAccept,
    deliveryReceipts,
    exclusive: hooks.exclusive,
    closing: hooks.closing,
  }
  logRefusedVerdicts(ctx)
  return ctx
}

/**
 * Logs every received message whose verdict settles as refused (anchor window, revocation before the anchor, no
 * receipt in time: on a receipt or on the finality timer) as a `rejected` entry with its code and step
 * `time-bounds`, once the step that settled it is over, so the log shows what was refused and why.
 */
function logRefusedVerdicts(ctx: ClientContext): void {
  ctx.events.on('verdict', (v) => {
    if (v.verdict !== 'refused') return
    queueMicrotask(() => {
      if (ctx.store.db.open)
        ctx.audit.append('rejected', {
          envelopeId: v.id,
          code: v.error?.code ?? v.reason,
          step: 'time-bounds',
        })
    })
  })
}

/**
 * The conversation host of a client: opening (after the inbox is processed, under the lock, then followed live), sending, member sync (under
 * the lock) and the store's reads.
 *
 * @example const conversations = new Conversations(conversationHost(ctx, (id) => live.follow(id)))
 */
export function conversationHost(ctx: ClientContext, follow: (conversation: Hex) => void): ConversationHost {
  const { store } = ctx
  return {
    open: async (peer) => {
      if (isAddressEqual(peer, ctx.account)) throw new SelfConversationError({ account: peer })
      await syncInbox(ctx, follow) // a Welcome already waiting may hold the canonical conversation
      return ctx.exclusive(async () => {
        const id = await openConversation(ctx, peer)
        follow(id)
        return id
      })
    },
    send: (groupId, text, options) => sendMessage(ctx, groupId, text, options),
    syncMembers: (groupId) => ctx.exclusive(() => syncMembers(ctx, groupId)),
    info: (groupId) => groupInfo(ctx, groupId),
    groups: () => store.listGroups(),
    group: (groupId) => store.getGroup(groupId),
    messages: (groupId) => store.listMessages({ conversation: groupId }),
  }
}

/**
 * The group host of a client: creating (under the lock, then followed live), admin changes and leaving (under the
 * lock), sending, and the store's reads.
 *
 * @example const groups = new Groups(groupHost(ctx, (id) => live.follow(id)))
 */
export function groupHost(ctx: ClientContext, follow: (conversation: Hex) => void): GroupHost {
  const { store } = ctx
  const stateOf = (groupId: Hex) => requireGroupState(ctx, groupId)
  return {
    create: (p) =>
      ctx.exclusive(async () => {
        const id = await createGroupConversation(ctx, p)
        follow(id)
        return id
      }),
    change: (groupId, change) => ctx.exclusive(() => changeGroup(ctx, groupId, change)),
    leave: (groupId) => ctx.exclusive(() => leaveGroup(ctx, groupId)),
    members: (groupId) => groupMembers(ctx, groupId),
    info: (groupId) => {
      const state = stateOf(groupId)
      const context = groupContextOf(state, groupId)
      return {
        id: groupId,
        name: context.name ?? '',
        epoch: state.groupContext.epoch,
        members: context.members,
        admins: context.admins,
        active: state.groupActiveState.kind === 'active',
      }
    },
    send: (groupId, text, options) => sendMessage(ctx, groupId, text, options),
    groups: () => store.listGroups(),
    messages: (groupId) => store.listMessages({ conversation: groupId }),
    stream: (groupId) =>
      streamMessages(ctx.events, (m) => m.conversation.toLowerCase() === groupId.toLowerCase()),
    delivery: (groupId, messageId) => {
      const message = store.getMessage(messageId)
      const sender = message ? getAddress(message.from) : ctx.account
      const members = groupContextOf(stateOf(groupId), groupId).members.filter(
        (m) => !isAddressEqual(m, sender),
      )
      const devices = new MessageView(store)
        .deliveries(messageId)
        .filter((d) => !isAddressEqual(d.account, sender))
      const delivered = members.filter((m) => devices.some((d) => isAddressEqual(d.account, m)))
      return { delivered, members, devices }
    },
    invitations: () => listInvitations(ctx),
    accept: (id) =>
      ctx.exclusive(async () => {
        const result = await applyWelcome(ctx, findInvitation(ctx, id).envelope, { consented: true })
        forgetInvitation(ctx, id)
        if (result.type !== 'joined') throw new InvitationNotFoundError({ id })
        follow(result.conversation)
        ctx.events.emit('joined', { conversation: result.conversation, peer: result.peer })
        return result.conversation
      }),
    decline: (id) => ctx.exclusive(async () => forgetInvitation(ctx, id, { discardKeyPackage: true })),
  }
}

/** This device's own deliveries, once its signed receipt is sent: its view of who received what is complete. */
function recordOwnDeliveries(ctx: ClientContext, conversation: Hex, text: string, receipt: Hex): void {
  if (!ctx.store.db.open) return
  const known = knownMessages(ctx.store.db, conversation, decodeDeliveryReceiptBody(text))
  putDeliveries(
    ctx.store.db,
    [...known.keys()].map((leaf) => ({
      messageLeaf: leaf,
      conversation,
      account: ctx.account,
      device: ctx.deviceId,
      receiptId: receipt,
      receivedAt: Date.now(),
    })),
  )
}
