/** Authentication: the CHALLENGE, AUTH checked against the registry watcher, and following the registry's events. */
import type { Hex } from 'viem'
import { verifyP256 } from '../crypto/p256.js'
import { type ClientFrame, type RelayErrorCode, relayAuthMessage } from '../protocol/relayFrames.js'
import { inboxTopic } from '../protocol/topics.js'
import { failConnection, replyError, reportInternal, sendFrame } from './connection.js'
import type { RelayConnection, RelayContext } from './context.js'
import { tapIds } from './idsTap.js'
import { takeRegistryLookup } from './registryLookup.js'
import { sendExpiryNotices } from './retention.js'

type AuthFailReason = 'bad-signature' | 'unknown-device' | 'revoked' | 'expired-challenge'

/**
 * Sends the connection's CHALLENGE (its nonce, expiry, and the chain and registry it authenticates against).
 *
 * @example sendChallenge(ctx, createConnection(ctx, { ws, ip }))
 */
export function sendChallenge(ctx: RelayContext, conn: RelayConnection): void {
  if (!conn.challenge) return
  sendFrame(ctx, conn, {
    type: 'challenge',
    challenge: `0x${conn.challenge.toString('hex')}`,
    expiresAt: conn.expiresAt,
    chainId: ctx.chainId,
    registry: ctx.registry,
  })
}

/**
 * AUTH: the challenge is single use and must not have expired; the device must be registered to `account` (if the
 * relay does not know it, the connection's IP spends one registry look-up, else RELAY_LOOKUP_LIMITED, and waits
 * for the next shared registry sync) and not revoked; the signature over
 * `relayAuthMessage(challenge, account, deviceId)` must verify with its P-256 key. Success registers the
 * connection under its device (sharing the device's rate bucket), answers AUTH_OK and sends the device's pending
 * expiry notices; failure answers ERROR and closes the connection.
 *
 * @example await handleAuth(ctx, conn, frame)
 */
export async function handleAuth(
  ctx: RelayContext,
  conn: RelayConnection,
  frame: Extract<ClientFrame, { type: 'auth' }>,
): Promise<void> {
  const deviceId = frame.deviceId.toLowerCase() as Hex
  const fail = (code: RelayErrorCode, reason?: AuthFailReason) => {
    if (ctx.ids && code !== 'RELAY_INTERNAL')
      tapIds(ctx, { kind: 'auth', device: deviceId, ip: conn.ip, ok: false, ...(reason ? { reason } : {}) })
    if (ctx.events.listenerCount('auth') > 0)
      ctx.events.emit('auth', { account: frame.account, deviceId, ok: false, code })
    failConnection(ctx, conn, 0, code)
  }
  if (conn.deviceId) return void replyError(ctx, conn, 0, 'RELAY_AUTH_FAILED') // already authenticated
  const challenge = conn.challenge
  conn.challenge = undefined // single use, whatever happens next
  if (!challenge) {
    if (ctx.ids) tapIds(ctx, { kind: 'challenge-misuse', ip: conn.ip })
    return fail('RELAY_AUTH_FAILED')
  }
  if (ctx.now() > conn.expiresAt) return fail('RELAY_AUTH_FAILED', 'expired-challenge')
  let record = ctx.watcher.device(deviceId)
  if (!record) {
    if (!takeRegistryLookup(ctx, conn.ip)) return fail('RELAY_LOOKUP_LIMITED', 'unknown-device')
    try {
      await ctx.syncRegistry()
    } catch (err) {
      reportInternal(ctx, 'auth: registry sync', err)
      return fail('RELAY_INTERNAL')
    }
    if (conn.closing || ctx.isStopped()) return
    record = ctx.watcher.device(deviceId)
  }
  if (!record || record.account.toLowerCase() !== frame.account.toLowerCase())
    return fail('RELAY_UNKNOWN_DEVICE', 'unknown-device')
  if (record.revokedAt !== undefined) return fail('RELAY_DEVICE_REVOKED', 'revoked')
  const message = relayAuthMessage({
    challenge: `0x${challenge.toString('hex')}`,
    account: frame.account,
    deviceId,
  })
  const publicKey = `0x${record.p256X.slice(2)}${record.p256Y.slice(2)}` as Hex
  if (!verifyP256({ publicKey, message, signature: frame.signature }))
    return fail('RELAY_AUTH_FAILED', 'bad-signature')

  conn.account = frame.account
  conn.deviceId = deviceId
  conn.bucket = undefined
  let entry = ctx.devices.get(deviceId)
  if (!entry) {
    entry = { conns: new Set(), bucket: { tokens: ctx.limits.burst, at: ctx.now() } }
    ctx.devices.set(deviceId, entry)
  }
  entry.conns.add(conn)
  sendFrame(ctx, conn, { type: 'auth-ok', account: frame.account, deviceId })
  if (ctx.ids) tapIds(ctx, { kind: 'auth', device: deviceId, ip: conn.ip, ok: true })
  if (ctx.events.listenerCount('auth') > 0)
    ctx.events.emit('auth', { account: frame.account, deviceId, ok: true })
  await sendExpiryNotices(ctx, conn)
}

/**
 * Follows the registry: each DeviceAdded makes the device's inbox topic its own (`ctx.inboxes`, which ACK checks,
 * and `store.claimInbox`, which drops any other device's cursor a store written before SUBSCRIBE v2 may hold), each
 * DeviceRevoked fails the device's open connections with RELAY_DEVICE_REVOKED. Returns the function that stops
 * following.
 *
 * @example const unfollow = followRegistry(ctx) // ...; unfollow()
 */
export function followRegistry(ctx: RelayContext): () => void {
  const onAdded = (record: { deviceId: Hex }) => {
    const id = record.deviceId.toLowerCase() as Hex
    const topic = inboxTopic(id).toLowerCase() as Hex
    if (!ctx.inboxes.has(topic)) ctx.inboxes.set(topic, id)
    ctx.store.claimInbox(topic, id).catch((err: unknown) => reportInternal(ctx, 'claimInbox', err))
  }
  const onRevoked = (record: { deviceId: Hex }) => {
    const entry = ctx.devices.get(record.deviceId.toLowerCase() as Hex)
    if (!entry) return
    for (const conn of [...entry.conns]) failConnection(ctx, conn, 0, 'RELAY_DEVICE_REVOKED')
  }
  ctx.watcher.on('device-added', onAdded)
  ctx.watcher.on('device-revoked', onRevoked)
  return () => {
    ctx.watcher.off('device-added', onAdded)
    ctx.watcher.off('device-revoked', onRevoked)
  }
}

/**
 * Fails unauthenticated connections whose challenge has expired (one timer for all connections).
 *
 * @example setInterval(() => sweepExpiredChallenges(ctx, conns), 5_000)
 */
export function sweepExpiredChallenges(ctx: RelayContext, conns: Iterable<RelayConnection>): void {
  const now = ctx.now()
  for (const conn of conns)
    if (!conn.deviceId && !conn.closing && conn.expiresAt < now)
      failConnection(ctx, conn, 0, 'RELAY_AUTH_FAILED')
}
