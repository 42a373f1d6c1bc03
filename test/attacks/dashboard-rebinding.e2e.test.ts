/**
 * Attack 10 (issue 9): DNS rebinding and other local readers against the real dashboard server. A page on
 * evil.example that rebinds its name to 127.0.0.1 sends `Host: evil.example`; another web page sends its own
 * `Origin`; any local user can connect without the token. Each is refused with its typed code before a byte of the
 * stream is served, and the URL `sealpost up` prints (token in the #fragment) still works.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { DashboardEvent } from '../../src/dashboard/events.js'
import { DashboardHub, type DashboardServer, startDashboardServer } from '../../src/dashboard/server.js'

const PLAINTEXT = 'the launch code is 0000'
const message: DashboardEvent = {
  type: 'message',
  at: 1,
  id: `0x${'11'.repeat(32)}`,
  conversation: `0x${'22'.repeat(32)}`,
  from: `0x${'33'.repeat(20)}`,
  to: [`0x${'44'.repeat(20)}`],
  state: 'received',
  text: PLAINTEXT,
}

let dir: string
let hub: DashboardHub
let server: DashboardServer
let port: number
let token: string
const refused: string[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealpost-rebind-'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Sealpost</title>')
  hub = new DashboardHub()
  hub.emit(message)
  server = await startDashboardServer({ hub, staticDir: dir, onRefused: (e) => refused.push(e.code) })
  port = Number(new URL(server.url).port)
  // The token as a user gets it: from the fragment of the printed URL, never sent to the server by a browser.
  token = new URLSearchParams(new URL(server.url).hash.slice(1)).get('token') ?? ''
})
afterAll(async () => {
  await server?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** One raw HTTP GET with exactly these headers; reads the body for up to 300 ms (the stream never ends). */
function get(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, setHost: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      const done = () => {
        resolve({ status: res.statusCode ?? 0, body })
        res.destroy()
      }
      res.on('end', done)
      setTimeout(done, 300)
    })
    req.on('error', reject)
    req.end()
  })
}

const code = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code

describe('attack 10: reading the dashboard from somewhere else', () => {
  test('DNS rebinding: a foreign Host is refused with 403 on every path, even with the token', async () => {
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.nip.io:${port}`]) {
      for (const path of ['/', `/events?token=${token}`]) {
        const res = await get(path, { host })
        expect(res.status).toBe(403)
        expect(code(res.body)).toBe('SEALPOST_DASHBOARD_FOREIGN_HOST')
        expect(res.body).not.toContain(PLAINTEXT)
      }
    }
    // The right name on another port is someone else's server, not this one.
    expect((await get('/', { host: `127.0.0.1:${port + 1}` })).status).toBe(403)
  })

  test('a local reader without the token gets 401, with a wrong one too', async () => {
    for (const path of ['/events', '/events?token=', `/events?token=${token.slice(1)}x`]) {
      const res = await get(path, { host: `127.0.0.1:${port}` })
      expect(res.status).toBe(401)
      expect(code(res.body)).toBe('SEALPOST_DASHBOARD_UNAUTHORIZED')
      expect(res.body).not.toContain(PLAINTEXT)
    }
    const bearer = await get('/events', { host: `127.0.0.1:${port}`, authorization: 'Bearer nope' })
    expect(bearer.status).toBe(401)
  })

  test('a cross-origin page is refused with 403, even with the right Host and token', async () => {
    for (const headers of [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { origin: `http://127.0.0.1:${port + 1}` },
      { 'sec-fetch-site': 'cross-site' },
    ]) {
      const res = await get(`/events?token=${token}`, { host: `127.0.0.1:${port}`, ...headers })
      expect(res.status).toBe(403)
      expect(code(res.body)).toBe('SEALPOST_DASHBOARD_FOREIGN_ORIGIN')
      expect(res.body).not.toContain(PLAINTEXT)
    }
  })

  test('every refusal is reported: to the caller and as a dashboard alert', () => {
    expect(new Set(refused)).toEqual(
      new Set([
        'SEALPOST_DASHBOARD_FOREIGN_HOST',
        'SEALPOST_DASHBOARD_UNAUTHORIZED',
        'SEALPOST_DASHBOARD_FOREIGN_ORIGIN',
      ]),
    )
    const alerts = hub.replay().filter((e) => e.type === 'alert' && e.source === 'dashboard')
    expect(alerts.map((e) => (e.type === 'alert' ? e.code : ''))).toEqual([
      'SEALPOST_DASHBOARD_FOREIGN_HOST',
      'SEALPOST_DASHBOARD_UNAUTHORIZED',
      'SEALPOST_DASHBOARD_FOREIGN_ORIGIN',
    ])
  })

  test('the printed URL works: the app, then the stream with the token (same-origin, by name or address)', async () => {
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/#token=[A-Za-z0-9_-]{24}$`))
    const page = await get('/', { host: `127.0.0.1:${port}` })
    expect(page.status).toBe(200)
    expect(page.body).toContain('<title>Sealpost</title>')
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const stream = await get(`/events?token=${token}`, { host, origin: `http://${host}` })
      expect(stream.status).toBe(200)
      expect(stream.body).toContain(PLAINTEXT)
    }
    const bearer = await get('/events', { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` })
    expect(bearer.status).toBe(200)
  })
})
