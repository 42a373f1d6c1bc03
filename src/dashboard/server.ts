/** The dashboard server: a bounded event hub, an SSE stream behind a per-run token, and the built web app. */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { extname, join, normalize, resolve } from 'node:path'
import { checkDashboardAccess } from './access.js'
import { DashboardNotBuiltError } from './errors.js'
import { type DashboardEvent, dashboardEventSchema } from './events.js'
import { DASHBOARD_SPONSOR_PATH, dashboardSponsorUrl, forwardSponsorRequest } from './sponsorForward.js'

/** Event types that describe the world rather than a moment; the hub keeps all of them for late joiners. */
const STICKY = new Set(['hello', 'participant', 'device', 'keyChange', 'safetyNumber'])

/**
 * Holds the recent history (bounded) and fans events out to connected browsers. Every event is validated against
 * the schema before it is kept or sent; an invalid one is counted and dropped.
 *
 * @example const hub = new DashboardHub(); hub.emit({ type: 'alert', at: Date.now(), ... })
 */
export class DashboardHub {
  readonly #history: DashboardEvent[] = []
  readonly #sticky: DashboardEvent[] = []
  readonly #listeners = new Set<(event: DashboardEvent, json: string) => void>()
  readonly #limit: number
  /** Events refused by the schema. */
  invalid = 0

  constructor({ limit = 20_000 }: { limit?: number } = {}) {
    this.#limit = limit
  }

  emit(event: DashboardEvent): void {
    const parsed = dashboardEventSchema.safeParse(event)
    if (!parsed.success) {
      this.invalid++
      return
    }
    const value = parsed.data
    if (value.type === 'group') {
      // A group's newest state per reporting device is what a late joiner needs; older ones are replaced.
      const i = this.#sticky.findIndex((e) => e.type === 'group' && e.id === value.id && e.by === value.by)
      if (i >= 0) this.#sticky.splice(i, 1)
      this.#sticky.push(value)
    } else if (value.type === 'safetyNumber') {
      // Only a contact's newest safety number per reporting client matters to a late joiner.
      const i = this.#sticky.findIndex(
        (e) => e.type === 'safetyNumber' && e.account === value.account && e.observer === value.observer,
      )
      if (i >= 0) this.#sticky.splice(i, 1)
      this.#sticky.push(value)
    } else if (STICKY.has(value.type)) this.#sticky.push(value)
    else {
      this.#history.push(value)
      if (this.#history.length > this.#limit) this.#history.splice(0, this.#history.length - this.#limit)
    }
    const json = JSON.stringify(value)
    for (const listener of this.#listeners) listener(value, json)
  }

  /**
   * Sticky events first (hello, participants, devices, key changes, each group's newest state and each contact's newest
   * safety number per client), then the recent history in order.
   */
  replay(): DashboardEvent[] {
    return [...this.#sticky, ...this.#history]
  }

  subscribe(listener: (event: DashboardEvent, json: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

/** Options of `startDashboardServer()`. */
export type DashboardServerOptions = {
  hub: DashboardHub
  /** Default 127.0.0.1. */
  host?: string | undefined
  /** Default 0 (a free port). */
  port?: number | undefined
  /** This run's access token for the event stream; a random 18-byte one is generated when none is given. */
  token?: string | undefined
  /** Called with every refused request (also reported to the hub as an alert, at most once a minute per code). */
  onRefused?: ((error: Error & { code: string; status: number }) => void) | undefined
  /**
   * Where `POST /sponsor` forwards wallet-signed registry operations (the Keys tab's "approve a device"). Default: the
   * sponsor of the relay named by the newest `hello` event.
   */
  sponsorUrl?: string | undefined
  /** Directory of the built web app. Default `web/dist` of this package. */
  staticDir?: string | undefined
}

/** A running dashboard server. */
export type DashboardServer = {
  /** The URL to open: `http://host:port/#token=…` (the fragment never reaches a server, a log or a Referer). */
  url: string
  token: string
  server: Server
  stop(): Promise<void>
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
}

/** One header as a string (the first value of a repeated one). */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

/**
 * Serves the dashboard: the static app, `/events` as Server-Sent Events (history replay, then live), and
 * `POST /sponsor`, forwarded to the relay's sponsor (`forwardSponsorRequest`, token required). Bound to
 * 127.0.0.1 by default. Every request is checked first (`checkDashboardAccess`): a foreign Host (DNS rebinding) or
 * Origin gets 403, the event stream without this run's token (`?token=` or `Authorization: Bearer`) gets 401,
 * each with its `SEALPOST_DASHBOARD_*` code as JSON.
 *
 * @example const { url } = await startDashboardServer({ hub, port: 8788 })
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1'
  const token = options.token ?? randomBytes(18).toString('base64url')
  const root = resolve(options.staticDir ?? join(import.meta.dirname, '..', '..', 'web', 'dist'))
  if (!existsSync(join(root, 'index.html'))) throw new DashboardNotBuiltError({ dir: root })
  const streams = new Set<ServerResponse>()

  const server = createServer((req, res) => {
    try {
      handle(req, res)
    } catch {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    }
  })

  let port = 0
  const lastAlert = new Map<string, number>()
  const refuse = (res: ServerResponse, error: Error & { code: string; status: number }) => {
    options.onRefused?.(error)
    const now = Date.now()
    if (now - (lastAlert.get(error.code) ?? 0) >= 60_000) {
      lastAlert.set(error.code, now)
      options.hub.emit({
        type: 'alert',
        at: now,
        source: 'dashboard',
        severity: 'warning',
        code: error.code,
        message: error.message.split('\n').slice(0, 3).join(' ').slice(0, 512),
      })
    }
    res.writeHead(error.status, { 'content-type': 'application/json', ...SECURITY_HEADERS })
    res.end(JSON.stringify({ error: { name: error.name, code: error.code } }))
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://dashboard')
    const security = SECURITY_HEADERS
    const refusal = checkDashboardAccess(
      {
        pathname: url.pathname,
        queryToken: url.searchParams.get('token'),
        headers: {
          host: req.headers.host,
          origin: req.headers.origin,
          authorization: req.headers.authorization,
          'sec-fetch-site': header(req, 'sec-fetch-site'),
        },
      },
      { host, port, token },
    )
    if (refusal) {
      refuse(res, refusal)
      return
    }
    if (url.pathname === DASHBOARD_SPONSOR_PATH) {
      const hello = options.hub.replay().findLast((e) => e.type === 'hello')
      const relay = hello?.type === 'hello' ? hello.relay : undefined
      forwardSponsorRequest(req, res, {
        token,
        sponsorUrl: dashboardSponsorUrl(options.sponsorUrl, relay),
        headers: security,
      })
      return
    }
    if (req.method !== 'GET') {
      res.writeHead(405, security)
      res.end()
      return
    }
    if (url.pathname === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        ...security,
      })
      res.write('retry: 1000\n\n')
      for (const event of options.hub.replay()) res.write(`data: ${JSON.stringify(event)}\n\n`)
      const unsubscribe = options.hub.subscribe((_event, json) => {
        // A browser that cannot keep up loses live events (the history is bounded anyway), never the server.
        if (res.writableLength < 8 * 1024 * 1024) res.write(`data: ${json}\n\n`)
      })
      streams.add(res)
      req.on('close', () => {
        unsubscribe()
        streams.delete(res)
      })
      return
    }
    const path = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '')
    let file = join(root, path === '/' ? 'index.html' : path)
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory())
      file = join(root, 'index.html')
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': file.endsWith('index.html') ? 'no-store' : 'public, max-age=3600',
      ...security,
    })
    res.end(readFileSync(file))
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolveListen())
  })
  const address = server.address()
  port = typeof address === 'object' && address ? address.port : 0
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  const url = `http://${shownHost}:${port}/#token=${token}`
  return {
    url,
    token,
    server,
    async stop() {
      for (const res of streams) res.end()
      const closed = new Promise<void>((r) => server.close(() => r()))
      server.closeAllConnections()
      await closed
    },
  }
}
