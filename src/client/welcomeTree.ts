/** Sending and fetching a Welcome's ratchet tree by reference when it is too large to travel inside the Welcome. */
import type { ClientState, Proposal, RatchetTree } from 'ts-mls'
import { decodeRatchetTree, encodeRatchetTree } from 'ts-mls/ratchetTree.js'
import { createEnvelope } from '../protocol/envelope.js'
import { welcomeTreePreimage } from '../protocol/topics.js'
import { encodeTreeChunks, reassembleTree, welcomeTreeTopic } from '../protocol/welcomeTree.js'
import { pullAll } from './byReference.js'
import type { Transport } from './transport.js'

/** Largest estimated tree a Welcome carries inline (`ratchet_tree` extension): 256 KiB. @example INLINE_TREE_BYTES // 262144 */
export const INLINE_TREE_BYTES = 256 * 1024

/**
 * Whether a commit of `proposals` on `state` should send its Welcome's tree by reference: the tree after it, estimated
 * from the current tree's size per leaf (a leaf and a parent node per added member), exceeds `limit`.
 *
 * @example const byReference = treeByReference(state, proposals)
 */
export function treeByReference(
  state: ClientState,
  proposals: readonly Proposal[],
  limit = INLINE_TREE_BYTES,
): boolean {
  const adds = proposals.filter((p) => p.proposalType === 'add').length
  if (adds === 0) return false
  const bytes = encodeRatchetTree(state.ratchetTree).length
  const leaves = Math.max(1, Math.ceil(state.ratchetTree.length / 2))
  return bytes + adds * 2 * Math.ceil(bytes / leaves) > limit
}

/**
 * Publishes `tree` in chunks on the topic derived from the Welcome's `encrypted_group_info` (before the Welcomes, so a
 * joiner finds it). The relay stores the chunks once, however many devices join.
 *
 * @example await publishWelcomeTree(transport, welcome.encryptedGroupInfo, result.newState.ratchetTree)
 */
export async function publishWelcomeTree(
  transport: Pick<Transport, 'publish'>,
  encryptedGroupInfo: Uint8Array,
  tree: RatchetTree,
): Promise<void> {
  const topic = welcomeTreeTopic(encryptedGroupInfo)
  for (const payload of encodeTreeChunks(encodeRatchetTree(tree)))
    await transport.publish(createEnvelope({ kind: 'welcome', topic, payload }))
}

/**
 * The ratchet tree a Welcome was sent with by reference, or undefined when there is none on its topic (the Welcome
 * carries it inline). Its integrity is MLS's to check: `joinGroup` verifies it against the GroupInfo's tree hash.
 *
 * @example const ratchetTree = await fetchWelcomeTree(transport, welcome.encryptedGroupInfo)
 */
export async function fetchWelcomeTree(
  transport: Pick<Transport, 'pull'>,
  encryptedGroupInfo: Uint8Array,
): Promise<RatchetTree | undefined> {
  const topic = welcomeTreeTopic(encryptedGroupInfo)
  const payloads = await pullAll(transport, topic, welcomeTreePreimage(encryptedGroupInfo))
  const bytes = payloads.length > 0 ? reassembleTree(payloads) : undefined
  return bytes && decodeRatchetTree(bytes, 0)?.[0]
}
