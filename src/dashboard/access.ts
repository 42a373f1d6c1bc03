/** The dashboard's access check: Host, Origin and this run's token, decided per request before anything is served. */
import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import {
  type DashboardAccessError,
  DashboardForeignHostError,
  DashboardForeignOriginError,
  DashboardUnauthorizedError,
} from './errors.js'

/** Names a loopback-bound dashboard answers to; a rebinding page's Host is none of them. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]'])

/** What the check knows about the server: where it listens and this run's token. */
export type DashboardAccessPolicy = {
  /** The address the server is bound to (`127.0.0.1`, `::1`, `0.0.0.0`, a name). */
  host: string
  port: number
  token: string
}

/** The parts of a request the check reads. */
export type DashboardAccessRequest = {
  pathname: string
  /** `?token=` of the request URL, if any. */
  queryToken: string | null
  headers: {
    host?: string | undefined
    origin?: string | undefined
    authorization?: string | undefined
    'sec-fetch-site'?: string | undefined
  }
}

/**
 * Whether `address` is a loopback bind.
 *
 * @example isLoopback('127.0.0.1') // true
 */
export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address)
}

/**
 * Whether a `Host` header value names this server. The port must be the server's. On a loopback bind the name
 * must be `localhost`, `127.0.0.1` or `[::1]`; on any other bind, an IP literal, `localhost` or the bound name.
 * A DNS name an attacker controls (DNS rebinding) never passes: IP literals cannot be rebound.
 *
 * @example hostAllowed('127.0.0.1:8788', { host: '127.0.0.1', port: 8788, token }) // true
 */
export function hostAllowed(value: string | undefined, policy: DashboardAccessPolicy): boolean {
  if (!value) return false
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+):(\d{1,5})$/i.exec(value.trim())
  if (!match) return false
  const name = match[1]!.toLowerCase()
  if (Number(match[2]) !== policy.port) return false
  if (isLoopback(policy.host)) return LOOPBACK_NAMES.has(name) || /^127\.\d+\.\d+\.\d+$/.test(name)
  const bare = name.startsWith('[') ? name.slice(1, -1) : name
  return isIP(bare) !== 0 || name === 'localhost' || name === policy.host.toLowerCase()
}

/**
 * Compares a presented token with this run's token in constant time (both hashed first, so lengths never leak).
 *
 * @example tokenMatches(given, policy.token)
 */
export function tokenMatches(given: string, token: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest()
  return given.length > 0 && timingSafeEqual(digest(given), digest(token))
}

/**
 * Decides one request: a foreign Host (DNS rebinding) or a foreign Origin is refused on every path; the event
 * stream, the only path that carries data, also needs the token (`?token=` or `Authorization: Bearer`) and
 * refuses `Sec-Fetch-Site: cross-site`. The static app holds no data and is served without the token.
 * Returns the refusal, or undefined when the request may proceed.
 *
 * @example const refusal = checkDashboardAccess(request, policy); if (refusal) reply(refusal.status, refusal.code)
 */
export function checkDashboardAccess(
  request: DashboardAccessRequest,
  policy: DashboardAccessPolicy,
): DashboardAccessError | undefined {
  const { host, origin, authorization } = request.headers
  if (!hostAllowed(host, policy)) return new DashboardForeignHostError({ host: host ?? '' })
  if (origin !== undefined && origin.toLowerCase() !== `http://${host}`.toLowerCase())
    return new DashboardForeignOriginError({ origin })
  if (request.pathname !== '/events') return undefined
  if (request.headers['sec-fetch-site'] === 'cross-site')
    return new DashboardForeignOriginError({ origin: 'cross-site' })
  const given = request.queryToken ?? (authorization?.startsWith('Bearer ') ? authorization.slice(7) : '')
  return tokenMatches(given, policy.token) ? undefined : new DashboardUnauthorizedError()
}
