import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { IdsEngine } from './engine.js'
import { IdsStateInvalidError } from './errors.js'
import type { IdsEvent } from './events.js'
import { loadIdsState, saveIdsState } from './state.js'

const dir = mkdtempSync(join(tmpdir(), 'sealpost-ids-engine-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const H = 3600_000
/** Two days of 40 devices in working hours, then one device pulls far more history than it ever did. */
function events(): IdsEvent[] {
  const out: IdsEvent[] = [{ v: 1, t: 0, src: 'ids', kind: 'config', knownAnchorers: ['0xanchorer'] }]
  for (let h = 0; h < 48; h++) {
    const busy = h % 24 >= 8 && h % 24 < 18
    for (let d = 0; d < 40; d++) {
      if (!busy) continue
      const t = h * H + d * 60_000
      out.push({
        v: 1,
        t,
        src: 'relay',
        kind: 'publish',
        device: `d${d}`,
        account: `a${d}`,
        topic: `grp-${d % 5}`,
        recipients: 8,
        bytes: 400,
      })
      if (h % 24 === 8)
        out.push({
          v: 1,
          t: t + 1,
          src: 'relay',
          kind: 'fetch',
          device: `d${d}`,
          topic: `grp-${d % 5}`,
          count: 20 + (d % 7),
        })
    }
    out.push({
      v: 1,
      t: h * H + 30 * 60_000,
      src: 'chain',
      kind: 'anchor',
      root: `0x${h}`,
      submitter: '0xanchorer',
      block: h,
    })
  }
  const t = 40 * H + 15 * 60_000
  out.push({ v: 1, t, src: 'relay', kind: 'fetch', device: 'd3', topic: 'grp-3', count: 5000 })
  out.push({
    v: 1,
    t: t + 1000,
    src: 'chain',
    kind: 'anchor',
    root: '0xfront',
    submitter: '0xstranger',
    block: 99,
  })
  out.push({
    v: 1,
    t: t + 2000,
    src: 'client',
    kind: 'verify-fail',
    device: 'd1',
    sender: 'd2',
    reason: 'replayed',
    envelope: '0xee',
  })
  return out.sort((a, b) => a.t - b.t)
}

describe('IdsEngine', () => {
  test('rules fire on what is wrong by definition, the models on a device far above its baseline; one incident each', () => {
    const ids = new IdsEngine()
    for (const e of events()) ids.ingest(e)
    ids.flush()
    const kinds = ids.incidents().map((i) => `${i.kind} ${i.entities.join(',')}`)
    expect(kinds).toEqual([
      'anchor-front-running submitter:0xstranger',
      'replay-flood device:d2', // the sender; the refusing device d1 is a target, in the evidence only
      'exfiltration device:d3',
    ])
    const exfil = ids.alerts().find((a) => a.category === 'exfiltration')
    expect(exfil?.evidence).toMatchObject({ count: 5000 })
  })

  test('a restart with the state restored from disk continues exactly where the first run stopped', () => {
    const all = events()
    const whole = new IdsEngine()
    for (const e of all) whole.ingest(e)
    whole.flush()
    const half = Math.floor(all.length * 0.7)
    const first = new IdsEngine()
    for (const e of all.slice(0, half)) first.ingest(e)
    const path = join(dir, 'state.json')
    saveIdsState(path, first.exportState())
    const second = new IdsEngine({}, { state: loadIdsState(path) })
    for (const e of all.slice(half)) second.ingest(e)
    second.flush()
    const after = whole.alerts().filter((a) => Number(a.id.slice(2)) > first.stats.alerts)
    expect(second.alerts()).toEqual(after)
    expect(second.alerts().length).toBeGreaterThan(0)
    expect(second.stats.ingested).toBe(whole.stats.ingested)
    expect(() => new IdsEngine({}, { state: { version: 2 } as never })).toThrow(IdsStateInvalidError)
  })

  test('a flood far beyond the budget is shed and reported, rules still run, and the next window is normal', () => {
    const ids = new IdsEngine({ maxEventsPerWindow: 1000, knownAnchorers: ['0xanchorer'] })
    for (let i = 0; i < 20_000; i++)
      ids.ingest({
        v: 1,
        t: i * 10,
        src: 'relay',
        kind: 'publish',
        device: `flood-${i}`,
        account: 'x',
        topic: `t${i}`,
        recipients: 1,
        bytes: 1,
      })
    const rule = ids.ingest({
      v: 1,
      t: 200_001,
      src: 'chain',
      kind: 'anchor',
      root: '0x1',
      submitter: '0xother',
      block: 1,
    })
    expect(rule.map((a) => a.category)).toEqual(['anchor-front-running'])
    const closed = ids.ingest({
      v: 1,
      t: 700_000,
      src: 'relay',
      kind: 'publish',
      device: 'd1',
      account: 'a',
      topic: 't',
      recipients: 1,
      bytes: 1,
    })
    const shed = closed.find((a) => a.category === 'load-shedding')
    expect(shed?.evidence).toMatchObject({ shed: 19_000, processed: 1001 })
    expect(ids.stats.shed).toBe(19_000)
    expect(ids.stats.ingested).toBe(20_002)
  })

  test('a flood of distinct device ids and IPs is evicted least recent first; the tables stay bounded, detection goes on', () => {
    const flood: IdsEvent[] = []
    for (let h = 25; h < 30; h++)
      for (let i = 0; i < 200; i++) {
        const t = h * H + i * 18_000 // about 33 new devices a window
        const n = h * 1000 + i
        flood.push(
          {
            v: 1,
            t,
            src: 'relay',
            kind: 'publish',
            device: `flood-${n}`,
            account: `fa-${n}`,
            topic: `ft-${n}`,
            recipients: 1,
            bytes: 1,
          },
          { v: 1, t: t + 1, src: 'relay', kind: 'auth', device: `flood-${n}`, ip: `ip-${n}`, ok: false },
        )
      }
    // d0 works nights: it publishes every 10 minutes through the flood, so it is never the quietest.
    for (let t = 25 * H; t < 30 * H; t += 600_000)
      flood.push({
        v: 1,
        t: t + 500,
        src: 'relay',
        kind: 'publish',
        device: 'd0',
        account: 'a0',
        topic: 'grp-0',
        recipients: 8,
        bytes: 400,
      })
    const ids = new IdsEngine({ maxEntities: 60 })
    for (const e of [...events(), ...flood].sort((a, b) => a.t - b.t)) ids.ingest(e)
    ids.flush()
    const state = ids.exportState()
    expect(state.devices.length).toBeLessThanOrEqual(60)
    expect(state.peers.length).toBeLessThanOrEqual(60)
    for (const b of Object.values(state.baselines)) expect(b.stats.length).toBeLessThanOrEqual(60)
    for (const c of Object.values(state.carry)) expect(c.length).toBeLessThanOrEqual(60)
    expect(ids.stats.evicted).toBeGreaterThan(1000)
    // The organisation's own devices, active again after the flood, are the ones kept; d0 was never dropped (its
    // baseline counts every window since the start), d1 was, while it was quiet and the flood was not.
    expect(state.devices.filter((d) => d.startsWith('d'))).toHaveLength(40)
    const samples = (device: string) =>
      state.baselines['device.publishes']?.stats.find(([k]) => k === `device:${device}`)?.[1].N ?? 0
    expect(samples('d0')).toBeGreaterThan(40 * 6 - 10) // first seen at 08:00 on day 1: 40 h of windows
    expect(samples('d1')).toBeLessThan(20 * 6) // back at 08:00 on day 2
    expect(ids.incidents().map((i) => `${i.kind} ${i.entities.join(',')}`)).toContain(
      'exfiltration device:d3',
    )
  })
})
