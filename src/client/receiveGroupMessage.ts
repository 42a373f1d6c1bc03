/** Receiving in a conversation: decrypting a group message, applying a commit, verifying a message's statement. */
import { type CiphersuiteImpl, type ClientState, makePskIndex, processPrivateMessage } from 'ts-mls'
import { type Address, bytesToHex, type Hex } from 'viem'
import { decodeReference, type Reference } from '../protocol/byReference.js'
import { type ContentType, contentTypes, decodeApplicationContent } from '../protocol/content.js'
import type { Envelope } from '../protocol/envelope.js'
import { recipientProof } from '../protocol/recipients.js'
import { statementLeaf } from '../protocol/statement.js'
import { checkCommit, leavesOf, type PolicyInput, policyFilter } from './conversationPolicy.js'
import { epochRecipients } from './epochRecipients.js'
import { decodeMls, senderOf } from './mls.js'
import { reasonOf } from './reasons.js'
import type { ReceivedMessage } from './types.js'
import { MlsRejectedError, SenderRemovedError } from './verificationErrors.js'
import { type ChainView, type ClockPolicy, decodeUtf8, verifyStatement } from './verifyStatement.js'

/**
 * Inputs of {@link receiveGroupMessage}.
 *
 * @example const p: ReceiveGroupMessageParameters = { envelope, state, impl, ciphersuite, chain, lastSeq: () => 0n, policy }
 */
export type ReceiveGroupMessageParameters = {
  envelope: Envelope
  /** The conversation's current state (not modified; the next one is returned). */
  state: ClientState
  impl: CiphersuiteImpl
  ciphersuite: string
  chain: ChainView
  /** Highest sequence number accepted so far from this account's device in this conversation. */
  lastSeq: (from: Address, device: Hex) => bigint
  clock?: Partial<ClockPolicy> | undefined
  /**
   * Whether this is a live delivery, published while the subscription was live (the `freshness` step runs).
   * Default false: catch-up (replay, `pull`, `client.receive`) is bounded by the anchor window instead (§11.1).
   */
  live?: boolean | undefined
  /** The conversation policy's inputs: every commit's result must pass `checkCommit`. */
  policy: PolicyInput
  /** Fetches the bytes a reference names (protocol §3.9): the commit a commit reference stands for. */
  fetchBlob?:
    | ((reference: Pick<Reference, 'digest' | 'total'>) => Promise<Uint8Array | undefined>)
    | undefined
}

/**
 * What a group message produced: a commit (the group's next epoch; `removed` if this device left it) or a verified
 * message. The caller stores `state` with the message and its sequence number in one transaction, then zeroes
 * `consumed`.
 *
 * @example const result = await receiveGroupMessage(parameters); if (result.kind === 'message') show(result.message)
 */
export type ReceivedGroupMessage =
  | { kind: 'commit'; state: ClientState; epoch: bigint; removed: boolean; consumed: Uint8Array[] }
  /** A standalone proposal that passed the group rules, kept as pending until a commit covers it. */
  | { kind: 'proposal'; state: ClientState; consumed: Uint8Array[] }
  | {
      kind: 'message'
      state: ClientState
      message: ReceivedMessage
      /** The signed statement's bytes, for the log. */
      statementBytes: Uint8Array
      /** `text`, or `deliveryReceipt` (then `message.text` is the receipt body, §4.5). */
      contentType: ContentType
      consumed: Uint8Array[]
    }

/**
 * Decrypts a group message with MLS and, for an application message, verifies its statement against the chain
 * (sender binding, registry, block, signature, key validity, body, clock, sequence). No writes: `newState = f(state,
 * msg)`. Throws `MlsRejectedError` when MLS refuses it, `SenderRemovedError` for a message sealed in an earlier
 * epoch by a device that is no longer a member, `ConversationPolicyError` for a commit that breaks the conversation
 * policy, or the failing check's error with its `report` attached.
 *
 * @example const result = await receiveGroupMessage({ envelope, state, impl, ciphersuite, chain, lastSeq, policy })
 */
export async function receiveGroupMessage({
  envelope,
  state,
  impl,
  ciphersuite,
  chain,
  lastSeq,
  clock,
  live = false,
  policy,
  fetchBlob,
}: ReceiveGroupMessageParameters): Promise<ReceivedGroupMessage> {
  const message = decodeMls(await groupMessageBytes(envelope, fetchBlob), envelope.id)
  if (message.wireformat !== 'mls_private_message')
    throw new MlsRejectedError({
      messageId: envelope.id,
      reason: `unexpected wire format ${message.wireformat}`,
    })
  if (state.groupActiveState.kind !== 'active')
    throw new MlsRejectedError({
      messageId: envelope.id,
      reason: 'this device was removed from the conversation',
    })
  const pm = message.privateMessage
  const sender = await senderOf(state, pm, impl)
  // ts-mls keeps the keys of past epochs and would open a message a removed device sealed before its removal: a
  // message from an earlier epoch counts only if its sender is still a member now (the relay delivers a topic in
  // order, so an honest message sent before the removal commit arrives before it).
  const current = state.groupContext.epoch
  if (sender && pm.epoch < current && !stillMember(state, sender))
    throw new SenderRemovedError({
      messageId: envelope.id,
      deviceId: sender.identity.deviceId,
      messageEpoch: pm.epoch,
      currentEpoch: current,
    })
  const filter = policyFilter(policy, state)
  let processed: Awaited<ReturnType<typeof processPrivateMessage>>
  try {
    processed = await processPrivateMessage(state, pm, makePskIndex(state, {}), impl, filter.callback)
  } catch (cause) {
    throw new MlsRejectedError({ messageId: envelope.id, reason: reasonOf(cause), cause })
  }
  if (processed.kind === 'newState') {
    if (processed.actionTaken === 'reject')
      throw Object.assign(filter.violation(), { messageId: envelope.id })
    if (pm.contentType === 'proposal')
      return { kind: 'proposal', state: processed.newState, consumed: processed.consumed }
    checkCommit({
      ...policy,
      before: state,
      after: processed.newState,
      committer: sender,
      proposals: filter.proposals(),
    })
    return {
      kind: 'commit',
      state: processed.newState,
      epoch: processed.newState.groupContext.epoch,
      removed: processed.newState.groupActiveState.kind !== 'active',
      consumed: processed.consumed,
    }
  }
  if (!sender)
    throw new MlsRejectedError({ messageId: envelope.id, reason: 'sender leaf has no Sealpost credential' })
  const content = decodeApplicationContent(processed.message)
  const { statement } = content.signed
  const groupId = bytesToHex(state.groupContext.groupId)
  const { report, error } = await verifyStatement({
    signed: content.signed,
    body: content.body,
    sender: sender.identity,
    groupId,
    lastSeq: lastSeq(statement.from, statement.device),
    messageId: envelope.id,
    clock,
    chain,
    registry: policy.deployment.keyRegistry,
    epoch: pm.epoch,
    recipients: epochRecipients(state, pm.epoch) ?? [],
    contentType: contentTypes[content.contentType],
    live,
  })
  report.steps.unshift({
    name: 'mls',
    ok: true,
    detail: `decrypted in epoch ${message.privateMessage.epoch} with ${ciphersuite}`,
  })
  report.mls = { epoch: message.privateMessage.epoch, ciphersuite, senderLeaf: sender.leafIndex }
  if (error) throw Object.assign(error, { report })
  return {
    kind: 'message',
    state: processed.newState,
    message: {
      id: envelope.id,
      conversation: groupId,
      from: statement.from,
      device: statement.device,
      seq: statement.seq,
      sentAt: statement.sentAt,
      text: decodeUtf8(content.body) ?? '',
      statement,
      signature: content.signed.signature,
      leaf: statementLeaf(content.signed.bytes, content.signed.signature),
      recipients: recipientProof(statement.chainId, epochRecipients(state, pm.epoch) ?? [], policy.self),
      report,
      verdict: 'pending',
    },
    statementBytes: content.signed.bytes,
    contentType: content.contentType,
    consumed: processed.consumed,
  }
}

/**
 * The bytes of a group message: its payload, or, for a commit reference on the group topic (protocol §3.9), the commit
 * fetched by its digest (checked against it), to be processed in the reference's position in the topic. Throws
 * `MlsRejectedError` for a malformed reference or when the referenced bytes are not found.
 *
 * @example const bytes = await groupMessageBytes(envelope, (r) => fetchBlob(transport, r))
 */
export async function groupMessageBytes(
  envelope: Envelope,
  fetchBlob: ReceiveGroupMessageParameters['fetchBlob'],
): Promise<Uint8Array> {
  const refuse = (reason: string, cause?: unknown) =>
    new MlsRejectedError({ messageId: envelope.id, reason, cause })
  let reference: Extract<Reference, { kind: 'commit' }> | undefined
  try {
    reference = decodeReference(envelope.payload, 'commit')
  } catch (cause) {
    throw refuse(reasonOf(cause), cause)
  }
  if (!reference) return envelope.payload
  if (envelope.kind !== 'commit') throw refuse(`a commit reference in a ${envelope.kind} envelope`)
  const bytes = await fetchBlob?.(reference)
  if (!bytes) throw refuse('the commit this reference names was not found on its topic')
  return bytes
}

function stillMember(
  state: ClientState,
  sender: { identity: { deviceId: Hex }; leafIndex: number },
): boolean {
  return leavesOf(state).some(
    (l) =>
      l.leafIndex === sender.leafIndex &&
      l.identity?.deviceId.toLowerCase() === sender.identity.deviceId.toLowerCase(),
  )
}
