/** Sending and fetching bytes by reference (protocol §3.9): a commit larger than an envelope, a Welcome's GroupInfo. */
import type { Hex } from 'viem'
import { encodeReference, type Reference } from '../protocol/byReference.js'
import { createEnvelope, type EnvelopeKind, MAX_PAYLOAD_BYTES } from '../protocol/envelope.js'
import { blobPreimage, type TopicPreimage } from '../protocol/topics.js'
import { blobTopic, encodeTreeChunks, reassembleTree, sha256Hex } from '../protocol/welcomeTree.js'
import type { Transport } from './transport.js'

/** Largest commit published inline on the group topic: the envelope's payload limit, 1 MiB. @example INLINE_COMMIT_BYTES // 1048576 */
export const INLINE_COMMIT_BYTES = MAX_PAYLOAD_BYTES
/**
 * Largest `encrypted_group_info` each trimmed Welcome carries itself: 16 KiB (about 700 member accounts in the
 * conversation context). Above it, with more than one joiner, the GroupInfo is stored once, by reference.
 *
 * @example INLINE_GROUP_INFO_BYTES // 16384
 */
export const INLINE_GROUP_INFO_BYTES = 16 * 1024

/**
 * Publishes `bytes` in chunks on `blobTopic(SHA-256(bytes))` as envelopes of `kind`, and returns what names them.
 * The relay stores them once; whoever holds the reference fetches them.
 *
 * @example const { digest, total } = await publishBlob(transport, commitBytes, 'commit')
 */
export async function publishBlob(
  transport: Pick<Transport, 'publish'>,
  bytes: Uint8Array,
  kind: EnvelopeKind,
): Promise<{ digest: Hex; total: number }> {
  const digest = sha256Hex(bytes)
  const topic = blobTopic(digest)
  for (const payload of encodeTreeChunks(bytes))
    await transport.publish(createEnvelope({ kind, topic, payload }))
  return { digest, total: bytes.length }
}

/**
 * The bytes a reference names, from its blob topic: the complete set of chunks whose bytes hash to `digest` and are
 * `total` long (chunks of anything else on the topic are ignored). Undefined when they are not there.
 *
 * @example const commitBytes = await fetchBlob(transport, reference)
 */
export async function fetchBlob(
  transport: Pick<Transport, 'pull'>,
  { digest, total }: Pick<Reference, 'digest' | 'total'>,
): Promise<Uint8Array | undefined> {
  const payloads = await pullAll(transport, blobTopic(digest), blobPreimage(digest))
  const bytes = reassembleTree(payloads)
  return bytes && bytes.length === total && sha256Hex(bytes) === digest.toLowerCase() ? bytes : undefined
}

/**
 * The group-topic payload of an encoded commit: the commit itself when it fits `inline` bytes, else (after its
 * chunks are published) a commit reference naming them, so the relay's order of the group topic orders it.
 *
 * @example const payload = await commitPayload(ctx.transport, encodeMls(commit), ctx.inlineCommitBytes)
 */
export async function commitPayload(
  transport: Pick<Transport, 'publish'>,
  commit: Uint8Array,
  inline = INLINE_COMMIT_BYTES,
): Promise<Uint8Array> {
  if (commit.length <= inline) return commit
  const { digest, total } = await publishBlob(transport, commit, 'commit')
  return encodeReference({ kind: 'commit', digest, total })
}

/**
 * Every payload stored on `topic`, page by page.
 *
 * @example const payloads = await pullAll(transport, topic, preimage)
 */
export async function pullAll(
  transport: Pick<Transport, 'pull'>,
  topic: Hex,
  preimage: TopicPreimage,
): Promise<Uint8Array[]> {
  const payloads: Uint8Array[] = []
  for (let after = 0n; ; ) {
    const page = await transport.pull({ topic, after, limit: 64, preimage: () => preimage })
    if (page.length === 0) return payloads
    payloads.push(...page.map((d) => d.envelope.payload))
    after = page[page.length - 1]?.cursor ?? after
  }
}
