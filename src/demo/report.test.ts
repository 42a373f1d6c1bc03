/** The demo's report: a step passes only on the expected rejection, and the summary fails on any failed step. */
import { expect, test } from 'vitest'
import { ReplayError, StaleSequenceError } from '../client/verificationErrors.js'
import { createDemoReport, expectRejection, recordFailure } from './report.js'

const quiet = () => {
  const lines: string[] = []
  return { lines, out: { info: (line: string) => lines.push(line), step: () => () => undefined } }
}

test('expectRejection passes on the expected error and fails on acceptance or another error', async () => {
  const { lines, out } = quiet()
  const report = createDemoReport(out)
  await expectRejection(
    report,
    'replay',
    () => Promise.reject(new ReplayError({ verdict: 'accepted' })),
    ReplayError,
  )
  await expectRejection(report, 'accepted', () => Promise.resolve(), ReplayError)
  await expectRejection(
    report,
    'other',
    () => Promise.reject(new StaleSequenceError({ seq: 1n, last: 3n })),
    ReplayError,
  )
  expect(report.summary().steps.map((s) => [s.name, s.ok])).toEqual([
    ['replay', true],
    ['accepted', false],
    ['other', false],
  ])
  expect(report.summary().steps[0]?.detail).toBe('rejected with ReplayError [SEALPOST_REPLAY]')
  expect(report.summary().steps[1]?.detail).toBe('accepted, but ReplayError was expected')
  expect(lines[0]).toBe('✓ replay: rejected with ReplayError [SEALPOST_REPLAY]')
  expect(report.summary().ok).toBe(false)
})

test('expectRejection with a list passes on any of its errors and names them all on acceptance', async () => {
  const report = createDemoReport(quiet().out)
  const either = [ReplayError, StaleSequenceError] as const
  await expectRejection(
    report,
    'stale',
    () => Promise.reject(new StaleSequenceError({ seq: 1n, last: 3n })),
    either,
  )
  await expectRejection(report, 'accepted', () => Promise.resolve(), either)
  expect(report.summary().steps).toEqual([
    { name: 'stale', ok: true, detail: 'rejected with StaleSequenceError [SEALPOST_STALE_SEQ]' },
    { name: 'accepted', ok: false, detail: 'accepted, but ReplayError or StaleSequenceError was expected' },
  ])
})

test('the summary is ok only with at least one step and no failure', () => {
  const report = createDemoReport(quiet().out)
  expect(report.summary().ok).toBe(false)
  report.record('start chain', true, 'anvil')
  expect(report.summary().ok).toBe(true)
  recordFailure(report, new Error('boom'))
  expect(report.summary()).toMatchObject({
    ok: false,
    steps: [{ ok: true }, { name: 'unexpected failure', ok: false }],
  })
})
