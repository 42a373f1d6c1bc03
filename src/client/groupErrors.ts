/** Errors of group conversations: who may change a group, commits that keep losing the race for an epoch, held invitations. */
import { UsageError } from '../errors.js'

/** Only a group's admins add or remove accounts, change admins or rename it. */
export class NotGroupAdminError extends UsageError {
  override name = 'NotGroupAdminError' as const
  constructor(p: { groupId: string; account: string }) {
    super('Only an admin of the group can change its members, admins or name.', {
      metaMessages: [`Group: ${p.groupId}`, `Account: ${p.account}`, 'Ask an admin, or leave the group.'],
      code: 'SEALPOST_NOT_GROUP_ADMIN',
    })
  }
}

/** The conversation is a direct (1:1) conversation, not a group. */
export class NotAGroupError extends UsageError {
  override name = 'NotAGroupError' as const
  constructor(p: { groupId: string }) {
    super('This conversation is a direct conversation, not a group.', {
      metaMessages: [`Conversation: ${p.groupId}`],
      code: 'SEALPOST_NOT_A_GROUP',
    })
  }
}

/** A group change names accounts that cannot be applied (not members, already members, no name, …). */
export class GroupChangeError extends UsageError {
  override name = 'GroupChangeError' as const
  constructor(p: { groupId: string; reason: string }) {
    super('The group change cannot be applied.', {
      metaMessages: [`Group: ${p.groupId}`, `Reason: ${p.reason}`],
      code: 'SEALPOST_GROUP_CHANGE',
    })
  }
}

/** Other members' commits won the epoch every time this device tried to commit. */
export class CommitContentionError extends UsageError {
  override name = 'CommitContentionError' as const
  constructor(p: { groupId: string; attempts: number }) {
    super('Other members kept committing first; the change was not applied.', {
      metaMessages: [`Group: ${p.groupId}`, `Attempts: ${p.attempts}`, 'Try again in a moment.'],
      code: 'SEALPOST_COMMIT_CONTENTION',
    })
  }
}

/** No group invitation with this id is held (it was accepted, declined, or never arrived). */
export class InvitationNotFoundError extends UsageError {
  override name = 'InvitationNotFoundError' as const
  constructor(p: { id: string }) {
    super('No group invitation with this id is held.', {
      metaMessages: [`Invitation: ${p.id}`, 'See client.groups.invitations().'],
      code: 'SEALPOST_INVITATION_NOT_FOUND',
    })
  }
}
