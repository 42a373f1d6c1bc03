/** What a local client reports about its groups: each group's members and epoch, and per-member signed delivery. */
import type { Hex } from 'viem'
import type { Client } from '../../client/Client.js'
import type { DashboardEvent, DeliveryEvent, GroupEvent } from '../events.js'

/** The most member accounts a group or delivery event lists (the schema's bound). */
const LISTED = 1024

/**
 * The group event for `groupId` as `client` holds it, or undefined when it holds no such group.
 *
 * @example const event = groupEvent(alice, team.id, 'Alice')
 */
export function groupEvent(client: Client, groupId: Hex, observer?: string): GroupEvent | undefined {
  const group = client.groups.get(groupId)
  if (!group) return undefined
  const info = group.info()
  const { block, members } = group.members()
  return {
    type: 'group',
    at: Date.now(),
    id: group.id,
    name: info.name.slice(0, 256),
    epoch: info.epoch.toString(),
    block: block.toString(),
    memberCount: members.length,
    members: members.slice(0, LISTED).map((m) => ({
      account: m.account,
      admin: m.admin,
      devices: m.devices.slice(0, 64).map((d) => ({
        deviceId: d.deviceId,
        status: d.status,
        ...(d.revokedAt !== undefined ? { revokedAt: d.revokedAt.toString() } : {}),
        inGroup: d.inGroup,
      })),
    })),
    by: client.account,
    active: info.active,
    ...(observer ? { observer } : {}),
  }
}

/**
 * The delivery event of message `messageId` in group `groupId` as `client` holds its signed delivery receipts, or
 * undefined when it holds no such group.
 *
 * @example const event = deliveryEvent(alice, team.id, sent.id, 'Alice') // "delivered to 2 of 3 members"
 */
export function deliveryEvent(
  client: Client,
  groupId: Hex,
  messageId: Hex,
  observer?: string,
): DeliveryEvent | undefined {
  const group = client.groups.get(groupId)
  if (!group) return undefined
  const { delivered, members } = group.delivery(messageId)
  return {
    type: 'delivery',
    at: Date.now(),
    id: messageId,
    conversation: group.id,
    members: members.slice(0, LISTED),
    delivered: delivered.slice(0, LISTED),
    memberCount: members.length,
    ...(observer ? { observer } : {}),
  }
}

/**
 * Feeds the hub with a client's groups: every group it holds now, again on each membership change or join, and the
 * per-member delivery of a group message it sent or holds receipts for.
 *
 * @example const detach = attachGroups((e) => hub.emit(e), alice, 'Alice')
 */
export function attachGroups(
  emit: (event: DashboardEvent) => void,
  client: Client,
  observer: string,
): () => void {
  const report = (groupId: Hex) => {
    if (client.closed) return
    const event = quietly(() => groupEvent(client, groupId, observer))
    if (event) emit(event)
  }
  const reportDelivery = (groupId: Hex, messageId: Hex) => {
    if (client.closed) return
    const event = quietly(() => deliveryEvent(client, groupId, messageId, observer))
    if (event) emit(event)
  }
  const onMembership = (e: { conversation: Hex }) => report(e.conversation)
  const onJoined = (e: { conversation: Hex; peer: unknown }) => {
    if (e.peer === undefined) report(e.conversation)
  }
  const onDelivered = (e: { conversation: Hex; message: Hex }) => reportDelivery(e.conversation, e.message)
  const onState = (e: { id: Hex; conversation: Hex; state: string }) => {
    // A group message this device sent: its delivery line starts at "0 of M" once it is out.
    if (e.state !== 'accepted' || client.messages.get(e.id)?.direction !== 'out') return
    reportDelivery(e.conversation, e.id)
  }
  for (const group of quietly(() => client.groups.list()) ?? []) report(group.id)
  client.events.on('membership', onMembership)
  client.events.on('joined', onJoined)
  client.events.on('delivered', onDelivered)
  client.events.on('state', onState)
  return () => {
    client.events.off('membership', onMembership)
    client.events.off('joined', onJoined)
    client.events.off('delivered', onDelivered)
    client.events.off('state', onState)
  }
}

/** A dashboard view must never break its client: a group or message the store no longer holds is just not shown. */
function quietly<T>(read: () => T): T | undefined {
  try {
    return read()
  } catch {
    return undefined
  }
}
