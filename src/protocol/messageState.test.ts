import { describe, expect, test } from 'vitest'
import {
  advance,
  INCOMING_STATES,
  isAtLeast,
  isMessageState,
  MESSAGE_STATES,
  type MessageState,
  OUTGOING_STATES,
} from './messageState.js'

describe('message states', () => {
  test('both tracks are in lifecycle order', () => {
    expect(MESSAGE_STATES).toMatchInlineSnapshot(`
      [
        "queued",
        "accepted",
        "delivered",
        "received",
        "anchored",
        "final",
      ]
    `)
    for (const track of [OUTGOING_STATES, INCOMING_STATES] as readonly (readonly MessageState[])[])
      for (let i = 1; i < track.length; i++) {
        expect(isAtLeast(track[i] as MessageState, track[i - 1] as MessageState)).toBe(true)
        expect(isAtLeast(track[i - 1] as MessageState, track[i] as MessageState)).toBe(false)
      }
  })

  test('advance never moves a message backwards', () => {
    for (const current of MESSAGE_STATES)
      for (const next of MESSAGE_STATES) {
        const result = advance(current, next)
        expect(isAtLeast(result, current)).toBe(true)
        expect(isAtLeast(result, next)).toBe(true)
      }
    expect(advance('anchored', 'delivered')).toBe('anchored')
    expect(advance('accepted', 'delivered')).toBe('delivered')
  })

  test('isMessageState recognises states only', () => {
    expect(MESSAGE_STATES.every(isMessageState)).toBe(true)
    for (const value of ['rejected', 'FINAL', '', undefined, 3, 'constructor'])
      expect(isMessageState(value)).toBe(false)
  })
})
