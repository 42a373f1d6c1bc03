/** The trace generator is deterministic and labels its attacks; the rules have precision 1.0 on a small trace. */
import { createHash } from 'node:crypto'
import { expect, test } from 'vitest'
import { decodeIdsEvent } from '../../src/ids/events.js'
import { recordAlerts } from './evaluate.js'
import { ATTACK_KINDS, generateTrace } from './simulate.js'

const small = { days: 2, devices: 150, attacksPerKind: 1 }
const digest = (seed: number) =>
  createHash('sha256')
    .update(JSON.stringify(generateTrace({ seed, ...small }).events))
    .digest('hex')

test('same seed, same trace; another seed, another trace; every event decodes; every kind is labelled', () => {
  expect(digest(7)).toBe(digest(7))
  expect(digest(8)).not.toBe(digest(7))
  const { events, labels } = generateTrace({ seed: 7, ...small })
  for (let i = 0; i < events.length; i += 20) decodeIdsEvent(events[i])
  expect(new Set(labels.attacks.map((a) => a.kind))).toEqual(new Set(ATTACK_KINDS))
  expect(ATTACK_KINDS.length).toBeGreaterThanOrEqual(10)
  expect(labels.attacks.every((a) => a.start < a.end && a.entities.length > 0)).toBe(true)
})

test('on a small trace every rule alert is an attack (precision 1.0) and every rule-kind attack is caught', {
  timeout: 60_000,
}, () => {
  const trace = generateTrace({ seed: 7, ...small })
  const rules = recordAlerts(trace).filter((a) => a.detector.type === 'rule' && a.severity !== 'info')
  expect(rules.length).toBeGreaterThan(0)
  const matches = (a: (typeof rules)[number]) =>
    trace.labels.attacks.some(
      (l) =>
        l.kind === a.category &&
        a.at >= l.start &&
        a.at <= l.end + 3600_000 &&
        a.entities.some((e) => l.entities.includes(e)),
    )
  expect(rules.filter((a) => !matches(a))).toEqual([])
  for (const kind of ['replay-flood', 'revoked-key-use', 'anchor-front-running'] as const)
    expect(
      rules.some((a) => a.category === kind),
      kind,
    ).toBe(true)
})
