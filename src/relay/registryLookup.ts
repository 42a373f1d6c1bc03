/** Registry look-ups: the per-IP budget that AUTH and SUBSCRIBE spend, and the shared, rate-limited registry sync. */
import type { RelayContext } from './context.js'

/**
 * Spends one registry look-up of `ip`'s budget (a token bucket of `registryLookupsPerIpPerMinute`, refilled over a
 * minute); false when it is empty. AUTH naming an unknown device and SUBSCRIBE to a topic the relay has not checked yet spend from it (docs/protocol.md §9.3, §9.4).
 *
 * @example if (!takeRegistryLookup(ctx, conn.ip)) return fail('RELAY_LOOKUP_LIMITED')
 */
export function takeRegistryLookup(ctx: RelayContext, ip: string): boolean {
  const size = ctx.limits.registryLookupsPerIpPerMinute
  const now = ctx.now()
  const bucket = ctx.lookups.get(ip) ?? { tokens: size, at: now }
  bucket.tokens = Math.min(size, bucket.tokens + (Math.max(0, now - bucket.at) * size) / 60_000)
  bucket.at = now
  ctx.lookups.set(ip, bucket)
  if (bucket.tokens < 1) return false
  bucket.tokens -= 1
  return true
}

/**
 * Forgets the look-up budgets that have refilled completely (so the map holds only IPs seen in the last minute).
 *
 * @example setInterval(() => sweepRegistryLookups(ctx), 5_000)
 */
export function sweepRegistryLookups(ctx: RelayContext): void {
  const now = ctx.now()
  const size = ctx.limits.registryLookupsPerIpPerMinute
  for (const [ip, bucket] of ctx.lookups)
    if (bucket.tokens + ((now - bucket.at) * size) / 60_000 >= size) ctx.lookups.delete(ip)
}

/**
 * A rate-limited `watcher.sync()`: every caller that arrives before the next sync starts shares it, at most one
 * sync runs at a time (callers during a running sync queue the next one, which sees what they wait for), and a
 * sync starts at least `minIntervalMs` after the previous one started. Once `isStopped()` the queued sync is
 * skipped (its callers resolve and find nothing new).
 *
 * @example const syncRegistry = sharedRegistrySync(watcher, { minIntervalMs: 1000 }); await Promise.all([syncRegistry(), syncRegistry()]) // one sync
 */
export function sharedRegistrySync(
  watcher: { sync(): Promise<unknown> },
  { minIntervalMs = 0, isStopped = () => false }: { minIntervalMs?: number; isStopped?: () => boolean } = {},
): () => Promise<void> {
  let next: Promise<void> | undefined
  let running: Promise<void> = Promise.resolve()
  let lastStart = Number.NEGATIVE_INFINITY
  const spaced = () => {
    const wait = lastStart + minIntervalMs - performance.now()
    return wait > 0 ? new Promise<void>((resolve) => setTimeout(resolve, wait).unref()) : undefined
  }
  const sync = () => {
    if (next) return next
    const queued = running.then(spaced).then(() => {
      next = undefined
      if (isStopped()) return
      lastStart = performance.now()
      const run = watcher.sync().then(() => {})
      running = run.catch(() => {})
      return run
    })
    next = queued
    return queued
  }
  return sync
}
