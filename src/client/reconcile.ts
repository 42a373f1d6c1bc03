/** Reconciling after a registry or epoch change: departures proposed again, then membership brought in line. */
import type { ClientContext } from './context.js'
import { renewLeaves } from './groups.js'
import { reconcileGroups } from './membership.js'

/** Delays of the retries for devices that had no key package yet (a new or rotated device still connecting). */
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15_000, 30_000, 60_000]

/** Per client: the pending retry and how many came before it since the last complete reconcile. */
const retries = new WeakMap<ClientContext, { timer: NodeJS.Timeout | undefined; attempt: number }>()

/**
 * What a live client does when the registry or a group's epoch changes: re-proposes pending departures (§3.6), then,
 * in every group it commits for, commits pending proposals, removes revoked devices and adds new ones. A device that
 * had no key package yet (it registered or rotated a moment ago and is still connecting) is tried again after 0.5 s,
 * 1 s, 2 s, … up to a minute (key-management.md §6), and on every later change. A retry goes through `schedule`,
 * the caller's one-pass-at-a-time scheduler, so it never runs beside another pass.
 *
 * @example await reconcile(ctx, () => live.scheduleReconcile())
 */
export async function reconcile(ctx: ClientContext, schedule: () => void): Promise<void> {
  await renewLeaves(ctx)
  const { waiting } = await reconcileGroups(ctx)
  const retry = retries.get(ctx)
  if (waiting === 0) {
    if (retry?.timer === undefined) retries.delete(ctx)
    return
  }
  if (retry?.timer !== undefined) return
  const attempt = retry?.attempt ?? 0
  const delay = RETRY_DELAYS_MS[attempt]
  if (delay === undefined || ctx.closing()) return
  const timer = setTimeout(() => {
    retries.set(ctx, { timer: undefined, attempt: attempt + 1 })
    if (ctx.closing() || !ctx.store.db.open) return
    schedule()
  }, delay)
  timer.unref()
  retries.set(ctx, { timer, attempt })
}
