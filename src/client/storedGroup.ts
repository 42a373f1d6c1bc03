/** A conversation's stored row and MLS state by id, or `UnknownConversationError`: the one look-up every room uses. */
import type { ClientState } from 'ts-mls'
import type { Hex } from 'viem'
import type { StoredGroup } from '../store/deviceStore.js'
import type { ClientContext } from './context.js'
import { UnknownConversationError } from './errors.js'
import { deserializeGroupState } from './mls.js'

/**
 * The stored conversation `groupId`; `UnknownConversationError` when this device holds none.
 *
 * @example const group = requireGroup(ctx, groupId)
 */
export function requireGroup(ctx: Pick<ClientContext, 'store'>, groupId: Hex): StoredGroup {
  const group = ctx.store.getGroup(groupId)
  if (!group) throw new UnknownConversationError({ topic: groupId })
  return group
}

/**
 * The MLS state of the stored conversation `groupId`; `UnknownConversationError` when this device holds none.
 *
 * @example const { epoch } = requireGroupState(ctx, groupId).groupContext
 */
export function requireGroupState(ctx: Pick<ClientContext, 'store' | 'config'>, groupId: Hex): ClientState {
  return deserializeGroupState(requireGroup(ctx, groupId).state, ctx.config)
}
