/** `sealpost ids` in process: incidents from an events file, the alert log, a tampered entry, suspects, quarantines. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { sealpostInProcess } from '../../test/utils/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'sealpost-cli-ids-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs `sealpost --home DIR ARGS…` in this process. */
const run = (args: string[]) => sealpostInProcess(['--home', dir, ...args])

test('ids report prints incidents and writes the alert log and OCSF; tail prints it; verify finds a tampered entry', async () => {
  const events = join(dir, 'events.jsonl')
  const log = join(dir, 'alerts.jsonl')
  const ocsf = join(dir, 'alerts.ocsf.jsonl')
  writeFileSync(
    events,
    [
      '{"v":1,"t":1000,"src":"ids","kind":"config","knownAnchorers":["0xanchorer"]}',
      '{"v":1,"t":2000,"src":"chain","kind":"anchor","root":"0x01","submitter":"0xstranger","block":5}',
      'not json',
      '{"v":1,"t":3000,"src":"client","kind":"verify-fail","device":"d1","sender":"d2","reason":"replayed","envelope":"0xee"}',
    ].join('\n'),
  )
  const report = await run(['ids', 'report', '--events', events, '--log', log, '--ocsf', ocsf])
  expect(report.code).toBe(0)
  expect(report.stdout).toContain(
    '3 events (1 malformed, 0 out of order, 0 shed, 0 clock jumps), 2 alerts, 2 incidents',
  )
  expect(report.stdout).toContain('skipped line 3: SEALPOST_IDS_EVENT_MALFORMED')
  expect(report.stdout).toMatch(/high +anchor-front-running .* submitter:0xstranger/)
  // The alert's entity is the sender (d2) alone; the refusing device (d1) is evidence, not a party to the incident.
  expect(report.stdout).toMatch(/high +replay-flood .* device:d2 +\(1 alerts: rule:replay\)/)
  expect(
    readFileSync(ocsf, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).class_uid),
  ).toEqual([2004, 2004])

  const tail = await run(['ids', 'tail', '--log', log, '--once'])
  expect(tail.stdout.trim().split('\n')).toHaveLength(2)
  expect((await run(['ids', 'verify', '--log', log])).stdout).toContain('2 entries, chain intact')

  writeFileSync(log, readFileSync(log, 'utf8').replace('"high"', '"low"'))
  const verify = await run(['ids', 'verify', '--log', log])
  expect(verify.code).toBe(1)
  expect(verify.stderr).toContain('IdsAlertLogTamperedError [SEALPOST_IDS_ALERT_LOG_TAMPERED]')
})

test('ids suspects marks, lists and clears a contact; ids quarantine lists none on a fresh relay home', async () => {
  const account = '0x00000000000000000000000000000000000000aa'
  const marked = await run([
    'ids',
    'suspects',
    '--mark',
    account,
    '--reason',
    'alert a-7: compromised-device',
  ])
  expect(marked.code).toBe(0)
  expect(marked.stdout).toMatch(new RegExp(`${account}  since .*  alert a-7: compromised-device \\(user\\)`))
  expect((await run(['ids', 'suspects'])).stdout).toContain('1 suspicious contact\n')
  expect((await run(['ids', 'suspects', '--clear', account])).stdout).toContain('0 suspicious contacts')
  const again = await run(['ids', 'suspects', '--clear', account])
  expect(again.code).toBe(1)
  expect(again.stderr).toContain('is not marked suspicious')
  expect((await run(['ids', 'quarantine', 'list'])).stdout).toContain('0 quarantined')
})
