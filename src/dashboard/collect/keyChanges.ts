/** What a local client reports about its contacts' keys: each key change (Alerts and Keys tabs) and their safety numbers. */
import type { Address } from 'viem'
import type { Client, KeyChangeEvent } from '../../client/Client.js'
import type { AlertEvent, DashboardEvent, KeyChangeDashboardEvent } from '../events.js'

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
 * The Keys tab's record of a key change `observer` saw: the contact, the devices, block, transaction and both safety
 * numbers.
 *
 * @example hub.emit(keyChangeRecord(change, 'Bob'))
 */
export function keyChangeRecord(
  c: KeyChangeEvent,
  observer: string,
  at = Date.now(),
): KeyChangeDashboardEvent {
  return {
    type: 'keyChange',
    at,
    account: c.account,
    kind: c.kind,
    added: c.added.slice(0, 64),
    revoked: c.revoked.slice(0, 64),
    block: c.block.toString(),
    tx: c.txHash,
    safetyNumberBefore: c.fingerprintBefore,
    safetyNumberAfter: c.fingerprintAfter,
    observer,
  }
}

/**
 * Feeds the hub with the client's key changes, each as an alert (Alerts tab) and a key-change record (Keys tab):
 * those it recorded before (a change while the dashboard was not looking), then each new `keyChange` event. It also
 * reports the current safety number (`client.safetyNumber`) of every contact: those with recorded changes and the
 * peers of its direct conversations on attach, then a contact after each of its changes and a new peer when a direct
 * conversation is joined. Returns the detach function.
 *
 * @example const detach = attachKeyChanges((e) => hub.emit(e), alice, 'Alice')
 */
export function attachKeyChanges(
  emit: (event: DashboardEvent) => void,
  client: Pick<Client, 'events' | 'keyChanges' | 'safetyNumber' | 'conversations' | 'closed'>,
  observer: string,
): () => void {
  let detached = false
  const reportSafetyNumber = (account: Address) => {
    client
      .safetyNumber(account)
      .then((s) => {
        if (detached || client.closed) return
        emit({
          type: 'safetyNumber',
          at: Date.now(),
          account: s.account,
          safetyNumber: s.safetyNumber,
          block: s.block.toString(),
          devices: s.devices.length,
          observer,
        })
      })
      // A closed client or an RPC hiccup: the next change reports it again.
      .catch(() => undefined)
  }
  const show = (c: KeyChangeEvent) => {
    emit(keyChangeAlert(c, observer))
    emit(keyChangeRecord(c, observer))
  }
  const contacts = new Set<string>()
  for (const c of client.keyChanges()) {
    show(c)
    contacts.add(c.account.toLowerCase())
  }
  for (const conversation of client.conversations.list()) contacts.add(conversation.peer.toLowerCase())
  for (const account of contacts) reportSafetyNumber(account as Address)
  const onChange = (c: KeyChangeEvent) => {
    show(c)
    reportSafetyNumber(c.account)
  }
  const onJoined = ({ peer }: { peer: Address | undefined }) => {
    if (peer) reportSafetyNumber(peer)
  }
  client.events.on('keyChange', onChange)
  client.events.on('joined', onJoined)
  return () => {
    detached = true
    client.events.off('keyChange', onChange)
    client.events.off('joined', onJoined)
  }
}
