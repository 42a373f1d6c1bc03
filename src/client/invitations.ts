/** Group invitations held for the account's consent (security E4): which are joined at once, holding, accepting, declining. */
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes, isAddressEqual } from 'viem'
import { decodeEnvelope, type Envelope, encodeEnvelope } from '../protocol/envelope.js'
import { GroupInvitations } from '../store/groupInvitations.js'
import type { ClientContext } from './context.js'
import { InvitationNotFoundError } from './groupErrors.js'
import { contactsOf } from './keyChanges.js'
import type { ReceivedWelcome } from './receiveWelcome.js'
import type { GroupInvitation } from './types.js'

/** What a held invitation keeps: the Welcome envelope, the key package it opens with, and what it names. */
type Held = { envelope: Hex; keyPackageRef: string; invitation: GroupInvitation }

/**
 * The invitation a verified group Welcome stands for (its inviter found only when the policy needs it), or undefined
 * when this device joins it at once: the policy is `'anyone'`, the context is a direct conversation, or the policy
 * accepts it.
 *
 * @example const invitation = await heldInvitation(ctx, envelope, joined); if (invitation) holdInvitation(...)
 */
export async function heldInvitation(
  ctx: Pick<ClientContext, 'groupAccept' | 'store' | 'config' | 'account'>,
  envelope: Envelope,
  joined: ReceivedWelcome,
): Promise<GroupInvitation | undefined> {
  const policy = ctx.groupAccept
  if (policy === 'anyone' || joined.context.kind !== 'group') return undefined
  const inviter = await joined.inviter()
  const invitation: GroupInvitation = {
    id: envelope.id,
    conversation: joined.groupId,
    inviter,
    name: joined.context.name ?? '',
    members: joined.context.members,
    admins: joined.context.admins,
    receivedAt: Date.now(),
  }
  const accepted =
    typeof policy === 'function' ? policy(invitation) : inviter !== undefined && isContact(ctx, inviter)
  return accepted ? undefined : invitation
}

/**
 * Stores the invitation with its Welcome envelope, the key package kept for it, and the envelope's verdict
 * `invitation` (a replay of it is refused), in one transaction.
 *
 * @example holdInvitation(ctx, envelope, invitation, joined.keyPackageRef)
 */
export function holdInvitation(
  ctx: Pick<ClientContext, 'store'>,
  envelope: Envelope,
  invitation: GroupInvitation,
  keyPackageRef: string,
): void {
  const held: Held = { envelope: bytesToHex(encodeEnvelope(envelope)), keyPackageRef, invitation }
  const data = new TextEncoder().encode(JSON.stringify(held))
  ctx.store.transaction(() => {
    new GroupInvitations(ctx.store).put({
      id: envelope.id,
      conversation: invitation.conversation,
      receivedAt: invitation.receivedAt,
      data,
    })
    ctx.store.markProcessed(envelope.id, 'invitation')
  })
}

/**
 * The invitations this device holds, oldest first.
 *
 * @example listInvitations(ctx).map((i) => i.name)
 */
export function listInvitations(ctx: Pick<ClientContext, 'store'>): GroupInvitation[] {
  return heldRows(ctx).map((h) => h.invitation)
}

/**
 * The held invitation `id` with its Welcome envelope; throws `InvitationNotFoundError` when there is none.
 *
 * @example const { envelope } = takeInvitation(ctx, id)
 */
export function findInvitation(
  ctx: Pick<ClientContext, 'store'>,
  id: Hex,
): { envelope: Envelope; keyPackageRef: string; invitation: GroupInvitation } {
  const held = heldRows(ctx).find((h) => h.invitation.id.toLowerCase() === id.toLowerCase())
  if (!held) throw new InvitationNotFoundError({ id })
  return { ...held, envelope: decodeEnvelope(hexToBytes(held.envelope)) }
}

/**
 * Forgets the invitation `id`; `discardKeyPackage` also deletes the one-time key package kept for it (declining).
 *
 * @example forgetInvitation(ctx, id, { discardKeyPackage: true })
 */
export function forgetInvitation(
  ctx: Pick<ClientContext, 'store'>,
  id: Hex,
  { discardKeyPackage = false }: { discardKeyPackage?: boolean } = {},
): void {
  const { keyPackageRef } = findInvitation(ctx, id)
  ctx.store.transaction(() => {
    new GroupInvitations(ctx.store).delete(id)
    if (discardKeyPackage) ctx.store.deleteKeyPackage(keyPackageRef)
  })
}

function heldRows(ctx: Pick<ClientContext, 'store'>): Held[] {
  return new GroupInvitations(ctx.store).list().map((row) => {
    const held = JSON.parse(new TextDecoder().decode(row.data)) as Held
    const { invitation } = held
    return {
      ...held,
      invitation: {
        ...invitation,
        inviter: invitation.inviter && getAddress(invitation.inviter),
        members: invitation.members.map((m) => getAddress(m)),
        admins: invitation.admins.map((m) => getAddress(m)),
      },
    }
  })
}

function isContact(ctx: Pick<ClientContext, 'store' | 'config' | 'account'>, account: Address): boolean {
  return isAddressEqual(account, ctx.account) || contactsOf(ctx).some((c) => isAddressEqual(c, account))
}
