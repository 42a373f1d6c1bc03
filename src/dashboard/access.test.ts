/** The dashboard's access check alone: which Host names pass on which bind, Origin, and the token on the stream. */
import { describe, expect, test } from 'vitest'
import { checkDashboardAccess, hostAllowed, isLoopback, tokenMatches } from './access.js'

const token = 'A'.repeat(24)
const loopback = { host: '127.0.0.1', port: 8788, token }
const anyAddress = { host: '0.0.0.0', port: 8788, token }

describe('hostAllowed', () => {
  test('a loopback bind answers to loopback names on its own port only', () => {
    for (const ok of ['127.0.0.1:8788', 'localhost:8788', 'LOCALHOST:8788', '[::1]:8788'])
      expect(hostAllowed(ok, loopback)).toBe(true)
    for (const bad of [
      undefined,
      '',
      '127.0.0.1',
      'evil.example:8788',
      '10.0.0.1:8788',
      '127.0.0.1:8789',
      'a.localhost:8788',
      '127.0.0.1:8788 x',
    ])
      expect(hostAllowed(bad, loopback)).toBe(false)
  })

  test('another bind answers to IP literals, localhost and its own name; never to a DNS name', () => {
    for (const ok of ['10.1.2.3:8788', '[fe80::1]:8788', 'localhost:8788'])
      expect(hostAllowed(ok, anyAddress)).toBe(true)
    expect(hostAllowed('evil.example:8788', anyAddress)).toBe(false)
    expect(hostAllowed('dash.lan:8788', { ...anyAddress, host: 'dash.lan' })).toBe(true)
  })

  test('isLoopback', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true)
    expect(['0.0.0.0', '::', '10.0.0.1'].some(isLoopback)).toBe(false)
  })
})

describe('checkDashboardAccess', () => {
  const request = (pathname: string, headers: Record<string, string>, queryToken: string | null = null) => ({
    pathname,
    queryToken,
    headers,
  })

  test('the static app needs a right Host and Origin, not the token', () => {
    expect(checkDashboardAccess(request('/', { host: '127.0.0.1:8788' }), loopback)).toBeUndefined()
    expect(checkDashboardAccess(request('/', { host: 'evil.example:8788' }), loopback)?.code).toBe(
      'SEALPOST_DASHBOARD_FOREIGN_HOST',
    )
    const origin = checkDashboardAccess(
      request('/', { host: '127.0.0.1:8788', origin: 'http://localhost:8788' }),
      loopback,
    )
    expect(origin?.code).toBe('SEALPOST_DASHBOARD_FOREIGN_ORIGIN')
    expect(origin?.status).toBe(403)
  })

  test('the stream needs the token, by query or bearer', () => {
    const host = { host: '127.0.0.1:8788' }
    expect(checkDashboardAccess(request('/events', host), loopback)?.status).toBe(401)
    expect(checkDashboardAccess(request('/events', host, token), loopback)).toBeUndefined()
    expect(
      checkDashboardAccess(request('/events', { ...host, authorization: `Bearer ${token}` }), loopback),
    ).toBeUndefined()
    expect(tokenMatches('', '')).toBe(false)
    expect(tokenMatches(`${token}A`, token)).toBe(false)
  })
})
