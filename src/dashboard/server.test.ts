/** The dashboard server: schema-checked events, SSE replay then live, a per-run token on the stream. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DashboardNotBuiltError } from './errors.js'
import type { DashboardEvent } from './events.js'
import { DashboardHub, startDashboardServer } from './server.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sealpost-dash-'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Sealpost</title>')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const alert = (code: string): DashboardEvent => ({
  type: 'alert',
  at: 1,
  source: 'client',
  severity: 'critical',
  code,
  message: 'refused',
})

/** Reads SSE `data:` events from `url` until `count` arrived. */
async function readEvents(url: string, count: number): Promise<unknown[]> {
  const res = await fetch(url)
  const reader = res.body?.getReader()
  const events: unknown[] = []
  let buffer = ''
  while (reader && events.length < count) {
    const { value, done } = await reader.read()
    if (done) break
    buffer += new TextDecoder().decode(value)
    const parts = buffer.split('\n\n')
    buffer = parts.pop() ?? ''
    for (const part of parts) if (part.startsWith('data: ')) events.push(JSON.parse(part.slice(6)))
  }
  await reader?.cancel()
  return events
}

describe('DashboardHub', () => {
  test('drops events that do not match the schema and bounds its history', () => {
    const hub = new DashboardHub({ limit: 3 })
    hub.emit({ type: 'alert', at: 1 } as never)
    hub.emit({ ...alert('A'), message: 'x'.repeat(10_000) } as DashboardEvent)
    expect(hub.invalid).toBe(2)
    for (const code of ['A', 'B', 'C', 'D']) hub.emit(alert(code))
    expect(hub.replay().map((e) => (e.type === 'alert' ? e.code : ''))).toEqual(['B', 'C', 'D'])
  })

  test('keeps key changes for late joiners, and only the newest safety number per contact and client', () => {
    const hub = new DashboardHub({ limit: 1 })
    const account = `0x${'b'.repeat(40)}` as const
    const number = (block: string, observer: string): DashboardEvent => ({
      type: 'safetyNumber',
      at: 1,
      account,
      safetyNumber: '12345 '.repeat(12).trim(),
      block,
      devices: 1,
      observer,
    })
    hub.emit({
      type: 'keyChange',
      at: 1,
      account,
      kind: 'added',
      added: [`0x${'1'.repeat(64)}`],
      revoked: [],
      block: '5',
      tx: `0x${'7'.repeat(64)}`,
      safetyNumberBefore: '1',
      safetyNumberAfter: '2',
      observer: 'Alice',
    })
    for (const [block, observer] of [
      ['5', 'Alice'],
      ['6', 'Alice'],
      ['6', 'Carol'],
    ] as const)
      hub.emit(number(block, observer))
    for (const code of ['A', 'B']) hub.emit(alert(code))
    expect(
      hub.replay().map((e) => (e.type === 'safetyNumber' ? `${e.observer}@${e.block}` : e.type)),
    ).toEqual(['keyChange', 'Alice@6', 'Carol@6', 'alert'])
  })
})

describe('startDashboardServer', () => {
  test('replays the history, then streams live events', async () => {
    const hub = new DashboardHub()
    hub.emit(alert('EARLIER'))
    const server = await startDashboardServer({ hub, staticDir: dir })
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{24}$/)
      const reading = readEvents(new URL(`/events?token=${server.token}`, server.url).toString(), 2)
      await new Promise((r) => setTimeout(r, 100))
      hub.emit(alert('LATER'))
      expect((await reading).map((e) => (e as { code: string }).code)).toEqual(['EARLIER', 'LATER'])
      const page = await fetch(server.url)
      expect(await page.text()).toContain('<title>Sealpost</title>')
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'")
    } finally {
      await server.stop()
    }
  })

  test('a non-loopback bind requires the token too, and answers to IP literals', async () => {
    const hub = new DashboardHub()
    const server = await startDashboardServer({ hub, staticDir: dir, host: '0.0.0.0' })
    try {
      expect(server.token).toMatch(/^[A-Za-z0-9_-]{24}$/)
      const port = new URL(server.url).port
      expect((await fetch(`http://127.0.0.1:${port}/events`)).status).toBe(401)
      expect((await fetch(`http://127.0.0.1:${port}/events?token=wrong`)).status).toBe(401)
      const ok = await fetch(`http://127.0.0.1:${port}/events?token=${server.token}`)
      expect(ok.status).toBe(200)
      await ok.body?.cancel()
    } finally {
      await server.stop()
    }
  })

  test('refuses to start without a built web app', async () => {
    await expect(
      startDashboardServer({ hub: new DashboardHub(), staticDir: join(dir, 'missing') }),
    ).rejects.toBeInstanceOf(DashboardNotBuiltError)
  })
})
