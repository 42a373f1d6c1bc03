/** The preimage of a topic this client follows (its own inbox or a stored conversation), for SUBSCRIBE v2 (protocol §9.4). */
import type { Hex } from 'viem'
import { conversationPreimage, inboxTopic, type TopicPreimage } from '../protocol/topics.js'
import type { ClientContext } from './context.js'
import { contextOf } from './conversationPolicy.js'
import { requireGroupState } from './storedGroup.js'

/**
 * The preimage of `topic`: this device's inbox, or the group id inputs of the stored conversation `topic` (from its
 * conversation context). A topic that is neither throws `UnknownConversationError`.
 *
 * @example ctx.transport.pull({ topic, after, preimage: (t) => topicPreimage(ctx, t) })
 */
export function topicPreimage(
  ctx: Pick<ClientContext, 'store' | 'config' | 'deviceId'>,
  topic: Hex,
): TopicPreimage {
  if (topic.toLowerCase() === inboxTopic(ctx.deviceId)) return { kind: 'inbox', deviceId: ctx.deviceId }
  return conversationPreimage(contextOf(requireGroupState(ctx, topic)))
}
