/** Relay topics: one per conversation (the MLS group id) and one inbox per device. */
import { bytesToHex, type Hex, hexToBytes } from 'viem'
import { LABEL_INBOX, labelledHash } from './labels.js'

/**
 * The inbox topic of a device: SHA-256("sealpost/v1/inbox" || 0x00 || deviceId).
 * Welcomes addressed to the device are published here.
 *
 * @example const topic = inboxTopic(deviceId)
 */
export function inboxTopic(deviceId: Hex): Hex {
  return bytesToHex(labelledHash(LABEL_INBOX, hexToBytes(deviceId)))
}

/**
 * The topic of a conversation is its 32-byte MLS group id.
 *
 * @example const topic = conversationTopic(groupId)
 */
export function conversationTopic(groupId: Hex): Hex {
  return groupId
}
