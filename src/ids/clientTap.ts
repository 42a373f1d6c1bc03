/** The client tap: a client's own events (refused messages, key changes, Welcomes, sequence gaps) as IDS events. */
import type { EventEmitter } from 'node:events'
import type { Hex } from 'viem'
import type { ClientEvents, Rejection } from '../client/types.js'
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

/** What the tap reads of a client: its device id and its typed events. */
type TappableClient = {
  readonly deviceId: Hex
  readonly events: EventEmitter<ClientEvents>
  /** The relay connection; its `url`, when it has one, names the relay a sequence gap is charged to. */
  readonly transport?: object
}

/** The largest `missing` one event carries: the IDS counts messages, a forged seq of 2^60 is one event. */
const MAX_MISSING = 1_000_000

/**
 * Follows a client's events: each refused message (`rejected`) whose code has a reason becomes `verify-fail` (the
 * sender is the refused key's device when the checks got that far, else `unknown`); each `keyChange` of a contact
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
    const sender = r.report?.key?.deviceId.toLowerCase() ?? 'unknown'
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
