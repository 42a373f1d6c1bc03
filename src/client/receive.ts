/** Receiving: one envelope from the wire to its verdict, persisted with its effects in one transaction. */
import { zeroOutUint8Array } from 'ts-mls'
import { type Address, bytesToHex, type Hex } from 'viem'
import { BaseError, VerificationError } from '../errors.js'
import { decodeDeliveryReceiptBody } from '../protocol/deliveryReceipt.js'
import type { Envelope } from '../protocol/envelope.js'
import { inboxTopic } from '../protocol/topics.js'
import { knownMessages, putDeliveries } from '../store/deliveryReceipts.js'
import { fetchBlob } from './byReference.js'
import type { ClientContext } from './context.js'
import { GROUP_PEER, policyInput } from './conversationPolicy.js'
import { UnexpectedEnvelopeKindError } from './errors.js'
import { heldInvitation, holdInvitation } from './invitations.js'
import { deserializeGroupState, serializeGroupState } from './mls.js'
import { asRejection } from './reasons.js'
import { receiveReceipt } from './receipts.js'
import { receiveGroupMessage } from './receiveGroupMessage.js'
import { receiveHistoryChunk } from './receiveHistory.js'
import { receiveWelcome } from './receiveWelcome.js'
import { requireGroup } from './storedGroup.js'
import { topicPreimage } from './topicPreimage.js'
import type { Delivery } from './transport.js'
import type { ReceiveResult, RejectedMessageError, SyncResult } from './types.js'
import { ConversationPolicyError, DeliveryReceiptUnknownError, ReplayError } from './verificationErrors.js'
import { fetchWelcomeTree } from './welcomeTree.js'

/**
 * Processes one envelope (call it under the client's lock): a replay is refused, a Welcome joins a group, a group
 * message is decrypted and verified, a receipt is verified and applied. A rejected envelope leaves all state as it
 * was except its verdict (so a replay of the same bytes is recognised) and a `rejected` log entry.
 *
 * @example const result = await processEnvelope(ctx, envelope)
 */
export async function processEnvelope(
  ctx: ClientContext,
  envelope: Envelope,
  { live = false }: { live?: boolean | undefined } = {},
): Promise<ReceiveResult> {
  const { store } = ctx
  const earlier = store.processed(envelope.id)
  if (earlier) throw new ReplayError({ messageId: envelope.id, verdict: earlier })
  try {
    // Nothing but Welcomes and history chunks (protocol §12.8) arrives on a device's own inbox.
    if (
      envelope.kind === 'application' &&
      envelope.topic.toLowerCase() === inboxTopic(ctx.deviceId).toLowerCase()
    )
      return await receiveHistoryChunk(ctx, envelope)
    switch (envelope.kind) {
      case 'welcome':
        return await applyWelcome(ctx, envelope)
      case 'application':
      case 'commit':
        return await applyGroupMessage(ctx, envelope, live)
      case 'receipt':
        return await receiveReceipt({ envelope, checker: ctx.receipts, ...ctx })
      default:
        throw new UnexpectedEnvelopeKindError({ kind: envelope.kind })
    }
  } catch (err) {
    if (err instanceof VerificationError && store.db.open)
      store.transaction(() => {
        store.markProcessed(envelope.id, `rejected:${err.code}`)
        ctx.audit.append('rejected', {
          envelopeId: envelope.id,
          code: err.code,
          step: (err as RejectedMessageError).report?.failedStep ?? envelope.kind,
        })
      })
    throw err
  }
}

/**
 * Joins the group of a Welcome envelope (verified as `receiveWelcome` does), or, for a group invitation the account's
 * `groups.accept` policy does not take at once (unless `consented`), holds it (security E4).
 *
 * @example const result = await applyWelcome(ctx, envelope, { consented: true })
 */
export async function applyWelcome(
  ctx: ClientContext,
  envelope: Envelope,
  { consented = false }: { consented?: boolean | undefined } = {},
): Promise<ReceiveResult> {
  await ctx.watcher.sync() // the authentication service checks the inviter's devices against the registry
  const joined = await receiveWelcome({
    envelope,
    keyPackages: ctx.store.listKeyPackages(),
    impl: ctx.impl,
    config: ctx.config,
    policy: policyInput(ctx),
    // A large group's tree travels by reference, on a topic derived from this Welcome (protocol §3.7).
    fetchTree: (groupInfo) => fetchWelcomeTree(ctx.transport, groupInfo),
    // So does its GroupInfo, and a large commit (§3.9): on a topic derived from their digest.
    fetchBlob: (reference) => fetchBlob(ctx.transport, reference),
  })
  const invitation = consented ? undefined : await heldInvitation(ctx, envelope, joined)
  if (invitation) {
    holdInvitation(ctx, envelope, invitation, joined.keyPackageRef)
    return { type: 'invitation', invitation }
  }
  const peer = joined.context.kind === 'direct' ? joined.peer : undefined
  ctx.store.transaction(() => {
    ctx.store.putGroup({
      groupId: joined.groupId,
      peer: peer ?? GROUP_PEER,
      ciphersuite: ctx.ciphersuite,
      state: serializeGroupState(joined.state),
    })
    ctx.store.deleteKeyPackage(joined.keyPackageRef)
    ctx.store.markProcessed(envelope.id, 'joined')
  })
  return { type: 'joined', conversation: joined.groupId, peer }
}

async function applyGroupMessage(
  ctx: ClientContext,
  envelope: Envelope,
  live: boolean,
): Promise<ReceiveResult> {
  const { store } = ctx
  const group = requireGroup(ctx, envelope.topic)
  const receive = () =>
    receiveGroupMessage({
      envelope,
      state: deserializeGroupState(group.state, ctx.config),
      impl: ctx.impl,
      ciphersuite: ctx.ciphersuite,
      chain: ctx.chain,
      clock: ctx.clock,
      lastSeq: (from: Address, device: Hex) => store.lastSeqIn(group.groupId, from, device),
      policy: policyInput(ctx),
      live,
      fetchBlob: (reference) => fetchBlob(ctx.transport, reference),
    })
  // The policy reads this device's registry view, which may lag the committer's (a device revoked a moment ago and
  // removed at once): a refusal is final only once judged again against a view synced now. Receiving is pure.
  const result = await receive().catch(async (err) => {
    if (!(err instanceof ConversationPolicyError)) throw err
    await ctx.watcher.sync()
    return receive()
  })
  const next = { ...group, state: serializeGroupState(result.state) }
  if (result.kind === 'proposal') {
    store.transaction(() => {
      store.putGroup(next)
      store.markProcessed(envelope.id, 'proposal')
    })
    result.consumed.forEach(zeroOutUint8Array)
    return { type: 'proposal', conversation: group.groupId as Hex, epoch: result.state.groupContext.epoch }
  }
  if (result.kind === 'commit') {
    store.transaction(() => {
      store.putGroup(next)
      store.markProcessed(envelope.id, 'commit')
    })
    result.consumed.forEach(zeroOutUint8Array)
    return {
      type: 'commit',
      conversation: group.groupId as Hex,
      epoch: result.epoch,
      removed: result.removed,
    }
  }
  const { message } = result
  const isReceipt = result.contentType === 'deliveryReceipt'
  // A delivery receipt confirms messages of this conversation this device holds; one that names none is refused.
  const listed = isReceipt ? decodeDeliveryReceiptBody(message.text) : []
  const confirmed = isReceipt ? knownMessages(store.db, group.groupId, listed) : undefined
  if (confirmed?.size === 0)
    throw new DeliveryReceiptUnknownError({
      messageId: envelope.id,
      conversation: group.groupId,
      leaves: listed.length,
    })
  const deliveries = [...(confirmed ?? [])].map(([leaf, id]) => ({
    conversation: group.groupId as Hex,
    message: id as Hex,
    leaf: leaf as Hex,
    account: message.from,
    device: message.device,
    receipt: envelope.id,
  }))
  // A device's sequence numbers in a conversation count up by one: a jump is messages never delivered here.
  const last = store.lastSeqIn(group.groupId, message.from, message.device)
  store.transaction(() => {
    store.putGroup(next)
    store.setSeqIn(group.groupId, message.from, message.device, message.seq)
    store.markProcessed(envelope.id, 'accepted')
    store.putMessage({
      id: envelope.id,
      conversation: group.groupId,
      direction: 'in',
      from: message.from,
      device: message.device,
      seq: message.seq,
      sentAt: message.sentAt,
      body: message.text,
      report: JSON.stringify(message.report, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
      receivedAt: Date.now(),
      leaf: message.leaf,
      state: 'received',
      contentType: result.contentType,
    })
    if (deliveries.length > 0)
      putDeliveries(
        store.db,
        deliveries.map((d) => ({
          messageLeaf: d.leaf,
          conversation: d.conversation,
          account: d.account,
          device: d.device,
          receiptId: d.receipt,
          receivedAt: Date.now(),
        })),
      )
    ctx.audit.append('received', {
      envelopeId: envelope.id,
      conversation: group.groupId as Hex,
      statement: bytesToHex(result.statementBytes),
      signature: message.signature,
      leaf: message.leaf,
      ...(message.recipients ? { recipients: message.recipients } : {}),
      body: message.text,
      ...(isReceipt && { contentType: result.contentType }),
    })
  })
  result.consumed.forEach(zeroOutUint8Array)
  if (last > 0n && message.seq > last + 1n)
    ctx.events.emit('seqGap', {
      conversation: group.groupId as Hex,
      from: message.from,
      device: message.device,
      after: last,
      seq: message.seq,
      missing: message.seq - last - 1n,
    })
  if (isReceipt)
    return { type: 'delivery', conversation: group.groupId as Hex, receipt: envelope.id, deliveries }
  ctx.deliveryReceipts.add(group.groupId as Hex, message.leaf)
  return { type: 'message', message }
}

/**
 * Pulls everything new on the device's inbox and then on each conversation topic, from the stored cursors, and
 * consumes it in order (see `consumeDelivery`); bad envelopes are rejected without stopping the others.
 *
 * @example const { received, rejected } = await syncAll(ctx, (conversation) => live.follow(conversation))
 */
export async function syncAll(
  ctx: ClientContext,
  onJoined: (conversation: Hex) => void,
): Promise<SyncResult> {
  const result: SyncResult = { received: [], joined: [], commits: 0, rejected: [] }
  const pullTopic = async (topic: Hex) => {
    for (;;) {
      const after = ctx.store.getCursor(topic)
      const preimage = (t: Hex) => topicPreimage(ctx, t)
      const deliveries = await ctx.transport.pull({ topic, after, limit: 256, preimage })
      if (deliveries.length === 0) return
      for (const delivery of deliveries) await consumeDelivery(ctx, delivery, result, onJoined)
    }
  }
  await pullTopic(inboxTopic(ctx.deviceId))
  for (const group of ctx.store.listGroups()) await pullTopic(group.groupId as Hex)
  return result
}

/**
 * Pulls and consumes what waits on this device's inbox only (Welcomes first: opening a conversation looks at the
 * conversations they create).
 *
 * @example await syncInbox(ctx, (conversation) => live.follow(conversation))
 */
export async function syncInbox(
  ctx: ClientContext,
  onJoined: (conversation: Hex) => void,
): Promise<SyncResult> {
  const result: SyncResult = { received: [], joined: [], commits: 0, rejected: [] }
  const topic = inboxTopic(ctx.deviceId)
  for (;;) {
    const deliveries = await ctx.transport.pull({ topic, after: ctx.store.getCursor(topic), limit: 256 })
    if (deliveries.length === 0) return result
    for (const delivery of deliveries) await consumeDelivery(ctx, delivery, result, onJoined)
  }
}

/**
 * Processes one delivery of a pull or a subscription under the client's lock (`locked`: the caller holds it),
 * reports the outcome (events and `result`), then stores the topic cursor and acks it. A rejected envelope is acked
 * too: it is refused for good.
 *
 * @example await consumeDelivery(ctx, delivery, result, (conversation) => live.follow(conversation))
 */
export async function consumeDelivery(
  ctx: ClientContext,
  delivery: Delivery,
  result: SyncResult,
  onJoined: (conversation: Hex) => void,
  { locked = false }: { locked?: boolean | undefined } = {},
): Promise<void> {
  const { envelope, topic, cursor } = delivery
  const process = () => processPatiently(ctx, envelope, delivery.live === true)
  try {
    const outcome = await (locked ? process() : ctx.exclusive(process))
    if (outcome.type === 'message') {
      result.received.push(outcome.message)
      ctx.events.emit('message', outcome.message)
    } else if (outcome.type === 'delivery') {
      for (const delivery of outcome.deliveries) ctx.events.emit('delivered', delivery)
    } else if (outcome.type === 'joined') {
      result.joined.push(outcome.conversation)
      onJoined(outcome.conversation)
      ctx.events.emit('joined', { conversation: outcome.conversation, peer: outcome.peer })
    } else if (outcome.type === 'invitation') {
      ctx.events.emit('invitation', outcome.invitation)
    } else if (outcome.type === 'history') {
      ctx.events.emit('historyImported', outcome.imported)
    } else if (outcome.type === 'commit' || outcome.type === 'proposal') {
      if (outcome.type === 'commit') result.commits++
      ctx.events.emit('membership', {
        conversation: outcome.conversation,
        epoch: outcome.epoch,
        change: outcome.type,
        removed: outcome.type === 'commit' && outcome.removed,
      })
    }
  } catch (err) {
    if (!(err instanceof ReplayError)) {
      const rejection = {
        envelopeId: envelope.id,
        topic,
        error: asRejection(err),
        report: (err as RejectedMessageError).report,
      }
      result.rejected.push(rejection)
      ctx.events.emit('rejected', rejection)
    }
  }
  if (!ctx.store.db.open) return
  ctx.store.setCursor(topic, cursor)
  await ctx.transport.ack({ topic, cursor })
}

/**
 * Processes an envelope, retrying (with backoff, while holding the processing lock so order is kept) as long as the
 * failure is transient: the chain could not be reached to verify it. Acking it instead would lose it.
 */
async function processPatiently(
  ctx: ClientContext,
  envelope: Envelope,
  live: boolean,
): Promise<ReceiveResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await processEnvelope(ctx, envelope, { live })
    } catch (err) {
      const transient =
        err instanceof BaseError &&
        (err.code === 'SEALPOST_RPC_UNREACHABLE' || err.code === 'SEALPOST_CHAIN_REQUEST_FAILED')
      if (!transient || !ctx.store.db.open || ctx.closing()) throw err
      await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** Math.min(attempt, 6))))
    }
  }
}
