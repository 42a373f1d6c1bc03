/** The conversation context: a conversation's kind and intended member accounts, carried in the MLS group context. */
import { createHash } from 'node:crypto'
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes, isAddress } from 'viem'
import { CodecError } from '../errors.js'

/** MLS group-context extension type of the conversation context (RFC 9420 §17.1 private-use range). @example CONVERSATION_CONTEXT_EXTENSION // 0xff53 */
export const CONVERSATION_CONTEXT_EXTENSION = 0xff53
/** Version byte of the conversation context encoding. @example CONVERSATION_CONTEXT_VERSION // 1 */
export const CONVERSATION_CONTEXT_VERSION = 1
/** Direct group id: SHA-256(label || 0x00 || chainId u64 || registry || lower account || higher account || nonce). @example LABEL_DIRECT_GROUP // 'sealpost/v2/direct-group' */
export const LABEL_DIRECT_GROUP = 'sealpost/v2/direct-group'
/** Group id of a group conversation: SHA-256(label || 0x00 || chainId u64 || registry || nonce). @example LABEL_GROUP_ID // 'sealpost/v2/group' */
export const LABEL_GROUP_ID = 'sealpost/v2/group'
/** Most member accounts a group context may list (a 10,000-account context is 200 kB). @example MAX_CONVERSATION_MEMBERS // 10_000 */
export const MAX_CONVERSATION_MEMBERS = 10_000
/** Longest group name, in UTF-8 bytes. @example MAX_GROUP_NAME_BYTES // 64 */
export const MAX_GROUP_NAME_BYTES = 64

/** `direct`: a 1:1 conversation of exactly two accounts; `group`: several accounts with admins. @example const k: ConversationKind = 'direct' */
export type ConversationKind = 'direct' | 'group'

/**
 * What a conversation is meant to be: its kind, the deployment it belongs to, a creation nonce, its member accounts
 * and its admins (both strictly ascending), and for a group its name.
 *
 * @example const ctx: ConversationContext = { kind: 'direct', chainId, registry, nonce, members: [a, b], admins: [a, b] }
 */
export type ConversationContext = {
  kind: ConversationKind
  chainId: number
  registry: Address
  nonce: Hex
  members: Address[]
  admins: Address[]
  /** A group's name (1 to 64 UTF-8 bytes); absent for a direct conversation. */
  name?: string | undefined
}

/** The bytes are not a canonical conversation context. */
export class ConversationContextCodecError extends CodecError {
  override name = 'ConversationContextCodecError' as const
  constructor({ reason }: { reason: string }) {
    super('Conversation context is malformed.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_CONVERSATION_CONTEXT_MALFORMED',
    })
  }
}

const KINDS: Record<ConversationKind, number> = { direct: 1, group: 2 }

/**
 * The context of a new direct conversation between `a` and `b` (order free; members and admins are sorted).
 *
 * @example const ctx = directContext({ chainId, registry, a: alice, b: bob, nonce })
 */
export function directContext(p: {
  chainId: number
  registry: Address
  a: Address
  b: Address
  nonce: Hex
}): ConversationContext {
  const members = sortAccounts([p.a, p.b])
  return {
    kind: 'direct',
    chainId: p.chainId,
    registry: getAddress(p.registry),
    nonce: p.nonce,
    members,
    admins: members,
  }
}

/**
 * The context of a new group conversation: `creator` is a member and an admin, `admins` are members, and the lists
 * are sorted and deduplicated.
 *
 * @example const ctx = groupContext({ chainId, registry, nonce, name: 'ops', creator: alice, members: [bob, carol] })
 */
export function groupContext(p: {
  chainId: number
  registry: Address
  nonce: Hex
  name: string
  creator: Address
  members: readonly Address[]
  admins?: readonly Address[] | undefined
}): ConversationContext {
  const unique = (list: readonly Address[]) => sortAccounts([...new Set(list.map((a) => getAddress(a)))])
  const context: ConversationContext = {
    kind: 'group',
    chainId: p.chainId,
    registry: getAddress(p.registry),
    nonce: p.nonce,
    members: unique([p.creator, ...p.members, ...(p.admins ?? [])]),
    admins: unique([p.creator, ...(p.admins ?? [])]),
    name: p.name,
  }
  check(context)
  return context
}

/**
 * Encodes a context canonically: version u8 | kind u8 | chainId u64 | registry 20 | nonce 32 | memberCount u16 |
 * members 20·n | adminCount u16 | admins 20·m, then for a group nameLength u8 | name (big-endian; a direct context is
 * 146 bytes). Throws `ConversationContextCodecError` for a value the decoder would refuse.
 *
 * @example const bytes = encodeConversationContext(ctx)
 */
export function encodeConversationContext(c: ConversationContext): Uint8Array {
  check(c)
  const name = c.kind === 'group' ? new TextEncoder().encode(c.name) : new Uint8Array(0)
  const nameField = c.kind === 'group' ? 1 + name.length : 0
  const out = new Uint8Array(66 + 20 * c.members.length + 20 * c.admins.length + nameField)
  const view = new DataView(out.buffer)
  out[0] = CONVERSATION_CONTEXT_VERSION
  out[1] = KINDS[c.kind]
  view.setBigUint64(2, BigInt(c.chainId))
  out.set(hexToBytes(c.registry), 10)
  out.set(hexToBytes(c.nonce), 30)
  let at = 62
  for (const list of [c.members, c.admins]) {
    view.setUint16(at, list.length)
    at += 2
    for (const account of list) {
      out.set(hexToBytes(account), at)
      at += 20
    }
  }
  if (c.kind === 'group') {
    out[at] = name.length
    out.set(name, at + 1)
  }
  return out
}

/**
 * Decodes a context; anything but the canonical encoding of a valid context is a `ConversationContextCodecError`.
 *
 * @example const { kind, members } = decodeConversationContext(extension.extensionData)
 */
export function decodeConversationContext(bytes: Uint8Array): ConversationContext {
  const fail = (reason: string) => new ConversationContextCodecError({ reason })
  if (!(bytes instanceof Uint8Array) || bytes.length < 66) throw fail('truncated')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes[0] !== CONVERSATION_CONTEXT_VERSION) throw fail(`unsupported version ${bytes[0]}`)
  const kind = (Object.keys(KINDS) as ConversationKind[]).find((k) => KINDS[k] === bytes[1])
  if (!kind) throw fail(`unknown kind ${bytes[1]}`)
  const chainId = view.getBigUint64(2)
  if (chainId === 0n || chainId > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('chain id out of range')
  let at = 62
  const readList = () => {
    if (at + 2 > bytes.length) throw fail('truncated')
    const count = view.getUint16(at)
    at += 2
    if (at + 20 * count > bytes.length) throw fail('truncated')
    const list: Address[] = []
    for (let i = 0; i < count; i++, at += 20) list.push(getAddress(bytesToHex(bytes.subarray(at, at + 20))))
    return list
  }
  const members = readList()
  const admins = readList()
  let name: string | undefined
  if (kind === 'group') {
    if (at + 1 > bytes.length) throw fail('truncated')
    const length = bytes[at] as number
    if (at + 1 + length > bytes.length) throw fail('truncated')
    name = strictUtf8(bytes.subarray(at + 1, at + 1 + length))
    if (name === undefined) throw fail('name is not valid UTF-8')
    at += 1 + length
  }
  if (at !== bytes.length) throw fail('trailing bytes')
  const context: ConversationContext = {
    kind,
    chainId: Number(chainId),
    registry: getAddress(bytesToHex(bytes.subarray(10, 30))),
    nonce: bytesToHex(bytes.subarray(30, 62)),
    members,
    admins,
    ...(name !== undefined && { name }),
  }
  check(context)
  return context
}

/**
 * The group id of a direct conversation: bound to the deployment, the two accounts (in either order) and the nonce.
 *
 * @example const groupId = directGroupId({ chainId, registry, a: alice, b: bob, nonce })
 */
export function directGroupId(p: {
  chainId: number
  registry: Address
  a: Address
  b: Address
  nonce: Hex
}): Hex {
  const [low, high] = sortAccounts([p.a, p.b]) as [Address, Address]
  const chainId = new Uint8Array(8)
  new DataView(chainId.buffer).setBigUint64(0, BigInt(p.chainId))
  const digest = createHash('sha256')
    .update(Buffer.from(LABEL_DIRECT_GROUP, 'latin1'))
    .update(new Uint8Array([0]))
    .update(chainId)
    .update(hexToBytes(p.registry))
    .update(hexToBytes(low))
    .update(hexToBytes(high))
    .update(hexToBytes(p.nonce))
    .digest()
  return bytesToHex(digest)
}

/**
 * The group id of a group conversation: bound to the deployment and the creation nonce (its members change).
 *
 * @example const groupId = groupGroupId({ chainId, registry, nonce })
 */
export function groupGroupId(p: { chainId: number; registry: Address; nonce: Hex }): Hex {
  const chainId = new Uint8Array(8)
  new DataView(chainId.buffer).setBigUint64(0, BigInt(p.chainId))
  const digest = createHash('sha256')
    .update(Buffer.from(LABEL_GROUP_ID, 'latin1'))
    .update(new Uint8Array([0]))
    .update(chainId)
    .update(hexToBytes(p.registry))
    .update(hexToBytes(p.nonce))
    .digest()
  return bytesToHex(digest)
}

/**
 * The group id a context must have: the direct group id of its two accounts, or the group id of its nonce.
 *
 * @example if (contextGroupId(context) !== groupId) throw …
 */
export function contextGroupId(c: ConversationContext): Hex {
  if (c.kind === 'group') return groupGroupId(c)
  const [a, b] = c.members as [Address, Address]
  return directGroupId({ chainId: c.chainId, registry: c.registry, a, b, nonce: c.nonce })
}

/**
 * Accounts in ascending byte order (checksummed), the order a context lists them in.
 *
 * @example sortAccounts([bob, alice]) // [lower, higher]
 */
export function sortAccounts(accounts: readonly Address[]): Address[] {
  return accounts.map((a) => getAddress(a)).sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1))
}

function check(c: ConversationContext): void {
  const fail = (reason: string) => new ConversationContextCodecError({ reason })
  if (!(c.kind in KINDS)) throw fail(`unknown kind ${String(c.kind)}`)
  if (!Number.isSafeInteger(c.chainId) || c.chainId <= 0) throw fail('chain id out of range')
  if (!isAddress(c.registry, { strict: false })) throw fail('registry must be 20 bytes')
  if (!/^0x[0-9a-fA-F]{64}$/.test(c.nonce)) throw fail('nonce must be 32 bytes')
  for (const [name, list] of [
    ['members', c.members],
    ['admins', c.admins],
  ] as const) {
    if (list.length > MAX_CONVERSATION_MEMBERS) throw fail(`too many ${name}`)
    for (let i = 0; i < list.length; i++) {
      if (!isAddress(list[i] as string, { strict: false })) throw fail(`${name} must be 20-byte addresses`)
      if (i > 0 && (list[i - 1] as string).toLowerCase() >= (list[i] as string).toLowerCase())
        throw fail(`${name} not strictly ascending`)
    }
  }
  const members = new Set(c.members.map((m) => m.toLowerCase()))
  if (!c.admins.every((a) => members.has(a.toLowerCase()))) throw fail('an admin is not a member')
  if (c.kind === 'direct' && (c.members.length !== 2 || c.admins.length !== 2))
    throw fail('a direct conversation has exactly two members, both admins')
  if (c.kind === 'group' && (c.members.length < 1 || c.admins.length < 1))
    throw fail('a group has at least one member and one admin')
  if (c.kind === 'direct' && c.name !== undefined) throw fail('a direct conversation has no name')
  if (c.kind === 'group') {
    if (typeof c.name !== 'string') throw fail('a group has a name')
    const length = new TextEncoder().encode(c.name).length
    if (length < 1 || length > MAX_GROUP_NAME_BYTES)
      throw fail(`a group name is 1 to ${MAX_GROUP_NAME_BYTES} bytes`)
    if (/\p{Cc}/u.test(c.name)) throw fail('a group name has no control characters')
  }
}

function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return undefined
  }
}
