/** A stored message as the app sees it, and how a `messages` row becomes one. */
import type { ContentType } from '../protocol/content.js'
import type { MessageState } from '../protocol/messageState.js'
import type { MessageRow } from './deviceStoreSchema.js'

/**
 * What a recipient decided about a received message's time bounds (protocol §11.1), separate from its state:
 * `pending` until a receipt shows it anchored in time, then `verified` or `refused`.
 */
export type MessageVerdict = 'pending' | 'verified' | 'refused'

/** A message as the app saw it. */
export type StoredMessage = {
  id: string
  conversation: string
  direction: 'in' | 'out'
  from: string
  device: string
  seq: bigint
  sentAt: number
  body: string
  report: string
  receivedAt: number
  leaf?: string | undefined
  state: MessageState
  /** The relay's sequence number for this message on its topic, once accepted. */
  cursor?: bigint | undefined
  delivered?: boolean | undefined
  /** The verified receipt, as `receiptToJson` output. */
  receipt?: string | undefined
  /** The encoded envelope, kept for outgoing messages until the relay accepts them. */
  envelope?: Uint8Array | undefined
  /** Received messages only: the time-bound verdict (a received message is written `pending`). */
  verdict?: MessageVerdict | undefined
  /** Why a message was refused: the error code. */
  verdictReason?: string | undefined
  /** `text` (default) or `deliveryReceipt` (a signed receipt for received messages, protocol §4.5). */
  contentType?: ContentType | undefined
  /** Set on a message imported from a history archive (protocol §12.8): this device never received it live. */
  history?: HistoryMark | undefined
}

/**
 * Where an imported history message came from: the archive, the sibling device that sent it, and when it was
 * imported.
 *
 * @example const mark: HistoryMark = { archive, fromDevice, importedAt: Date.now() }
 */
export type HistoryMark = { archive: string; fromDevice: string; importedAt: number }

/**
 * A `messages` row as a `StoredMessage`, given its opened (decrypted) body.
 *
 * @example const message = messageFromRow(row, body)
 */
export function messageFromRow(r: MessageRow, body: string): StoredMessage {
  return {
    id: r.id,
    conversation: r.conversation,
    direction: r.direction as 'in' | 'out',
    from: r.sender,
    device: r.device,
    seq: r.seq,
    sentAt: Number(r.sent_at),
    body,
    report: r.report,
    receivedAt: Number(r.received_at),
    leaf: r.leaf ?? undefined,
    state: r.state as MessageState,
    cursor: r.cursor ?? undefined,
    delivered: r.delivered === 1n,
    receipt: r.receipt ?? undefined,
    envelope: r.envelope ? new Uint8Array(r.envelope) : undefined,
    verdict: (r.verdict ?? undefined) as MessageVerdict | undefined,
    verdictReason: r.verdict_reason ?? undefined,
    contentType: r.content_type as ContentType,
    ...(r.history ? { history: JSON.parse(r.history) as HistoryMark } : {}),
  }
}
