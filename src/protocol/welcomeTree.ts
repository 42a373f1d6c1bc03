/** Bytes sent by reference (a Welcome's ratchet tree, a large commit or GroupInfo): chunks on a derived topic, reassembled and checked. */
import { createHash } from 'node:crypto'
import { bytesToHex, type Hex, hexToBytes } from 'viem'
import { CodecError } from '../errors.js'
import { LABEL_BLOB, LABEL_WELCOME_TREE, labelledHash } from './labels.js'
import { welcomeKey } from './topics.js'

/** Version byte of a tree chunk. @example TREE_CHUNK_VERSION // 1 */
export const TREE_CHUNK_VERSION = 1
/** Largest data part of one chunk: 512 KiB, well inside the 1 MiB envelope limit. @example TREE_CHUNK_BYTES // 524288 */
export const TREE_CHUNK_BYTES = 512 * 1024
/** Largest tree (or blob) sent by reference: 64 MiB (128 chunks), above a 10,000-member X-Wing tree or its first commit. @example MAX_TREE_BYTES // 67108864 */
export const MAX_TREE_BYTES = 64 * 1024 * 1024
const HEADER = 1 + 2 + 2 + 4 + 32

/** Bytes that are not a tree chunk, or chunks that do not reassemble into the tree they name. */
export class WelcomeTreeError extends CodecError {
  override name = 'WelcomeTreeError' as const
  constructor({ reason }: { reason: string }) {
    super('The ratchet tree sent with a Welcome does not reassemble.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_WELCOME_TREE_MALFORMED',
    })
  }
}

/** One chunk as data. @example const c: TreeChunk = { index: 0, count: 3, total: 1_400_000, digest, data } */
export type TreeChunk = { index: number; count: number; total: number; digest: Hex; data: Uint8Array }

/**
 * The topic a Welcome's tree travels on: `SHA-256("sealpost/v2/welcome-tree" || 0x00 || welcomeKey)`, the Welcome key
 * being `SHA-256("sealpost/v3/welcome-key" || 0x00 || encrypted_group_info)`. Every Welcome of one commit (each
 * trimmed to one joiner's group secrets) names the same topic, and a joiner finds it from its Welcome alone.
 *
 * @example const topic = welcomeTreeTopic(welcome.encryptedGroupInfo)
 */
export function welcomeTreeTopic(encryptedGroupInfo: Uint8Array): Hex {
  return bytesToHex(labelledHash(LABEL_WELCOME_TREE, hexToBytes(welcomeKey(encryptedGroupInfo))))
}

/**
 * The topic bytes sent by reference travel on: `SHA-256("sealpost/v3/blob" || 0x00 || digest)`, `digest` being
 * their SHA-256 (the digest every chunk names).
 *
 * @example const topic = blobTopic(sha256Hex(commitBytes))
 */
export function blobTopic(digest: Hex): Hex {
  return bytesToHex(labelledHash(LABEL_BLOB, hexToBytes(digest)))
}

/**
 * SHA-256 of `bytes`, as hex: the digest a chunk names and a blob's topic derives from.
 *
 * @example const digest = sha256Hex(commitBytes)
 */
export function sha256Hex(bytes: Uint8Array): Hex {
  return bytesToHex(createHash('sha256').update(bytes).digest())
}

/**
 * Splits an encoded tree into chunks: `version u8 | index u16 | count u16 | total u32 | SHA-256(tree) 32 | data`.
 *
 * @example const payloads = encodeTreeChunks(encodeRatchetTree(tree))
 */
export function encodeTreeChunks(tree: Uint8Array): Uint8Array[] {
  if (tree.length === 0 || tree.length > MAX_TREE_BYTES)
    throw new WelcomeTreeError({ reason: `a tree is 1 byte to ${MAX_TREE_BYTES} bytes` })
  const digest = createHash('sha256').update(tree).digest()
  const count = Math.ceil(tree.length / TREE_CHUNK_BYTES)
  return Array.from({ length: count }, (_, index) => {
    const data = tree.subarray(index * TREE_CHUNK_BYTES, (index + 1) * TREE_CHUNK_BYTES)
    const out = new Uint8Array(HEADER + data.length)
    const view = new DataView(out.buffer)
    out[0] = TREE_CHUNK_VERSION
    view.setUint16(1, index)
    view.setUint16(3, count)
    view.setUint32(5, tree.length)
    out.set(digest, 9)
    out.set(data, HEADER)
    return out
  })
}

/**
 * Decodes one chunk; malformed bytes are a `WelcomeTreeError`.
 *
 * @example const { index, count } = decodeTreeChunk(envelope.payload)
 */
export function decodeTreeChunk(bytes: Uint8Array): TreeChunk {
  const fail = (reason: string) => new WelcomeTreeError({ reason })
  if (!(bytes instanceof Uint8Array) || bytes.length <= HEADER) throw fail('truncated')
  if (bytes[0] !== TREE_CHUNK_VERSION) throw fail(`unsupported version ${bytes[0]}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const index = view.getUint16(1)
  const count = view.getUint16(3)
  const total = view.getUint32(5)
  if (total === 0 || total > MAX_TREE_BYTES) throw fail('total length out of range')
  if (count !== Math.ceil(total / TREE_CHUNK_BYTES) || index >= count)
    throw fail('index or count out of range')
  const data = bytes.slice(HEADER)
  const expected = index === count - 1 ? total - index * TREE_CHUNK_BYTES : TREE_CHUNK_BYTES
  if (data.length !== expected) throw fail(`chunk ${index} holds ${data.length} bytes, not ${expected}`)
  return { index, count, total, digest: bytesToHex(bytes.subarray(9, HEADER)), data }
}

/**
 * Reassembles the tree from chunks found on its topic (any order; extra copies and chunks of another tree, for
 * example planted by someone else on the topic, are ignored): the first complete set whose bytes hash to the
 * digest they name. Undefined when no complete set is there. MLS then checks the tree against the Welcome's tree hash.
 *
 * @example const tree = reassembleTree(deliveries.map((d) => d.envelope.payload))
 */
export function reassembleTree(payloads: readonly Uint8Array[]): Uint8Array | undefined {
  const sets = new Map<Hex, Map<number, TreeChunk>>()
  for (const payload of payloads) {
    let chunk: TreeChunk
    try {
      chunk = decodeTreeChunk(payload)
    } catch {
      continue
    }
    const key = `${chunk.digest}:${chunk.total}` as Hex
    const set = sets.get(key) ?? new Map<number, TreeChunk>()
    if (!set.has(chunk.index)) set.set(chunk.index, chunk)
    sets.set(key, set)
  }
  for (const set of sets.values()) {
    const first = set.values().next().value as TreeChunk
    if (set.size !== first.count) continue
    const tree = new Uint8Array(first.total)
    for (const chunk of set.values()) tree.set(chunk.data, chunk.index * TREE_CHUNK_BYTES)
    if (bytesToHex(createHash('sha256').update(tree).digest()) === first.digest) return tree
  }
  return undefined
}
