import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, expect, test } from 'vitest'
import type { Receipt } from '../protocol/receipt.js'
import { alertHeadLeaf, checkAlertAnchors, IDS_ALERT_HEAD_TOPIC } from './alertAnchor.js'
import { AlertLog, LABEL_IDS_ALERT, verifyAlertLog } from './alertLog.js'
import type { Alert } from './alerts.js'
import { IdsAlertLogAnchorError, IdsAlertLogTamperedError, IdsAlertLogTruncatedError } from './errors.js'
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

test('an anchored head is a labelled leaf of size and head; the log must reach it with that hash', () => {
  // Known answer, computed independently (Python hashlib): SHA-256(label ‖ 0x00 ‖ u64be(3) ‖ 0x11 × 32).
  expect(alertHeadLeaf(3, `0x${'11'.repeat(32)}`)).toBe(
    '0x14410dd3447f274561460b6627cd283a0628dc0808cd9f1ba3741b39ddede728',
  )
  expect(IDS_ALERT_HEAD_TOPIC).toBe('0x2d6e4ec60e0e0ca24293b142123925fe3b4244d4f47939538d5998907ea9d1cd')
  const path = join(dir, 'anchored.jsonl')
  const log = AlertLog.open(path)
  for (const n of [1, 2, 3]) log.append(alert(n))
  const entries = verifyAlertLog(readFileSync(path, 'utf8'))
  const head = entries[1]?.hash as string
  const leaf = alertHeadLeaf(2, head)
  // The receipt's chain fields are checked on chain by `sealpost ids verify`; here only its leaf matters.
  const record = { size: 2, head, leaf, receipt: { leaf } as Receipt }
  expect(checkAlertAnchors(entries, [record])).toBe(2)
  expect(() => checkAlertAnchors(entries.slice(0, 1), [record])).toThrow(IdsAlertLogTruncatedError)
  const other = { ...record, head: entries[2]?.hash as string }
  expect(() => checkAlertAnchors(entries, [other])).toThrow(IdsAlertLogAnchorError) // leaf of another head
  const moved = {
    ...other,
    leaf: alertHeadLeaf(2, other.head),
    receipt: { leaf: alertHeadLeaf(2, other.head) as Hex } as Receipt,
  }
  expect(() => checkAlertAnchors(entries, [moved])).toThrow(IdsAlertLogTamperedError)
})
