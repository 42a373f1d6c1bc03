/** The IDS collector: live IDS alerts become Alerts-tab rows with their incident. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { startLiveIds } from '../../ids/liveIds.js'
import { type DashboardEvent, dashboardEventSchema } from '../events.js'
import { attachIds } from './ids.js'

test('a revoked device and an unknown anchorer are two incidents; a second alert on the same device joins the first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-dash-ids-'))
  const ids = startLiveIds({ dir, config: { knownAnchorers: ['0xgood'] }, writeEvents: false })
  const shown: DashboardEvent[] = []
  const detach = attachIds((e) => shown.push(dashboardEventSchema.parse(e)), ids)
  const t = 1_700_000_000_000
  ids.sink.emit({
    v: 1,
    t,
    src: 'relay',
    kind: 'auth',
    device: 'd1',
    ip: '10.0.0.1',
    ok: false,
    reason: 'revoked',
  })
  ids.sink.emit({ v: 1, t: t + 1, src: 'chain', kind: 'anchor', root: '0xr', submitter: '0xbad', block: 5 })
  ids.sink.emit({
    v: 1,
    t: t + 2,
    src: 'relay',
    kind: 'publish',
    device: 'd1',
    account: 'a1',
    topic: 'x',
    recipients: 1,
    bytes: 9,
  })
  ids.sink.emit({
    v: 1,
    t: t + 2,
    src: 'client',
    kind: 'verify-fail',
    device: 'd9',
    sender: 'd1',
    reason: 'forged',
  })
  ids.sink.emit({
    v: 1,
    t: t + 3,
    src: 'chain',
    kind: 'device-revoked',
    account: 'a1',
    device: 'd2',
    submitter: 's',
    block: 6,
  })
  ids.sink.emit({ v: 1, t: t + 4, src: 'relay', kind: 'auth', device: 'd2', ip: '10.0.0.9', ok: true })
  ids.drain()
  detach()
  await ids.stop()
  rmSync(dir, { recursive: true, force: true })
  expect(shown.map((e) => e.type === 'alert' && [e.code, e.severity, e.incident])).toEqual([
    ['revoked-key-use', 'critical', 'incident-1'],
    ['anchor-front-running', 'critical', 'incident-2'],
    ['forgery', 'critical', 'incident-1'],
    ['revoked-key-use', 'critical', 'incident-3'],
  ])
})
