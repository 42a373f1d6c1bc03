/** Which of the relay transport's pending requests go out now, and what a relay error code does to a request. */
import type { ClientFrame, RelayFrame } from '../protocol/relayFrames.js'

/** Requests in flight per connection; more wait locally, in order, so the relay never has to drop any. @example REQUEST_WINDOW // 256 */
export const REQUEST_WINDOW = 256

/** Refusals after which a transiently refused request fails instead of being re-sent. @example MAX_ATTEMPTS // 50 */
export const MAX_ATTEMPTS = 50

/**
 * A request waiting for the relay's answer.
 *
 * @example const request: PendingRequest = { frame, resolve, reject, attempts: 0 }
 */
export type PendingRequest = {
  frame: ClientFrame
  resolve: (frame: RelayFrame) => void
  reject: (err: unknown) => void
  attempts: number
  /** Unix ms before which a refused request is not sent again. */
  notBefore?: number
}

/** Wire codes after which a request is retried (with backoff) instead of failing. */
const TRANSIENT = new Set([
  'RELAY_RATE_LIMITED',
  'RELAY_QUEUE_FULL',
  'RELAY_INTERNAL',
  'RELAY_UNAVAILABLE',
  'RELAY_UNAUTHENTICATED',
])
/** Wire codes that end the session for good. */
const AUTH_FATAL = new Set([
  'RELAY_AUTH_FAILED',
  'RELAY_UNKNOWN_DEVICE',
  'RELAY_DEVICE_REVOKED',
  'WRONG_DEPLOYMENT',
])

/**
 * What an ERROR frame means: `end-session` (an authentication refusal, reqId 0), `retry` (a transient code, and
 * the request has attempts left), or `reject` (the request fails with the code).
 *
 * @example relayErrorOutcome({ reqId: 7, code: 'RELAY_RATE_LIMITED', attempts: 0 }) // 'retry'
 */
export function relayErrorOutcome({
  reqId,
  code,
  attempts,
}: {
  reqId: number
  code: string
  attempts: number
}): 'end-session' | 'retry' | 'reject' {
  if (reqId === 0 && AUTH_FATAL.has(code)) return 'end-session'
  return TRANSIENT.has(code) && attempts < MAX_ATTEMPTS ? 'retry' : 'reject'
}

/**
 * The reqIds to send now, oldest first, while fewer than `window` are in flight. Subscriptions are sent on their
 * own (on resume) and skipped. A publish that must wait (`notBefore` in the future) holds back the later publishes
 * of its topic (recipients need them in order); other requests and other topics go on.
 *
 * @example for (const reqId of requestsToSend({ pending, inFlight, now: Date.now() })) send(pending.get(reqId)!.frame)
 */
export function requestsToSend({
  pending,
  inFlight,
  now,
  window = REQUEST_WINDOW,
}: {
  pending: ReadonlyMap<number, PendingRequest>
  inFlight: ReadonlySet<number>
  now: number
  window?: number
}): number[] {
  const out: number[] = []
  const heldTopics = new Set<string>()
  for (const [reqId, request] of pending) {
    if (inFlight.size + out.length >= window) break
    if (inFlight.has(reqId) || request.frame.type === 'subscribe') continue
    const topic = request.frame.type === 'publish' ? topicOf(request.frame.envelope) : undefined
    if (topic && heldTopics.has(topic)) continue
    if (request.notBefore !== undefined && request.notBefore > now) {
      if (topic) heldTopics.add(topic)
      continue
    }
    out.push(reqId)
  }
  return out
}

/** The topic of an encoded envelope (bytes 4..36), as lower-case hex. */
function topicOf(envelope: Uint8Array): string {
  return Buffer.from(envelope.subarray(4, 36)).toString('hex')
}
