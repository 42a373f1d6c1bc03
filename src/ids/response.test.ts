/** Response policy: which alerts restrict whom, the response log's fold and lifts, and the live IDS acting on alerts. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { relayIdsPolicy } from '../relay/idsPolicy.js'
import type { Alert } from './alerts.js'
import { IdsQuarantineNotFoundError } from './errors.js'
import { IDS_FILES, startLiveIds } from './liveIds.js'
import { DEFAULT_RESPONSE_POLICY, decideResponse } from './response.js'
import { ResponseLog } from './responseLog.js'

const dir = mkdtempSync(join(tmpdir(), 'sealpost-ids-response-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const alert = (over: Partial<Alert>): Alert => ({
  id: 'a-1',
  at: 0,
  severity: 'high',
  category: 'spam-fanout',
  detector: { type: 'anomaly', name: 'device.fanout' },
  score: 9,
  entities: ['device:d1', 'account:x'],
  summary: 's',
  evidence: {},
  ...over,
})

test('by default only credential stuffing and a revoked key act, on IPs only; other categories when configured', () => {
  const stuffing = alert({ category: 'credential-stuffing', entities: ['ip:10.0.0.9', 'device:victim'] })
  expect(decideResponse(stuffing, DEFAULT_RESPONSE_POLICY, 1000)).toEqual([
    {
      action: 'throttle',
      entity: 'ip:10.0.0.9',
      until: 1000 + 15 * 60_000,
      at: 1000,
      alert: 'a-1',
      category: 'credential-stuffing',
    },
  ])
  const revoked = alert({
    category: 'revoked-key-use',
    severity: 'critical',
    entities: ['device:r', 'ip:10.0.0.7'],
  })
  expect(decideResponse(revoked, DEFAULT_RESPONSE_POLICY, 0).map((a) => a.entity)).toEqual(['ip:10.0.0.7'])
  expect(decideResponse(alert({}), DEFAULT_RESPONSE_POLICY, 0)).toEqual([])
  const strict = {
    ...DEFAULT_RESPONSE_POLICY,
    quarantine: ['spam-fanout', 'replay-flood'] as Alert['category'][],
  }
  expect(decideResponse(alert({}), strict, 0)).toMatchObject([{ action: 'quarantine', entity: 'device:d1' }])
  // The device that refused a replayed message is its victim: only the sender is quarantined.
  const replay = alert({
    category: 'replay-flood',
    entities: ['device:s', 'device:r'],
    evidence: { receiver: 'r' },
  })
  expect(decideResponse(replay, strict, 0).map((a) => a.entity)).toEqual(['device:s'])
  expect(decideResponse(alert({ severity: 'info' }), strict, 0)).toEqual([])
})

test('the response log folds quarantines, lifts and throttles, and sees what another writer appended', () => {
  const path = join(dir, 'responses.jsonl')
  const relay = ResponseLog.open(path)
  const operator = ResponseLog.open(path)
  relay.record({ action: 'quarantine', entity: 'device:0xab', at: 5, alert: 'a-2', category: 'spam-fanout' })
  relay.record({ action: 'throttle', entity: 'ip:10.0.0.9', at: 5, until: 100 })
  expect(operator.quarantines()).toEqual([]) // not read yet
  operator.refresh()
  expect(operator.quarantines()).toEqual([
    { entity: 'device:0xab', at: 5, alert: 'a-2', category: 'spam-fanout' },
  ])
  expect(operator.throttledUntil('ip:10.0.0.9', 50)).toBe(100)
  expect(operator.throttledUntil('ip:10.0.0.9', 100)).toBeUndefined()
  operator.lift('0xAB', { by: 'carol', now: 9 })
  expect(() => operator.lift('0xab', { by: 'carol', now: 9 })).toThrow(IdsQuarantineNotFoundError)
  relay.refresh()
  expect(relay.isQuarantined('device:0xab')).toBe(false)
  expect(JSON.parse(readFileSync(path, 'utf8').trim().split('\n').at(-1) as string)).toEqual({
    action: 'lift',
    entity: 'device:0xab',
    at: 9,
    by: 'carol',
  })
})

test('the relay policy refuses a quarantined device its publishes only, and lets a throttled IP one frame per interval', () => {
  const log = ResponseLog.open(join(dir, 'policy.jsonl'))
  log.record({ action: 'quarantine', entity: 'device:0xd1', at: 0 })
  log.record({ action: 'throttle', entity: 'ip:10.0.0.9', at: 0, until: 60_000 })
  const policy = relayIdsPolicy({ log, intervalMs: 10_000 })
  const d1 = { ip: '10.0.0.1', deviceId: '0xd1' as const }
  expect(policy.refusal(d1, 'publish', 1)).toBe('RELAY_QUARANTINED')
  expect(policy.refusal(d1, 'leaf', 1)).toBe('RELAY_QUARANTINED')
  expect(policy.refusal(d1, 'subscribe', 1)).toBeUndefined()
  const attacker = { ip: '10.0.0.9', deviceId: undefined }
  expect([1000, 2000, 11_000, 12_000, 70_000].map((t) => policy.refusal(attacker, 'auth', t))).toEqual([
    undefined,
    'RELAY_RATE_LIMITED',
    undefined,
    'RELAY_RATE_LIMITED',
    undefined, // the throttle ended
  ])
})

test('the live IDS turns an alert into the configured response, in its response log', async () => {
  const ids = startLiveIds({
    dir: join(dir, 'live'),
    config: { warmupMs: 0 },
    response: { quarantine: ['replay-flood'] },
    writeEvents: false,
  })
  ids.sink.emit({
    v: 1,
    t: 1000,
    src: 'client',
    kind: 'verify-fail',
    device: 'r',
    sender: 's',
    reason: 'replayed',
  })
  ids.drain()
  expect(ids.responses.quarantines()).toMatchObject([{ entity: 'device:s', category: 'replay-flood' }])
  await ids.stop()
  expect(ResponseLog.open(join(dir, 'live', IDS_FILES.responses)).isQuarantined('device:s')).toBe(true)
})
