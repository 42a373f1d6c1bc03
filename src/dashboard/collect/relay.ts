/** What the relay server reports: envelopes it accepted (and who published them), refusals, failed logins. */
import type { Address, Hex } from 'viem'
import type { RelayServer, RelayServerEvents } from '../../relay/RelayServer.js'
import { type Collector, remember } from './collector.js'

/**
 * Feeds the hub from a relay server's events. `accountOf` names the account of a publishing device (the relay
 * knows devices, the dashboard shows accounts); envelopes of unknown devices count but are not shown.
 *
 * @example const detach = attachRelayServer(collector, node.server, { accountOf: (id) => node.watcher.device(id)?.account })
 */
export function attachRelayServer(
  collector: Collector,
  server: RelayServer,
  { accountOf }: { accountOf: (deviceId: Hex) => Address | undefined },
): () => void {
  const { hub, topics } = collector
  const onPublished = (e: RelayServerEvents['published'][0]) => {
    if (e.kind !== 'application') return
    collector.published++
    topics.add(e.topic)
    if (topics.size > 1000) topics.delete(topics.values().next().value as Hex)
    remember(collector.acceptedAt, e.id, Date.now())
    const from = accountOf(e.publisher)
    if (!from) return
    remember(collector.publishers, e.id, from)
    hub.emit({
      type: 'message',
      at: Date.now(),
      id: e.id,
      conversation: e.topic,
      from,
      fromDevice: e.publisher,
      to: [],
      state: 'accepted',
      seq: e.seq.toString(),
      bytes: e.bytes,
      observer: 'relay',
    })
  }
  /** A failed login is reported twice by the relay ('auth', then the ERROR frame's 'rejected'): alert once. */
  let authFailure: string | undefined
  const onRejected = (e: RelayServerEvents['rejected'][0]) => {
    if (e.deviceId === undefined && e.reqId === 0 && e.code === authFailure) {
      authFailure = undefined
      return
    }
    hub.emit({
      type: 'alert',
      at: Date.now(),
      source: 'relay',
      severity: e.code === 'RELAY_FRAME_MALFORMED' || e.code === 'RELAY_AUTH_FAILED' ? 'critical' : 'warning',
      code: e.code,
      message: relayAlertText(e.code),
      ...(e.deviceId ? { deviceId: e.deviceId } : {}),
    })
  }
  const onAuth = (e: RelayServerEvents['auth'][0]) => {
    if (e.ok) return
    const code = e.code ?? 'RELAY_AUTH_FAILED'
    authFailure = code
    queueMicrotask(() => {
      authFailure = undefined
    })
    hub.emit({
      type: 'alert',
      at: Date.now(),
      source: 'relay',
      severity: 'critical',
      code,
      message: relayAlertText(code),
      account: e.account,
      deviceId: e.deviceId,
    })
  }
  server.on('published', onPublished)
  server.on('rejected', onRejected)
  server.on('auth', onAuth)
  return () => {
    server.off('published', onPublished)
    server.off('rejected', onRejected)
    server.off('auth', onAuth)
  }
}

const ALERT_TEXTS: Record<string, string> = {
  RELAY_AUTH_FAILED: 'A device failed to authenticate (bad signature or reused challenge).',
  RELAY_DEVICE_REVOKED: 'A revoked device tried to use the relay and was refused.',
  RELAY_UNKNOWN_DEVICE: 'An unregistered device tried to authenticate.',
  RELAY_FORBIDDEN: "A device tried to read another device's inbox.",
  RELAY_FRAME_MALFORMED: 'A malformed frame was refused.',
  RELAY_FRAME_TOO_LARGE: 'An oversized frame was refused.',
  RELAY_RATE_LIMITED: 'A device exceeded its rate limit.',
  RELAY_QUARANTINED:
    'A quarantined device tried to publish and was refused until an operator lifts the quarantine.',
  RELAY_QUEUE_FULL: 'A topic queue is full.',
  RELAY_ENVELOPE_INVALID: 'An invalid envelope was refused.',
  RELAY_UNAUTHENTICATED: 'An unauthenticated client tried to publish or subscribe.',
}

/**
 * The human sentence the Alerts view shows for a relay wire code.
 *
 * @example relayAlertText('RELAY_RATE_LIMITED') // 'A device exceeded its rate limit.'
 */
export function relayAlertText(code: string): string {
  return ALERT_TEXTS[code] ?? `Relay refused a request (${code}).`
}
