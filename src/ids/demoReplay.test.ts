/** Replays the IDS event stream recorded from a real `sealpost up --demo` run (scripts/record-ids-demo.ts) through the engine. */
import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { IdsEngine } from './engine.js'

const FIXTURE = new URL('../../test/fixtures/ids/up-demo.events.jsonl', import.meta.url)
const lines = readFileSync(FIXTURE, 'utf8').trim().split('\n')
const events = lines.map(
  (l) => JSON.parse(l) as { src: string; kind: string; reason?: string; device?: string },
)

test('the recorded stream is valid and holds the traces of every scripted attack and of the phone lifecycle', () => {
  const engine = new IdsEngine({}, {})
  for (const [i, e] of events.entries()) expect(engine.ingestUnknown(e, i + 1).ok).toBe(true)
  expect(engine.stats).toMatchObject({ ingested: lines.length, malformed: 0, outOfOrder: 0, shed: 0 })
  const refusals = new Set(events.filter((e) => e.kind === 'verify-fail').map((e) => e.reason))
  // Mallory's tampered ciphertext (forged), the planted group, Carol's forged commit and the revoked phone's message
  // (policy), Rita's reused sequence number (stale-seq).
  expect(refusals).toEqual(new Set(['forged', 'policy', 'stale-seq']))
  const chain = events.filter((e) => e.src === 'chain').map((e) => e.kind)
  expect(chain).toContain('device-rotated') // Alice's phone: linked, rotated, revoked
  expect(chain.filter((k) => k === 'device-revoked')).toHaveLength(2)
})

test('with the default warm-up (a fresh relay), only rules fire: forgery and policy alerts, each its own incident, none from honest relay traffic', () => {
  const engine = new IdsEngine({}, {})
  for (const e of events) engine.ingestUnknown(e)
  engine.flush()
  const alerts = engine.alerts()
  expect(alerts.every((a) => a.detector.type === 'rule')).toBe(true)
  expect(new Set(alerts.map((a) => a.category))).toEqual(new Set(['forgery', 'policy-violation']))
  // Refusals whose sender the checks never reached name `device:unknown`; that placeholder joins no incidents.
  expect(
    engine
      .incidents()
      .map((i) => i.kind)
      .sort(),
  ).toEqual(['forgery', 'policy-violation'])
  const receivers = new Set(alerts.map((a) => `device:${a.evidence.receiver}`))
  // Every device an alert names refused a message (or is the unknown sender): no publisher is flagged for its traffic.
  for (const a of alerts)
    for (const entity of a.entities) expect(receivers.has(entity) || entity === 'device:unknown').toBe(true)
})
