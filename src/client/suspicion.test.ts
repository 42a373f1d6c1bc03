/** Client warnings: a revoked key in use marks its contact (persisted); other refusals only when configured. */
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, expect, test } from 'vitest'
import { CERTAIN_SUSPICION_CODES, openSuspicions, watchSuspicion } from './suspicion.js'
import type { ClientEvents, Rejection } from './types.js'
import { KeyRevokedError, ReplayError } from './verificationErrors.js'

const dir = mkdtempSync(join(tmpdir(), 'sealpost-suspicion-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const D = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
const MALLORY = '0x00000000000000000000000000000000000000Aa'
const rejection = (error: Rejection['error'], device?: Hex): Rejection => ({
  envelopeId: D(9),
  topic: D(8),
  error,
  ...(device && {
    report: {
      ok: false,
      steps: [],
      key: { deviceId: device, p256X: D(0), p256Y: D(0), addedAt: 1n, revokedAt: 5n },
    },
  }),
})

test("a message signed with a revoked key marks its sender's account; the mark persists and the user clears it", () => {
  const events = new EventEmitter<ClientEvents>()
  const watcher = { device: (id: Hex) => (id === D(7) ? { account: MALLORY } : undefined) }
  const path = join(dir, 'suspicion.json')
  const s = watchSuspicion({ events, watcher }, { path, now: () => 42 })
  events.emit('rejected', rejection(new ReplayError({ verdict: 'accepted' }), D(7)))
  expect(s.of({ from: MALLORY })).toBeUndefined() // a replay may be the relay's doing: not by default
  events.emit('rejected', rejection(new KeyRevokedError({ deviceId: D(7), revokedAt: 5n, block: 6n }), D(7)))
  const mark = {
    account: MALLORY.toLowerCase(),
    reason: 'SEALPOST_KEY_REVOKED',
    source: 'verify',
    at: 42,
    device: D(7),
  }
  expect(s.of({ from: MALLORY })).toEqual(mark)
  expect(s.of({ from: '0x00000000000000000000000000000000000000bb' })).toBeUndefined()
  s.stop()
  const reopened = openSuspicions({ path })
  expect(reopened.list()).toEqual([mark])
  expect(reopened.clear(MALLORY)).toBe(true)
  expect(openSuspicions({ path }).list()).toEqual([])
})

test('other refusal codes mark only when configured; a refusal before the key was known marks nobody', () => {
  const events = new EventEmitter<ClientEvents>()
  const watcher = { device: () => ({ account: MALLORY }) }
  const s = watchSuspicion({ events, watcher }, { codes: [...CERTAIN_SUSPICION_CODES, 'SEALPOST_REPLAY'] })
  events.emit('rejected', rejection(new ReplayError({ verdict: 'accepted' })))
  expect(s.list()).toEqual([])
  events.emit('rejected', rejection(new ReplayError({ verdict: 'accepted' }), D(7)))
  expect(s.of({ from: MALLORY })?.reason).toBe('SEALPOST_REPLAY')
})
