import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { AlertLog, LABEL_IDS_ALERT, verifyAlertLog } from './alertLog.js'
import type { Alert } from './alerts.js'
import { IdsAlertLogTamperedError } from './errors.js'
import { toOcsfDetectionFinding } from './ocsf.js'

const dir = mkdtempSync(join(tmpdir(), 'sealpost-ids-log-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const alert = (n: number): Alert => ({
  id: `a-${n}`,
  at: 1_700_000_000_000 + n,
  severity: 'high',
  category: 'replay-flood',
  detector: { type: 'rule', name: 'replay' },
  score: 1,
  entities: ['device:d1', 'device:d2'],
  summary: 'd2 refused a replayed message from d1',
  evidence: { envelopes: [`0x${'ab'.repeat(32)}`], receiver: 'd2' },
})

test('the alert log chains entries with sha256 under its own label, continues after reopening, and finds a tampered entry', () => {
  expect(LABEL_IDS_ALERT).toBe('sealpost/v1/ids-alert')
  const path = join(dir, 'alerts.jsonl')
  const log = AlertLog.open(path)
  log.append(alert(1))
  log.append(alert(2))
  const again = AlertLog.open(path)
  expect(again.head).toBe(log.head)
  again.append(alert(3))
  const entries = verifyAlertLog(readFileSync(path, 'utf8'))
  expect(entries.map((e) => e.index)).toEqual([0, 1, 2])
  expect(entries[1]?.prevHash).toBe(entries[0]?.hash)

  const lines = readFileSync(path, 'utf8').trim().split('\n')
  const tampered = lines.map((l, i) => (i === 1 ? l.replace('"high"', '"low"') : l)).join('\n')
  expect(() => verifyAlertLog(tampered)).toThrow(IdsAlertLogTamperedError)
  try {
    verifyAlertLog(tampered)
  } catch (e) {
    expect((e as IdsAlertLogTamperedError).code).toBe('SEALPOST_IDS_ALERT_LOG_TAMPERED')
    expect((e as IdsAlertLogTamperedError).metaMessages).toEqual(['Entry: 1', 'Problem: hash mismatch'])
  }
  // Dropping an entry breaks the chain too.
  expect(() => verifyAlertLog([lines[0], lines[2]].join('\n'))).toThrow(/does not verify/)
  writeFileSync(path, tampered)
  expect(() => AlertLog.open(path)).toThrow(IdsAlertLogTamperedError)
})

test('an alert exports as an OCSF Detection Finding', () => {
  const f = toOcsfDetectionFinding(alert(1), '0.1.0')
  expect(f).toMatchObject({
    class_uid: 2004,
    category_uid: 2,
    activity_id: 1,
    type_uid: 200401,
    severity_id: 4,
    time: 1_700_000_000_001,
    finding_info: { uid: 'a-1', types: ['replay-flood'], analytic: { name: 'replay', type_id: 1 } },
    metadata: { product: { name: 'Sealpost IDS' } },
  })
})
