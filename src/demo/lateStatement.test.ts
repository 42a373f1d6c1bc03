/** The demo's attack-2 statement-layer step passes only on the typed time-bound refusal, and on nothing else. */
import { expect, test } from 'vitest'
import type { TranscriptVerification } from '../client/transcript.js'
import { AnchorWindowError, RevokedBeforeAnchorError } from '../client/verificationErrors.js'
import { judgeLateStatement } from './lateStatement.js'

const revoked = new RevokedBeforeAnchorError({ deviceId: '0xab', revokedAt: 12n, anchorBlock: 13n })
const refused = {
  entry: 0,
  check: 'time-bounds',
  ok: false,
  detail: 'refused: SEALPOST_REVOKED_BEFORE_ANCHOR: …',
  verdict: 'refused',
} as const
const passed = { entry: 0, check: 'signature', ok: true, detail: 'P-256 signature verifies' } as const

test('a transcript refused only at time-bounds with RevokedBeforeAnchorError passes, with the failing lines', () => {
  const result: TranscriptVerification = { ok: false, checks: [passed, refused], error: revoked }
  expect(judgeLateStatement(result)).toEqual({
    ok: true,
    lines: [
      '✗ entry 0 time-bounds: refused: SEALPOST_REVOKED_BEFORE_ANCHOR: …',
      '✗ transcript does not verify (1 of 2 checks failed)',
    ],
  })
})

test('a verified transcript, another error, or another failing check does not pass', () => {
  expect(judgeLateStatement({ ok: true, checks: [passed] }).ok).toBe(false)
  const window = new AnchorWindowError({ block: 11n, reason: 'late' })
  expect(judgeLateStatement({ ok: false, checks: [refused], error: window }).ok).toBe(false)
  const other = { ...passed, ok: false }
  expect(judgeLateStatement({ ok: false, checks: [other, refused], error: revoked }).ok).toBe(false)
})
