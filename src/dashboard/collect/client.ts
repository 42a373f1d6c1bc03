/** What a local client reports: its sent messages (with the text it owns), what it verified or refused, receipts, its log, its groups. */
import type { Address, Hex } from 'viem'
import type { Client, ClientEvents } from '../../client/Client.js'
import { VerificationError } from '../../errors.js'
import type { DashboardEvent, ParticipantEvent } from '../events.js'
import { type Collector, isBytes32 } from './collector.js'
import { attachGroups } from './groups.js'
import { attachKeyChanges } from './keyChanges.js'
import { verificationEvent } from './verification.js'

/**
 * How the dashboard names a client's device.
 *
 * @example attachClient(collector, phone, { name: 'Alice', deviceName: 'phone' } satisfies ClientLabel)
 */
export type ClientLabel = { name: string; role?: ParticipantEvent['role']; deviceName?: string | undefined }

/**
 * Feeds the hub with a local client's view: its sent messages (with the text it owns), what it received and
 * verified, its rejections, receipts and log entries.
 *
 * @example const detach = attachClient(collector, alice, { name: 'Alice' })
 */
export function attachClient(
  collector: Collector,
  client: Client,
  { name, role, deviceName }: ClientLabel,
): () => void {
  const { hub } = collector
  const emit = (event: DashboardEvent) => hub.emit(event)
  emit({
    type: 'participant',
    at: Date.now(),
    account: client.account,
    name,
    deviceId: client.deviceId,
    ...(deviceName ? { deviceName } : {}),
    ...(role ? { role } : {}),
  })
  let lastLog = client.log.head()?.index ?? -1
  let lastHash: Hex | undefined = client.log.head()?.hash
  const drainLog = () => {
    if (client.closed) return
    for (const entry of client.log.entries({ from: lastLog + 1, limit: 500 })) {
      const data = entry.data as Record<string, unknown>
      emit({
        type: 'log',
        at: entry.at,
        account: client.account,
        deviceId: client.deviceId,
        index: entry.index,
        kind: entry.kind,
        hash: entry.hash,
        prevHash: entry.prevHash,
        chained: lastHash === undefined ? entry.index === 0 : entry.prevHash === lastHash,
        summary: logSummary(entry.kind, data),
        ...(typeof data.envelopeId === 'string' && isBytes32(data.envelopeId) ? { id: data.envelopeId } : {}),
      })
      lastLog = entry.index
      lastHash = entry.hash
    }
  }
  const onState = (e: ClientEvents['state'][0]) => {
    const stored = client.messages.get(e.id)
    if (!stored) return
    if (stored.direction === 'in') {
      emit({
        type: 'message',
        at: Date.now(),
        id: e.id,
        conversation: e.conversation,
        from: stored.from as Address,
        to: [client.account],
        state: e.state,
        observer: name,
      })
      drainLog()
      return
    }
    const peer = client.conversations.get(e.conversation)?.peer
    emit({
      type: 'message',
      at: Date.now(),
      id: e.id,
      conversation: e.conversation,
      from: client.account,
      fromDevice: client.deviceId,
      to: peer ? [peer] : groupRecipients(client, e.conversation),
      state: e.state,
      seq: stored.seq.toString(),
      ...(stored.leaf ? { leaf: stored.leaf as Hex } : {}),
      text: stored.body.slice(0, 4096),
      observer: name,
    })
    drainLog()
  }
  const onMessage = (m: ClientEvents['message'][0]) => {
    const accepted = collector.acceptedAt.get(m.id)
    if (accepted) collector.latencies.push(Date.now() - accepted)
    emit({
      type: 'message',
      at: Date.now(),
      id: m.id,
      conversation: m.conversation,
      from: m.from,
      fromDevice: m.device,
      to: [client.account],
      state: 'received',
      seq: m.seq.toString(),
      leaf: m.leaf,
      text: m.text.slice(0, 4096),
      observer: name,
    })
    emit(verificationEvent(m.id, client.account, m.report, m))
    drainLog()
  }
  const onRejected = (r: ClientEvents['rejected'][0]) => {
    const id = isBytes32(r.envelopeId) ? r.envelopeId : undefined
    emit({
      type: 'alert',
      at: Date.now(),
      source: 'client',
      severity: r.error instanceof VerificationError ? 'critical' : 'warning',
      code: r.error.code,
      message: `${name} rejected a message: ${r.error.shortMessage}`.slice(0, 500),
      account: client.account,
      ...(id ? { id } : {}),
    })
    // The sender as the relay saw it; without a relay feed, the peer of the conversation it arrived in.
    const from = id
      ? (collector.publishers.get(id) ??
        (isBytes32(r.topic) ? client.conversations.get(r.topic)?.peer : undefined))
      : undefined
    if (id && from && isBytes32(r.topic)) {
      emit({
        type: 'message',
        at: Date.now(),
        id,
        conversation: r.topic,
        from,
        to: [client.account],
        state: 'rejected',
        observer: name,
      })
      emit(verificationEvent(id, client.account, r.report, undefined, r.error))
    }
    drainLog()
  }
  const onReceipt = (e: ClientEvents['receipt'][0]) => {
    emit({
      type: 'receipt',
      at: Date.now(),
      leaf: e.leaf,
      ids: e.messages.slice(0, 64),
      root: e.receipt.root,
      index: e.receipt.index,
      treeSize: e.receipt.treeSize,
      path: e.receipt.path.slice(0, 64),
      txHash: e.receipt.txHash,
      blockNumber: e.receipt.blockNumber.toString(),
      blockTimestamp: e.receipt.blockTimestamp.toString(),
      confirmations: e.confirmations.toString(),
      verified: true,
    })
    drainLog()
  }
  client.events.on('state', onState)
  client.events.on('message', onMessage)
  client.events.on('rejected', onRejected)
  client.events.on('receipt', onReceipt)
  const detachGroups = attachGroups(emit, client, name)
  const detachKeys = attachKeyChanges(emit, client, name)
  drainLog()
  return () => {
    detachGroups()
    detachKeys()
    client.events.off('state', onState)
    client.events.off('message', onMessage)
    client.events.off('rejected', onRejected)
    client.events.off('receipt', onReceipt)
  }
}

/** The other member accounts of a group conversation (none when it is not a group this device holds). */
function groupRecipients(client: Client, conversation: Hex): Address[] {
  try {
    const info = client.groups.get(conversation)?.info()
    return info
      ? info.members.filter((a) => a.toLowerCase() !== client.account.toLowerCase()).slice(0, 64)
      : []
  } catch {
    return []
  }
}

function logSummary(kind: string, data: Record<string, unknown>): string {
  const short = (v: unknown) => (typeof v === 'string' ? `${v.slice(0, 10)}…` : '')
  switch (kind) {
    case 'sent':
    case 'received':
      return `${kind} ${short(data.envelopeId)} leaf ${short(data.leaf)}`
    case 'rejected':
      return `rejected ${short(data.envelopeId)}: ${String(data.code)} at ${String(data.step)}`
    case 'receipt':
      return `receipt for leaf ${short(data.leaf)}`
    default:
      return `log head ${short(data.head)} anchored`
  }
}
