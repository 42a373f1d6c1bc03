/** This device's key packages at its relay: one-time ones topped up, one last-resort one kept, rotated and purged. */
import type { Envelope } from '../protocol/envelope.js'
import { createEnvelope } from '../protocol/envelope.js'
import { inboxTopic } from '../protocol/topics.js'
import type { ClientContext } from './context.js'
import {
  createKeyPackage,
  decodeMls,
  encodeMls,
  encodePrivateKeyPackage,
  supportsConversationContext,
} from './mls.js'

/** One-time key packages a live client keeps published at its relay. @example KEY_PACKAGE_TARGET // 5 */
export const KEY_PACKAGE_TARGET = 5

/**
 * Age at which the last-resort key package is replaced by a new one (checked at start, after each join and hourly
 * while live): it is reused for every Welcome until then, so this bounds how long one init key serves new groups.
 *
 * @example LAST_RESORT_ROTATION_MS // 7 days
 */
export const LAST_RESORT_ROTATION_MS = 7 * 24 * 60 * 60 * 1000

/**
 * How long the private part of a replaced last-resort key package is kept: an adder may have taken it just before
 * the rotation, and its Welcome waits at the relay for up to the relay's retention (30 days by default).
 *
 * @example LAST_RESORT_GRACE_MS // 30 days
 */
export const LAST_RESORT_GRACE_MS = 30 * 24 * 60 * 60 * 1000

/** How often a live client checks its stock and the last-resort key package's age without a join. */
const STOCK_CHECK_INTERVAL_MS = 60 * 60 * 1000

/** The parts of a client the key-package stock needs. @example const parts: KeyPackageStockContext = ctx */
export type KeyPackageStockContext = Pick<
  ClientContext,
  'identity' | 'device' | 'impl' | 'store' | 'transport' | 'deviceId'
>

/**
 * Generates `count` one-time key packages signed with this device's registered MLS key, keeps their private parts
 * (sealed) in the device store, and publishes them through the transport.
 *
 * @example await publishKeyPackages(ctx, 10)
 */
export async function publishKeyPackages(ctx: KeyPackageStockContext, count: number): Promise<void> {
  const envelopes: Envelope[] = []
  for (let i = 0; i < count; i++)
    envelopes.push(await newKeyPackage(ctx, { lastResort: false, now: Date.now() }))
  await ctx.transport.putKeyPackages({ deviceId: ctx.deviceId, envelopes })
}

/**
 * Deletes this device's stored one-time key packages that do not advertise the conversation context extension
 * (made by an older client: no Sealpost group can add them) and returns how many there were. Their copies at the
 * relay are skipped by whoever claims them.
 *
 * @example if (dropStaleKeyPackages(ctx) > 0) await publishKeyPackages(ctx, KEY_PACKAGE_TARGET)
 */
export function dropStaleKeyPackages(ctx: Pick<ClientContext, 'store'>): number {
  let dropped = 0
  for (const stored of ctx.store.listKeyPackages()) {
    if (stored.lastResort) continue
    const message = decodeMls(stored.publicPackage)
    if (message.wireformat === 'mls_key_package' && supportsConversationContext(message.keyPackage)) continue
    ctx.store.deleteKeyPackage(stored.ref)
    dropped++
  }
  return dropped
}

/**
 * Keeps the stock: makes the last-resort key package if there is none, rotates it once it is
 * {@link LAST_RESORT_ROTATION_MS} old (the replaced one is kept {@link LAST_RESORT_GRACE_MS}, then purged) and
 * publishes it again (the relay replaces the previous one, so a relay that lost it gets it back), then publishes
 * one-time key packages until the relay holds `target` (its KP_COUNT counts only those). `now` is for tests.
 *
 * @example await topUpKeyPackages(ctx, KEY_PACKAGE_TARGET)
 */
export async function topUpKeyPackages(
  ctx: KeyPackageStockContext,
  target: number,
  { now = Date.now() }: { now?: number | undefined } = {},
): Promise<{ published: number; rotated: boolean; purged: number }> {
  const purged = ctx.store.purgeRetiredKeyPackages(now - LAST_RESORT_GRACE_MS)
  const current = ctx.store.lastResortKeyPackage()
  const rotated = current !== undefined && now - current.createdAt >= LAST_RESORT_ROTATION_MS
  const lastResort =
    current && !rotated
      ? createEnvelope({
          kind: 'key-package',
          topic: inboxTopic(ctx.deviceId),
          payload: current.publicPackage,
        })
      : await newKeyPackage(ctx, { lastResort: true, now })
  const have = await ctx.transport.countKeyPackages({ deviceId: ctx.deviceId })
  const envelopes = [lastResort]
  for (let i = have; i < target; i++) envelopes.push(await newKeyPackage(ctx, { lastResort: false, now }))
  await ctx.transport.putKeyPackages({ deviceId: ctx.deviceId, envelopes })
  return { published: envelopes.length - 1, rotated, purged }
}

/**
 * While live, tops the stock up again after every join (a Welcome used a key package, so the relay's count is
 * checked) and hourly (the last-resort key package's age). Checks never overlap; a failed one goes to `onError` and
 * the next trigger tries again. Returns the function that stops watching.
 *
 * @example const stop = watchKeyPackageStock(ctx, { onError: (err) => report(err) })
 */
export function watchKeyPackageStock(
  ctx: KeyPackageStockContext & Pick<ClientContext, 'events'>,
  { target = KEY_PACKAGE_TARGET, onError }: { target?: number | undefined; onError: (err: unknown) => void },
): () => void {
  let running: Promise<void> | undefined
  let again = false
  const check = (): void => {
    if (running) {
      again = true
      return
    }
    running = topUpKeyPackages(ctx, target)
      .then(() => undefined, onError)
      .finally(() => {
        running = undefined
        if (again && ctx.store.db.open) {
          again = false
          check()
        }
      })
  }
  const onJoined = () => check()
  ctx.events.on('joined', onJoined)
  const timer = setInterval(check, STOCK_CHECK_INTERVAL_MS)
  timer.unref()
  return () => {
    ctx.events.off('joined', onJoined)
    clearInterval(timer)
  }
}

/** Makes one key package, stores its private part and returns its envelope. */
async function newKeyPackage(
  ctx: KeyPackageStockContext,
  { lastResort, now }: { lastResort: boolean; now: number },
): Promise<Envelope> {
  const { publicPackage, privatePackage, ref } = await createKeyPackage({
    identity: ctx.identity,
    mls: ctx.device.mls,
    impl: ctx.impl,
    lastResort,
  })
  const payload = encodeMls({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage })
  // A new last-resort key package retires the current one in the same transaction.
  ctx.store.putKeyPackage(
    { ref, publicPackage: payload, privatePackage: encodePrivateKeyPackage(privatePackage), lastResort },
    now,
  )
  return createEnvelope({ kind: 'key-package', topic: inboxTopic(ctx.deviceId), payload })
}
