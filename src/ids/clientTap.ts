/** The client tap: a client's own events (refused messages, key changes, Welcomes, sequence gaps) as IDS events. */
import type { EventEmitter } from 'node:events'
import type { Address, Hex } from 'viem'
import type { ClientEvents, Rejection } from '../client/types.js'
import {
  ConversationPolicyError,
  MlsRejectedError,
  SenderRemovedError,
} from '../client/verificationErrors.js'
import type { IdsEventOf, IdsEventSink } from './events.js'

type VerifyReason = IdsEventOf<'verify-fail'>['reason']

/**
 * The IDS reason of each verification error code a client refuses a message with (docs/ids.md §2). Codes not listed
 * (a delivery receipt for an unknown message, a refused key package, a body that is not UTF-8) are not attacks by
 * themselves and emit nothing.
 *
 * @example VERIFY_REASONS.SEALPOST_REPLAY // 'replayed'
 */
export const VERIFY_REASONS: Readonly<Record<string, VerifyReason>> = {
  SEALPOST_REPLAY: 'replayed',
  SEALPOST_STALE_SEQ: 'stale-seq',
  SEALPOST_KEY_REVOKED: 'revoked-key',
  SEALPOST_REVOKED_BEFORE_ANCHOR: 'revoked-key',
  SEALPOST_CLOCK_SKEW: 'clock',
  SEALPOST_ANCHOR_WINDOW: 'clock',
  SEALPOST_STALE_BLOCK_REFERENCE: 'clock',
  SEALPOST_KEY_NOT_YET_VALID: 'clock',
  SEALPOST_CONVERSATION_POLICY: 'policy',
  SEALPOST_SENDER_REMOVED: 'policy',
  SEALPOST_BAD_SIGNATURE: 'forged',
  SEALPOST_BODY_HASH_MISMATCH: 'forged',
  SEALPOST_SENDER_MISMATCH: 'forged',
  SEALPOST_UNKNOWN_SENDER: 'forged',
  SEALPOST_MLS_REJECTED: 'forged',
  SEALPOST_RECIPIENTS_MISMATCH: 'forged',
  SEALPOST_BAD_BLOCK_REFERENCE: 'forged',
  SEALPOST_STATEMENT_WRONG_CHAIN: 'forged',
  SEALPOST_STATEMENT_WRONG_REGISTRY: 'forged',
  SEALPOST_STATEMENT_EPOCH: 'forged',
  SEALPOST_DEPLOYMENT_MISMATCH: 'forged',
  SEALPOST_LOG_EQUIVOCATION: 'forged',
  SEALPOST_TRANSCRIPT_INVALID: 'forged',
}

/**
 * MLS refusals that are no attack: the device holds no keys for the message's epoch because it was never a member of
 * it (a newly linked device reading what was sent before it joined; an epoch whose keys it no longer keeps; a Welcome
 * into an epoch for a key package it no longer holds) or is no longer a member (a removed device reading the group's
 * later traffic). Honest, and common: the tap drops them.
 *
 * @example NOT_A_MEMBER_OF_EPOCH.has('this device was removed from the conversation') // true
 */
export const NOT_A_MEMBER_OF_EPOCH: ReadonlySet<string> = new Set([
  'this device was removed from the conversation', // receiveGroupMessage: the group is no longer active here
  'Cannot process message, epoch too old', // ts-mls: no receiver data kept for the message's (earlier) epoch
  // receiveWelcome: its key package was used or dropped (a rotation, two committers adding the same device); the
  // device joins nothing, whoever sent it
  'Welcome is for none of our key packages',
])

/** What the tap reads of a client: its device id, its typed events and, when it has them, its conversations. */
type TappableClient = {
  readonly deviceId: Hex
  readonly events: EventEmitter<ClientEvents>
  /** The relay connection; its `url`, when it has one, names the relay a sequence gap is charged to. */
  readonly transport?: object
  /** Direct conversations by id: a refusal on one whose sender is unknown is charged to its peer. */
  readonly conversations?: { get(id: Hex): { readonly peer: Address } | undefined }
}

/** A device id (32 bytes) or an account (20 bytes) named in a policy refusal's detail: the offending leaf or author. */
const OFFENDER = /\b(?:device (0x[0-9a-fA-F]{64})|(0x[0-9a-fA-F]{40}) is not an admin)\b/

/**
 * Who sent what `r` refused, as far as the client can tell: the statement's device when the checks reached the key;
 * the removed device that sealed a message after its removal; the member or author a policy refusal names; else, in a
 * direct conversation, its peer's account (only the peer and the relay can publish there); else `unknown`.
 */
function senderOf(client: TappableClient, r: Rejection): string {
  const key = r.report?.key?.deviceId
  if (key) return key.toLowerCase()
  if (r.error instanceof SenderRemovedError) return r.error.deviceId.toLowerCase()
  if (r.error instanceof ConversationPolicyError) {
    const m = OFFENDER.exec(r.error.detail)
    if (m) return (m[1] ?? m[2] ?? '').toLowerCase()
  }
  const peer = r.topic === '0x' ? undefined : client.conversations?.get(r.topic)?.peer
  return peer ? peer.toLowerCase() : 'unknown'
}

/** The largest `missing` one event carries: the IDS counts messages, a forged seq of 2^60 is one event. */
const MAX_MISSING = 1_000_000

/**
 * Follows a client's events: each refused message (`rejected`) whose code has a reason becomes `verify-fail`, but for
 * the MLS refusals of an epoch this device was never or is no longer a member of (`NOT_A_MEMBER_OF_EPOCH`, not
 * attacks: dropped); the sender is the statement's device, the removed device, the offender a policy refusal names or
 * a direct conversation's peer account, else `unknown`; each `keyChange` of a contact
 * `key-change`; each conversation joined through a Welcome `welcome` with `expected: true`, each group invitation
 * held for consent (`invitation`, a Welcome nobody the account knows announced) `welcome` with `expected: false`;
 * each gap in a sending device's sequence numbers (`seqGap`) `seq-gap` with the messages missing, charged to
 * `relay` (default: the client's relay URL, else `unknown`). Returns the function that stops following.
 *
 * @example const untap = tapClient(client, ids.sink, { relay: 'wss://relay.example' }); …; untap()
 */
export function tapClient(
  client: TappableClient,
  sink: IdsEventSink,
  { now = Date.now, relay }: { now?: () => number; relay?: string } = {},
): () => void {
  const device = client.deviceId.toLowerCase()
  const url = (client.transport as { url?: unknown } | undefined)?.url
  const relayId = relay ?? (typeof url === 'string' && url !== '' ? url : 'unknown')
  const onRejected = (r: Rejection) => {
    const reason = VERIFY_REASONS[r.error.code as string]
    if (!reason) return
    if (r.error instanceof MlsRejectedError && NOT_A_MEMBER_OF_EPOCH.has(r.error.reason)) return
    const sender = senderOf(client, r)
    sink.emit({
      v: 1,
      t: now(),
      src: 'client',
      kind: 'verify-fail',
      device,
      sender,
      reason,
      envelope: r.envelopeId,
    })
  }
  const onKeyChange = (e: ClientEvents['keyChange'][0]) =>
    sink.emit({ v: 1, t: now(), src: 'client', kind: 'key-change', device, contact: e.account.toLowerCase() })
  const onJoined = (e: ClientEvents['joined'][0]) =>
    sink.emit({
      v: 1,
      t: now(),
      src: 'client',
      kind: 'welcome',
      device,
      group: e.conversation,
      expected: true,
    })
  const onInvitation = (i: ClientEvents['invitation'][0]) =>
    sink.emit({
      v: 1,
      t: now(),
      src: 'client',
      kind: 'welcome',
      device,
      group: i.conversation.toLowerCase(),
      expected: false,
    })
  const onSeqGap = (g: ClientEvents['seqGap'][0]) =>
    sink.emit({
      v: 1,
      t: now(),
      src: 'client',
      kind: 'seq-gap',
      device,
      topic: g.conversation.toLowerCase(),
      relay: relayId,
      missing: Number(g.missing > BigInt(MAX_MISSING) ? BigInt(MAX_MISSING) : g.missing),
    })
  client.events.on('rejected', onRejected)
  client.events.on('keyChange', onKeyChange)
  client.events.on('joined', onJoined)
  client.events.on('invitation', onInvitation)
  client.events.on('seqGap', onSeqGap)
  return () => {
    client.events.off('rejected', onRejected)
    client.events.off('keyChange', onKeyChange)
    client.events.off('joined', onJoined)
    client.events.off('invitation', onInvitation)
    client.events.off('seqGap', onSeqGap)
  }
}
