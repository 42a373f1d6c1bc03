/** The demo's key-change alerts: waiting until each peer's client emitted `keyChange` for a change, and showing it. */
import type { Address } from 'viem'
import type { Client, KeyChangeEvent } from '../client/Client.js'
import { pollUntil } from './waits.js'

/**
 * The alert one peer's client emitted for a change, or undefined when none came in time.
 *
 * @example const [{ peer, change }]: PeerAlert[] = await peerAlerts({ peers: { Bob: bob }, account, match })
 */
export type PeerAlert = { peer: string; change: KeyChangeEvent | undefined }

/**
 * Waits (at most `timeoutMs`) until every client in `peers` emitted a `keyChange` event about `account` that `match`
 * accepts (its recorded alerts, `client.keyChanges()`, hold every event it emitted), and returns what each emitted.
 *
 * @example const alerts = await peerAlerts({ peers: { Bob: bob, Carol: carol }, account: alice.account, match: (c) => c.kind === 'added' })
 */
export async function peerAlerts({
  peers,
  account,
  match,
  timeoutMs = 30_000,
}: {
  peers: Record<string, Client>
  account: Address
  match: (change: KeyChangeEvent) => boolean
  timeoutMs?: number | undefined
}): Promise<PeerAlert[]> {
  const look = () =>
    Object.entries(peers).map(([peer, client]) => ({
      peer,
      change: client.keyChanges({ account }).find(match),
    }))
  await pollUntil(
    () => look().every((a) => a.change !== undefined),
    timeoutMs,
    'the peers to be alerted',
    100,
  ).catch(() => undefined)
  return look()
}

/**
 * Whether every peer was alerted and all computed the same safety numbers before and after the change.
 *
 * @example report.record(name, allAlerted(alerts), ...)
 */
export function allAlerted(alerts: readonly PeerAlert[]): boolean {
  const first = alerts[0]?.change
  return (
    first !== undefined &&
    first.fingerprintBefore !== first.fingerprintAfter &&
    alerts.every(
      ({ change }) =>
        change !== undefined &&
        change.fingerprintBefore === first.fingerprintBefore &&
        change.fingerprintAfter === first.fingerprintAfter,
    )
  )
}

/**
 * The report's lines for the alerts: each peer's event (kind, block, devices), then the safety numbers before and
 * after, which every peer computed alike.
 *
 * @example report.record(name, ok, detail, alertLines(alerts))
 */
export function alertLines(alerts: readonly PeerAlert[]): string[] {
  const lines = alerts.map(({ peer, change }) =>
    change
      ? `${peer}: keyChange "${change.kind}" at block ${change.block}` +
        `${change.added.length ? `, added ${change.added.map(short).join(', ')}` : ''}` +
        `${change.revoked.length ? `, revoked ${change.revoked.map(short).join(', ')}` : ''}`
      : `${peer}: no alert`,
  )
  const first = alerts.find((a) => a.change)?.change
  if (first)
    lines.push(
      `safety number before: ${first.fingerprintBefore}`,
      `safety number after:  ${first.fingerprintAfter}`,
    )
  return lines
}

const short = (id: string) => `${id.slice(0, 10)}…`
