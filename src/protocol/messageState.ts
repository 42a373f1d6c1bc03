/** The message lifecycle: the states a message goes through and their order, defined once for every layer. */

/**
 * Every state of a message, in lifecycle order. Outgoing messages move `queued → accepted → delivered → anchored →
 * final`; incoming ones `received → anchored → final` (protocol §11). One order serves both tracks, because a
 * message is on one track only: `received` sits between `delivered` and `anchored` so that a view which merges the
 * sender's and the recipient's observations of one message (the dashboard) also only ever moves forward.
 */
export const MESSAGE_STATES = ['queued', 'accepted', 'delivered', 'received', 'anchored', 'final'] as const

/** Where a message is in its life (protocol §11). */
export type MessageState = (typeof MESSAGE_STATES)[number]

/**
 * Blocks (the anchoring block counted) after which an anchored message is `final`, unless a client is configured
 * otherwise (protocol §11).
 *
 * @example head - receipt.blockNumber + 1n >= BigInt(DEFAULT_FINALITY)
 */
export const DEFAULT_FINALITY = 2

/** The states of an outgoing message, in order. */
export const OUTGOING_STATES = [
  'queued',
  'accepted',
  'delivered',
  'anchored',
  'final',
] as const satisfies readonly MessageState[]

/** The states of an incoming message, in order. */
export const INCOMING_STATES = ['received', 'anchored', 'final'] as const satisfies readonly MessageState[]

const rank = new Map<string, number>(MESSAGE_STATES.map((state, index) => [state, index]))

/**
 * Whether a message in `state` has reached `target` (or gone past it).
 *
 * @example isAtLeast('anchored', 'delivered') // true
 */
export function isAtLeast(state: MessageState, target: MessageState): boolean {
  return (rank.get(state) ?? -1) >= (rank.get(target) ?? Number.POSITIVE_INFINITY)
}

/**
 * The state after observing `next` in `current`: states only move forward, so a late observation (a "delivered"
 * after the receipt) never demotes a message.
 *
 * @example advance('anchored', 'delivered') // 'anchored'
 */
export function advance(current: MessageState, next: MessageState): MessageState {
  return isAtLeast(current, next) ? current : next
}

/**
 * Whether `value` names a message state (for parsing flags and stored rows).
 *
 * @example isMessageState('final') // true
 */
export function isMessageState(value: unknown): value is MessageState {
  return typeof value === 'string' && rank.has(value)
}
