import type { Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { createEnvelope, encodeEnvelope } from '../protocol/envelope.js'
import type { ClientFrame } from '../protocol/relayFrames.js'
import { MAX_ATTEMPTS, type PendingRequest, relayErrorOutcome, requestsToSend } from './requestWindow.js'

const topicA: Hex = `0x${'aa'.repeat(32)}`
const topicB: Hex = `0x${'bb'.repeat(32)}`
const publish = (reqId: number, topic: Hex): Extract<ClientFrame, { type: 'publish' }> => ({
  type: 'publish',
  reqId,
  envelope: encodeEnvelope(createEnvelope({ kind: 'welcome', topic, payload: new Uint8Array([reqId]) })),
})
const pendingOf = (entries: [Exclude<ClientFrame, { type: 'auth' | 'ack' }>, number?][]) =>
  new Map<number, PendingRequest>(
    entries.map(([frame, notBefore]) => [
      frame.reqId,
      {
        frame,
        resolve: () => undefined,
        reject: () => undefined,
        attempts: 0,
        ...(notBefore === undefined ? {} : { notBefore }),
      },
    ]),
  )

describe('requestsToSend', () => {
  test('sends oldest first, skips what is in flight and subscriptions, and stops at the window', () => {
    const pending = pendingOf([
      [publish(1, topicA)],
      [
        {
          type: 'subscribe',
          reqId: 2,
          topic: topicA,
          after: 0n,
          preimage: { kind: 'inbox', deviceId: topicA },
        },
      ],
      [publish(3, topicB)],
      [{ type: 'kp-count', reqId: 4, deviceId: topicA }],
      [publish(5, topicA)],
    ])
    expect(requestsToSend({ pending, inFlight: new Set([3]), now: 0 })).toEqual([1, 4, 5])
    expect(requestsToSend({ pending, inFlight: new Set([3]), now: 0, window: 3 })).toEqual([1, 4])
  })

  test('a publish asked to wait holds back the later publishes of its topic only', () => {
    const pending = pendingOf([
      [publish(1, topicA), 1000],
      [publish(2, topicA)],
      [publish(3, topicB)],
      [{ type: 'leaf', reqId: 4, topic: topicA, leaf: topicB }],
    ])
    expect(requestsToSend({ pending, inFlight: new Set(), now: 500 })).toEqual([3, 4])
    expect(requestsToSend({ pending, inFlight: new Set(), now: 1000 })).toEqual([1, 2, 3, 4])
  })
})

describe('relayErrorOutcome', () => {
  test('authentication refusals end the session; transient codes retry until the attempts run out', () => {
    expect(relayErrorOutcome({ reqId: 0, code: 'WRONG_DEPLOYMENT', attempts: 0 })).toBe('end-session')
    expect(relayErrorOutcome({ reqId: 0, code: 'RELAY_DEVICE_REVOKED', attempts: 0 })).toBe('end-session')
    expect(relayErrorOutcome({ reqId: 9, code: 'RELAY_RATE_LIMITED', attempts: 0 })).toBe('retry')
    expect(relayErrorOutcome({ reqId: 9, code: 'RELAY_QUEUE_FULL', attempts: MAX_ATTEMPTS })).toBe('reject')
    expect(relayErrorOutcome({ reqId: 9, code: 'RELAY_FRAME_TOO_LARGE', attempts: 0 })).toBe('reject')
  })
})
