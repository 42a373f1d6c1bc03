import { describe, expect, test } from 'vitest'
import { IdsEngine } from './engine.js'
import { IdsEventMalformedError, IdsEventOutOfOrderError } from './errors.js'
import { decodeIdsEvent, type IdsEvent, parseIdsEventLine } from './events.js'

const publish = (t: number, device = 'd1'): IdsEvent => ({
  v: 1,
  t,
  src: 'relay',
  kind: 'publish',
  device,
  account: 'a1',
  topic: 'grp-1',
  recipients: 4,
  bytes: 300,
})

describe('IDS event schema', () => {
  test('decodes every source and refuses unknown keys, kinds and wrong types with a typed error', () => {
    expect(decodeIdsEvent(publish(5)).kind).toBe('publish')
    expect(parseIdsEventLine('{"v":1,"t":9,"src":"chain","kind":"reorg","depth":2,"block":7}').kind).toBe(
      'reorg',
    )
    const bad = [
      { ...publish(1), plaintext: 'hello' }, // metadata only: no room for content
      { ...publish(1), kind: 'teleport' },
      { ...publish(1), recipients: -1 },
      { v: 2, t: 1, src: 'chain', kind: 'reorg', depth: 1, block: 1 },
      'not an object',
    ]
    for (const value of bad) expect(() => decodeIdsEvent(value)).toThrow(IdsEventMalformedError)
    const err = (() => {
      try {
        parseIdsEventLine('{not json', 12)
      } catch (e) {
        return e as IdsEventMalformedError
      }
    })()
    expect(err?.code).toBe('SEALPOST_IDS_EVENT_MALFORMED')
    expect(err?.metaMessages).toEqual(['Line: 12', 'Problem: not JSON'])
  })

  test('the engine counts and skips malformed and out-of-order events, and survives a clock jump', () => {
    const ids = new IdsEngine({ warmupMs: 0 })
    expect(ids.ingestUnknown({ v: 1, t: 1 }).ok).toBe(false)
    expect(ids.ingestUnknown(publish(3_600_000)).ok).toBe(true)
    const late = ids.ingestUnknown(publish(1000))
    expect(late.ok).toBe(false)
    expect(!late.ok && late.error).toBeInstanceOf(IdsEventOutOfOrderError)
    expect(!late.ok && late.error.code).toBe('SEALPOST_IDS_EVENT_OUT_OF_ORDER')
    // A jump of a year: the windows between are skipped (not scored one by one), and the engine says so.
    const alerts = ids.ingest(publish(3_600_000 + 365 * 86_400_000))
    expect(alerts.map((a) => a.category)).toContain('clock-jump')
    expect(ids.ingest(publish(3_600_000 + 365 * 86_400_000 + 5))).toEqual([])
    expect(ids.stats).toMatchObject({ ingested: 3, malformed: 1, outOfOrder: 1, clockJumps: 1 })
  })
})
