/** Sending: `sealMessage` turns text into a signed, MLS-encrypted envelope; `sendMessage` persists and publishes it. */
import { randomBytes } from 'node:crypto'
import { type CiphersuiteImpl, type ClientState, createApplicationMessage, zeroOutUint8Array } from 'ts-mls'
import { type Address, bytesToHex, type Hex } from 'viem'
import type { DeviceSigningKey } from '../crypto/p256.js'
import { signStatement } from '../crypto/statementSignature.js'
import { type ContentType, contentTypes, encodeApplicationContent } from '../protocol/content.js'
import { createEnvelope, type Envelope, encodeEnvelope } from '../protocol/envelope.js'
import { type RecipientProof, recipientProof, recipientsRoot } from '../protocol/recipients.js'
import { hashBodyV2, type SignedStatement, type Statement, statementLeaf } from '../protocol/statement.js'
import type { ClientContext } from './context.js'
import { epochRecipients } from './epochRecipients.js'
import { deserializeGroupState, encodeMls, serializeGroupState } from './mls.js'
import { assertActive } from './registration.js'
import { requireGroup } from './storedGroup.js'
import type { SendOptions, SentMessage } from './types.js'

/**
 * Inputs of {@link sealMessage}.
 *
 * @example const p: SealMessageParameters = { state, impl, signingKey, chainId, registry, account, deviceId, seq: 1n, block, text }
 */
export type SealMessageParameters = {
  /** The group state to encrypt in (not modified; the new state is returned). */
  state: ClientState
  impl: CiphersuiteImpl
  signingKey: DeviceSigningKey
  chainId: number
  /** The deployment's KeyRegistry, named in the statement. */
  registry: Address
  account: Address
  deviceId: Hex
  seq: bigint
  /** A recent block the statement references. */
  block: { number: bigint; hash: Hex }
  text: string
  /** The exact body bytes to sign and send instead of `text`'s UTF-8 (a misbehaving sender in tests). */
  body?: Uint8Array | undefined
  /** `text` (default), or `deliveryReceipt` for a signed delivery receipt (protocol §4.5). */
  contentType?: ContentType | undefined
  /** Unix ms; default now. */
  sentAt?: number | undefined
}

/**
 * What {@link sealMessage} produced: the group's next state, the envelope to publish, and the signed statement with
 * its Merkle leaf. The caller persists `state` and the message atomically, then zeroes `consumed`.
 *
 * @example const { state, envelope, leaf } = await sealMessage(parameters)
 */
export type SealedMessage = {
  state: ClientState
  envelope: Envelope
  statement: Statement
  signed: SignedStatement
  leaf: Hex
  /** The proof that the sender's own account is among the statement's recipients (kept in the log). */
  recipients: RecipientProof
  /** Key material the old state held, to zero once the new state is stored. */
  consumed: Uint8Array[]
}

/**
 * Seals `text`: a v2 statement (chain, registry, account, device, conversation, MLS epoch, the root of the member
 * accounts at that epoch, seq, time, recent block, body hash, salt) signed with the device's P-256 key, wrapped with
 * the body in an MLS application message, in an envelope for the group's topic. No I/O: `newState = f(state, text)`.
 *
 * @example const sealed = await sealMessage({ state, impl, signingKey, chainId, registry, account, deviceId, seq, block, text: 'hi' })
 */
export async function sealMessage(p: SealMessageParameters): Promise<SealedMessage> {
  const groupId = bytesToHex(p.state.groupContext.groupId)
  const body = p.body ?? new TextEncoder().encode(p.text)
  const members = epochRecipients(p.state) ?? []
  const statement: Statement = {
    version: 2,
    chainId: p.chainId,
    registry: p.registry,
    epoch: p.state.groupContext.epoch,
    recipientsRoot: recipientsRoot(p.chainId, members),
    from: p.account,
    device: p.deviceId,
    conversation: groupId,
    seq: p.seq,
    sentAt: p.sentAt ?? Date.now(),
    block: { number: p.block.number, hash: p.block.hash },
    bodyHash: hashBodyV2(contentTypes[p.contentType ?? 'text'], body),
    salt: bytesToHex(randomBytes(32)),
  }
  const signed = signStatement({ statement, key: p.signingKey })
  const content = encodeApplicationContent({ signed, contentType: p.contentType ?? 'text', body })
  const created = await createApplicationMessage(p.state, content, p.impl)
  const envelope = createEnvelope({
    kind: 'application',
    topic: groupId,
    payload: encodeMls({
      version: 'mls10',
      wireformat: 'mls_private_message',
      privateMessage: created.privateMessage,
    }),
  })
  return {
    state: created.newState,
    envelope,
    statement,
    signed,
    leaf: statementLeaf(signed.bytes, signed.signature),
    recipients: recipientProof(p.chainId, members, p.account) ?? { index: 0, treeSize: 0, path: [] },
    consumed: created.consumed,
  }
}

/**
 * Seals `text` in conversation `groupId`, stores it as `queued` together with the new group state (one transaction),
 * publishes it, and resolves once the relay accepted it.
 *
 * @example const sent = await sendMessage(ctx, chat.id, 'hello')
 */
export async function sendMessage(
  ctx: ClientContext,
  groupId: Hex,
  text: string,
  options: SendOptions = {},
  { contentType = 'text' }: { contentType?: ContentType | undefined } = {},
): Promise<SentMessage> {
  const { store } = ctx
  const sealed = await ctx.exclusive(async () => {
    if (!options.unsafeSkipRegistrationCheck) await assertActive(ctx)
    const group = requireGroup(ctx, groupId)
    const sealed = await sealMessage({
      state: deserializeGroupState(group.state, ctx.config),
      impl: ctx.impl,
      signingKey: ctx.device.signingKey,
      chainId: ctx.chainId,
      registry: ctx.deployment.keyRegistry,
      account: ctx.account,
      deviceId: ctx.deviceId,
      seq: options.unsafeSeq ?? store.nextSeq(groupId),
      block: await ctx.chain.recentBlock(),
      text,
      body: options.unsafeBody,
      contentType,
    })
    const { envelope, statement, signed, leaf } = sealed
    ctx.outbox.enqueue(
      {
        id: envelope.id,
        conversation: groupId,
        from: ctx.account,
        device: ctx.deviceId,
        seq: statement.seq,
        sentAt: statement.sentAt,
        body: text,
        report: '{}',
        receivedAt: Date.now(),
        leaf,
        envelope: encodeEnvelope(envelope),
        contentType,
      },
      () => {
        store.putGroup({ ...group, state: serializeGroupState(sealed.state) })
        store.markProcessed(envelope.id, 'sent')
        ctx.audit.append('sent', {
          envelopeId: envelope.id,
          conversation: groupId,
          statement: bytesToHex(signed.bytes),
          signature: signed.signature,
          leaf,
          recipients: sealed.recipients,
          body: text,
          ...(contentType !== 'text' && { contentType }),
        })
      },
    )
    sealed.consumed.forEach(zeroOutUint8Array)
    // Publish inside the lock so envelopes reach the transport in sealing order (recipients require strictly
    // increasing sequence numbers); wait for the relay's acceptance outside it.
    const publishing = ctx.transport.publish(envelope)
    publishing.catch(() => undefined)
    return { ...sealed, publishing }
  })
  const { cursor } = await sealed.publishing
  ctx.outbox.accepted(sealed.envelope.id, groupId, cursor, sealed.leaf)
  return {
    id: sealed.envelope.id,
    conversation: groupId,
    statement: sealed.statement,
    signature: sealed.signed.signature,
    leaf: sealed.leaf,
    envelope: sealed.envelope,
    cursor,
  }
}
