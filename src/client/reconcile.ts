/** Reconciling after a registry or epoch change: departures proposed again, then membership brought in line. */
import type { ClientContext } from './context.js'
import { renewLeaves } from './groups.js'
import { reconcileGroups } from './membership.js'

/**
 * What a live client does when the registry or a group's epoch changes: re-proposes pending departures (§3.6), then,
 * in every group it commits for, commits pending proposals, removes revoked devices and adds new ones.
 *
 * @example await reconcile(ctx)
 */
export async function reconcile(ctx: ClientContext): Promise<void> {
  await renewLeaves(ctx)
  await reconcileGroups(ctx)
}
