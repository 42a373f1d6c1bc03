/** `POST /sponsor` on the dashboard: forwards a wallet-signed registry operation to the relay's sponsor (same origin, token required). */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { sponsorUrlOf } from '../chain/sponsor.js'
import { tokenMatches } from './access.js'

/** The dashboard path the web app posts sponsor requests to. @example DASHBOARD_SPONSOR_PATH // '/sponsor' */
export const DASHBOARD_SPONSOR_PATH = '/sponsor'
/** Largest body forwarded (the relay's own limit, protocol §9.9). */
const MAX_BODY_BYTES = 64 * 1024

/**
 * Where to forward: the configured sponsor URL, else the relay of the newest `hello` event (`ws(s)://` → `http(s)://`,
 * `/v1/sponsor`), else none.
 *
 * @example dashboardSponsorUrl(undefined, 'ws://127.0.0.1:8787') // 'http://127.0.0.1:8787/v1/sponsor'
 */
export function dashboardSponsorUrl(
  configured: string | undefined,
  relay: string | undefined,
): string | undefined {
  if (configured) return configured
  return relay ? sponsorUrlOf(relay) : undefined
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
  res.end(JSON.stringify(body))
}

/** Why a forward is refused (status and reason), or undefined when it may go ahead. */
function refusalOf(
  req: IncomingMessage,
  token: string,
  sponsorUrl: string | undefined,
): { status: number; reason: string } | undefined {
  if (req.method !== 'POST') return { status: 405, reason: 'method-not-allowed' }
  const authorization = req.headers.authorization ?? ''
  if (!tokenMatches(authorization.startsWith('Bearer ') ? authorization.slice(7) : '', token))
    return { status: 401, reason: 'unauthorized' }
  if (req.headers['sec-fetch-site'] === 'cross-site') return { status: 403, reason: 'cross-site' }
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json'))
    return { status: 415, reason: 'json-only' }
  if (!sponsorUrl) return { status: 404, reason: 'not-offered' }
  return undefined
}

/**
 * Handles `POST /sponsor`. The browser cannot post to the relay itself: the dashboard's Content-Security-Policy
 * allows `connect-src 'self'` only, and the relay answers no CORS preflight. So the dashboard forwards the body
 * verbatim and answers the relay's status and JSON verbatim. The Host/Origin check has already passed; on top, the
 * request needs this run's token (`Authorization: Bearer`), `content-type: application/json` (a cross-site form
 * cannot send it without a preflight, which is never answered) and no `Sec-Fetch-Site: cross-site`. The relay
 * still decides everything (§9.9): the dashboard only carries what the wallet signed.
 *
 * @example if (url.pathname === DASHBOARD_SPONSOR_PATH) return forwardSponsorRequest(req, res, { token, sponsorUrl, headers })
 */
export function forwardSponsorRequest(
  req: IncomingMessage,
  res: ServerResponse,
  {
    token,
    sponsorUrl,
    headers,
  }: { token: string; sponsorUrl: string | undefined; headers: Record<string, string> },
): void {
  const refuse = (status: number, reason: string) =>
    reply(res, status, { ok: false, error: { reason } }, headers)
  const refusal = refusalOf(req, token, sponsorUrl)
  if (refusal) {
    if (refusal.status === 405) res.setHeader('allow', 'POST')
    refuse(refusal.status, refusal.reason)
    return
  }
  const target = sponsorUrl as string
  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > MAX_BODY_BYTES) {
      refuse(413, 'body-too-large')
      req.destroy()
    } else chunks.push(chunk)
  })
  req.on('end', () => {
    if (res.headersSent) return
    fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.concat(chunks),
      signal: AbortSignal.timeout(120_000),
    }).then(
      async (response) => {
        const text = await response.text()
        res.writeHead(response.status, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
          ...headers,
        })
        res.end(text)
      },
      () => refuse(502, 'sponsor-unreachable'),
    )
  })
}
