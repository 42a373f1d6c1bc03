/** Relay topics and their preimages: every topic is a labelled hash, and its preimage names the kind (inbox, conversation, tree, blob). */
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes, isAddress } from 'viem'
import { CodecError } from '../errors.js'
import { type ConversationContext, directGroupId, groupGroupId } from './conversationContext.js'
import { LABEL_BLOB, LABEL_INBOX, LABEL_WELCOME_KEY, LABEL_WELCOME_TREE, labelledHash } from './labels.js'

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

/**
 * What a topic is the hash of, by kind: a SUBSCRIBE carries it (protocol §6, §9.2) so that the relay recomputes the
 * topic and knows an inbox (and whose) from anything else. Each kind hashes under its own label, so no preimage of
 * one kind yields a topic of another.
 *
 * @example const p: TopicPreimage = { kind: 'inbox', deviceId }
 */
export type TopicPreimage =
  /** `SHA-256("sealpost/v1/inbox" || 0x00 || deviceId)`. */
  | { kind: 'inbox'; deviceId: Hex }
  /** A direct conversation's group id (`directGroupId`): the two accounts in either order. */
  | { kind: 'direct'; chainId: number; registry: Address; a: Address; b: Address; nonce: Hex }
  /** A group conversation's group id (`groupGroupId`). */
  | { kind: 'group'; chainId: number; registry: Address; nonce: Hex }
  /**
   * A Welcome's ratchet tree by reference: `welcomeDigest` is the Welcome key, `SHA-256("sealpost/v3/welcome-key" ||
   * 0x00 || encrypted_group_info)` (`welcomeKey`), the same in every trimmed Welcome of one commit.
   */
  | { kind: 'welcome-tree'; welcomeDigest: Hex }
  /** Bytes sent by reference (a large commit or GroupInfo, protocol §3.9): `digest` is their SHA-256 (`blobTopic`). */
  | { kind: 'blob'; digest: Hex }

/** The kind of a topic preimage. @example const k: TopicKind = 'inbox' */
export type TopicKind = TopicPreimage['kind']

/**
 * Wire byte of each topic kind (the `kind u8` of SUBSCRIBE v2).
 *
 * @example TOPIC_KINDS.inbox // 1
 */
export const TOPIC_KINDS: Readonly<Record<TopicKind, number>> = Object.freeze({
  inbox: 1,
  direct: 2,
  group: 3,
  'welcome-tree': 4,
  blob: 5,
})

/**
 * Length of each kind's preimage body on the wire: deviceId; chainId u64, registry, low and high account, nonce;
 * chainId u64, registry, nonce; the Welcome key; SHA-256 of the blob.
 *
 * @example TOPIC_PREIMAGE_BYTES.direct // 100
 */
export const TOPIC_PREIMAGE_BYTES: Readonly<Record<TopicKind, number>> = Object.freeze({
  inbox: 32,
  direct: 100,
  group: 60,
  'welcome-tree': 32,
  blob: 32,
})

/** A topic preimage that cannot be encoded, or bytes that are not one. */
export class TopicPreimageError extends CodecError {
  override name = 'TopicPreimageError' as const
  /** Short machine-friendly reason. */
  readonly reason: string
  constructor({ reason }: { reason: string }) {
    super('Topic preimage is malformed.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_TOPIC_PREIMAGE_MALFORMED',
    })
    this.reason = reason
  }
}

/**
 * The topic a preimage hashes to (lowercase hex), by the derivation of its kind.
 *
 * @example topicOf({ kind: 'inbox', deviceId }) === inboxTopic(deviceId) // true
 */
export function topicOf(preimage: TopicPreimage): Hex {
  switch (preimage.kind) {
    case 'inbox':
      return inboxTopic(preimage.deviceId)
    case 'direct':
      return directGroupId(preimage)
    case 'group':
      return groupGroupId(preimage)
    case 'welcome-tree':
      return bytesToHex(labelledHash(LABEL_WELCOME_TREE, hexToBytes(preimage.welcomeDigest)))
    case 'blob':
      return bytesToHex(labelledHash(LABEL_BLOB, hexToBytes(preimage.digest)))
    default:
      throw new TopicPreimageError({ reason: 'unknown kind' })
  }
}

/**
 * The Welcome key of a Welcome: `SHA-256("sealpost/v3/welcome-key" || 0x00 || encrypted_group_info)`. Every Welcome
 * of one commit, trimmed to one recipient's group secrets, shares it, and it binds the group (its GroupInfo).
 *
 * @example const key = welcomeKey(welcome.encryptedGroupInfo)
 */
export function welcomeKey(encryptedGroupInfo: Uint8Array): Hex {
  return bytesToHex(labelledHash(LABEL_WELCOME_KEY, encryptedGroupInfo))
}

/**
 * The preimage of the topic a Welcome's tree travels on (`welcomeTreeTopic(encryptedGroupInfo)`).
 *
 * @example transport.pull({ topic, after: 0n, preimage: () => welcomeTreePreimage(welcome.encryptedGroupInfo) })
 */
export function welcomeTreePreimage(encryptedGroupInfo: Uint8Array): TopicPreimage {
  return { kind: 'welcome-tree', welcomeDigest: welcomeKey(encryptedGroupInfo) }
}

/**
 * The preimage of the topic bytes with SHA-256 `digest` travel on by reference (`blobTopic(digest)`).
 *
 * @example transport.pull({ topic: blobTopic(digest), after: 0n, preimage: () => blobPreimage(digest) })
 */
export function blobPreimage(digest: Hex): TopicPreimage {
  return { kind: 'blob', digest }
}

/**
 * The preimage of a conversation's topic (its group id, `contextGroupId`) from its conversation context.
 *
 * @example transport.subscribe({ topics: [groupId], preimage: () => conversationPreimage(contextOf(state)), onDelivery })
 */
export function conversationPreimage(context: ConversationContext): TopicPreimage {
  const { chainId, registry, nonce } = context
  if (context.kind === 'group') return { kind: 'group', chainId, registry, nonce }
  const [a, b] = context.members as [Address, Address]
  return { kind: 'direct', chainId, registry, a, b, nonce }
}

/**
 * `kind u8 | body` (body length {@link TOPIC_PREIMAGE_BYTES} of the kind; a direct preimage lists its accounts in
 * ascending order). Throws {@link TopicPreimageError} on a malformed field.
 *
 * @example encodeTopicPreimage({ kind: 'inbox', deviceId }).length // 33
 */
export function encodeTopicPreimage(preimage: TopicPreimage): Uint8Array {
  const body = ((): Uint8Array[] => {
    switch (preimage?.kind) {
      case 'inbox':
        return [field(preimage.deviceId, 32, 'deviceId')]
      case 'welcome-tree':
        return [field(preimage.welcomeDigest, 32, 'welcomeDigest')]
      case 'blob':
        return [field(preimage.digest, 32, 'digest')]
      case 'group':
        return [
          chainIdField(preimage.chainId),
          address(preimage.registry),
          field(preimage.nonce, 32, 'nonce'),
        ]
      case 'direct': {
        const [low, high] = [address(preimage.a), address(preimage.b)].sort(compareBytes)
        if (compareBytes(low!, high!) === 0) throw fail('a direct preimage names two different accounts')
        const { chainId, registry, nonce } = preimage
        return [chainIdField(chainId), address(registry), low!, high!, field(nonce, 32, 'nonce')]
      }
      default:
        throw fail('unknown kind')
    }
  })()
  const out = new Uint8Array(1 + TOPIC_PREIMAGE_BYTES[preimage.kind])
  out[0] = TOPIC_KINDS[preimage.kind]
  let at = 1
  for (const part of body) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/**
 * Parses `kind u8 | body` (exactly; see {@link encodeTopicPreimage}). An unknown kind, a wrong length, a chain id
 * of 0 or above 2^53 − 1, or direct accounts that are not strictly ascending is a {@link TopicPreimageError}.
 *
 * @example const preimage = decodeTopicPreimage(bytes)
 */
export function decodeTopicPreimage(bytes: Uint8Array): TopicPreimage {
  const kind = (Object.keys(TOPIC_KINDS) as TopicKind[]).find((k) => TOPIC_KINDS[k] === bytes[0])
  if (kind === undefined) throw fail(`unknown kind ${bytes[0]}`)
  if (bytes.length !== 1 + TOPIC_PREIMAGE_BYTES[kind])
    throw fail(`the preimage of kind ${kind} is ${TOPIC_PREIMAGE_BYTES[kind]} bytes`)
  const hex = (from: number, to: number) => bytesToHex(bytes.subarray(from, to))
  if (kind === 'inbox') return { kind, deviceId: hex(1, 33) }
  if (kind === 'welcome-tree') return { kind, welcomeDigest: hex(1, 33) }
  if (kind === 'blob') return { kind, digest: hex(1, 33) }
  const chainId = new DataView(bytes.buffer, bytes.byteOffset + 1, 8).getBigUint64(0)
  if (chainId === 0n || chainId > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('chain id out of range')
  const registry = getAddress(hex(9, 29))
  if (kind === 'group') return { kind, chainId: Number(chainId), registry, nonce: hex(29, 61) }
  if (compareBytes(bytes.subarray(29, 49), bytes.subarray(49, 69)) >= 0)
    throw fail('direct accounts are not in ascending order')
  const a = getAddress(hex(29, 49))
  const b = getAddress(hex(49, 69))
  return { kind, chainId: Number(chainId), registry, a, b, nonce: hex(69, 101) }
}

function fail(reason: string): TopicPreimageError {
  return new TopicPreimageError({ reason })
}

function field(value: Hex, length: number, name: string): Uint8Array {
  if (typeof value !== 'string' || !new RegExp(`^0x[0-9a-fA-F]{${2 * length}}$`).test(value))
    throw fail(`${name} must be ${length} bytes`)
  return hexToBytes(value)
}

function address(value: Address): Uint8Array {
  if (!isAddress(value, { strict: false })) throw fail('an account or registry must be 20 bytes')
  return hexToBytes(value)
}

function chainIdField(chainId: number): Uint8Array {
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw fail('chain id out of range')
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(chainId))
  return out
}

function compareBytes(x: Uint8Array, y: Uint8Array): number {
  return Buffer.compare(x, y)
}
