/** The recipients of a message: the member accounts of its conversation at the MLS epoch it is sealed in. */
import type { ClientState } from 'ts-mls'
import type { Address } from 'viem'
import { sortedRecipients } from '../protocol/recipients.js'
import { identityOf } from './mls.js'

/**
 * The accounts of every leaf with a Sealpost credential in the tree of `epoch` (the current one by default, or a past
 * one ts-mls still keeps), sorted and deduplicated; undefined when the state holds no tree for that epoch. This is
 * what a v2 statement's `recipientsRoot` commits to.
 *
 * @example const recipients = epochRecipients(state, message.privateMessage.epoch)
 */
export function epochRecipients(state: ClientState, epoch?: bigint): Address[] | undefined {
  const tree =
    epoch === undefined || epoch === state.groupContext.epoch
      ? state.ratchetTree
      : state.historicalReceiverData.get(epoch)?.ratchetTree
  if (!tree) return undefined
  const accounts: Address[] = []
  tree.forEach((node, index) => {
    if (index % 2 !== 0 || node?.nodeType !== 'leaf') return
    const identity = identityOf(node.leaf.credential)
    if (identity) accounts.push(identity.account)
  })
  return sortedRecipients(accounts)
}
