/** What a local client reports about its contacts' keys: every key-change alert (added, revoked, rotated device) as a dashboard alert. */
import type { Client, KeyChangeEvent } from '../../client/Client.js'
import type { AlertEvent, DashboardEvent } from '../events.js'

/** The code of a key-change alert on the Alerts tab (not an error code). @example KEY_CHANGE_CODE // 'KEY_CHANGE' */
export const KEY_CHANGE_CODE = 'KEY_CHANGE'

/**
 * The dashboard alert for a key change `observer` saw: the contact, the change, its block and the new safety number.
 *
 * @example hub.emit(keyChangeAlert(change, 'Alice'))
 */
export function keyChangeAlert(c: KeyChangeEvent, observer: string, at = Date.now()): AlertEvent {
  const what =
    c.kind === 'rotated'
      ? 'rotated a device'
      : `${c.kind} ${c.deviceIds.length === 1 ? 'a device' : `${c.deviceIds.length} devices`}`
  return {
    type: 'alert',
    at,
    source: 'client',
    severity: 'warning',
    code: KEY_CHANGE_CODE,
    message:
      `${observer}: ${c.account} ${what} at block ${c.block}. Safety number now ${c.fingerprintAfter} (was ${c.fingerprintBefore}).`.slice(
        0,
        512,
      ),
    account: c.account,
    ...(c.deviceIds[c.deviceIds.length - 1] ? { deviceId: c.deviceIds[c.deviceIds.length - 1] } : {}),
  }
}

/**
 * Feeds the hub with the client's key-change alerts: those it recorded before (a change while the dashboard was not
 * looking), then each new `keyChange` event. Returns the detach function.
 *
 * @example const detach = attachKeyChanges((e) => hub.emit(e), alice, 'Alice')
 */
export function attachKeyChanges(
  emit: (event: DashboardEvent) => void,
  client: Pick<Client, 'events' | 'keyChanges'>,
  observer: string,
): () => void {
  for (const c of client.keyChanges()) emit(keyChangeAlert(c, observer))
  const onChange = (c: KeyChangeEvent) => emit(keyChangeAlert(c, observer))
  client.events.on('keyChange', onChange)
  return () => client.events.off('keyChange', onChange)
}
