/** Expiry notices: an envelope this device published expired at the relay before it was acked; recorded once, emitted as `expired`. */
import type { Hex } from 'viem'
import type { ClientContext } from './context.js'
import type { ExpiryNotice } from './transport.js'
import type { ExpiredEvent } from './types.js'

/**
 * Handles one expiry notice from the transport (protocol §9.4): the first notice for an envelope id is recorded in
 * the device store (as processed under `expired:<id>`, so a notice the relay repeats after a reconnect or a restart
 * is not reported again) and emitted as the client's `expired` event, with the sent message's state when the
 * envelope is one of its messages. A message's lifecycle state does not change: "expired" is not a state of the
 * message lifecycle (protocol §11), only the relay's report that some recipient may never get it. Returns the
 * event, or undefined for a repeated notice (or a closed store).
 *
 * @example transport.onExpired?.((notice) => handleExpiryNotice(ctx, notice))
 */
export function handleExpiryNotice(
  ctx: Pick<ClientContext, 'store' | 'events'>,
  notice: ExpiryNotice,
): ExpiredEvent | undefined {
  const { store, events } = ctx
  if (!store.db.open) return undefined
  const id = notice.id.toLowerCase() as Hex
  const key = `expired:${id}`
  if (store.processed(key) !== undefined) return undefined
  store.markProcessed(key, 'expired')
  const message = store.getMessage(id)
  const event: ExpiredEvent = {
    id,
    conversation: notice.topic,
    seq: notice.seq,
    expiredAt: notice.expiredAt,
    recipients: notice.recipients,
    state: message?.direction === 'out' ? message.state : undefined,
  }
  events.emit('expired', event)
  return event
}
