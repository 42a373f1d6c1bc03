/** A reference to bytes sent in chunks (protocol §3.9): a commit too large for an envelope, or a Welcome's GroupInfo. */
import { bytesToHex, type Hex, hexToBytes } from 'viem'
import { CodecError } from '../errors.js'
import { MAX_TREE_BYTES } from './welcomeTree.js'

/** Version byte of a reference. @example REFERENCE_VERSION // 1 */
export const REFERENCE_VERSION = 1
/** What a reference stands for, by wire byte. @example REFERENCE_KINDS.commit // 1 */
export const REFERENCE_KINDS = Object.freeze({ commit: 1, welcome: 2 } as const)
/** `'S' 'P' | version u8 | kind u8 | digest 32 | total u32`. */
const HEADER = 2 + 1 + 1 + 32 + 4
const MAGIC = [0x53, 0x50] as const

/** Bytes that start like a reference but are not one. */
export class ByReferenceError extends CodecError {
  override name = 'ByReferenceError' as const
  constructor({ reason }: { reason: string }) {
    super('A reference to bytes sent in chunks is malformed.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_REFERENCE_MALFORMED',
    })
  }
}

/**
 * A reference as data: `digest` is SHA-256 of the bytes sent in chunks on `blobTopic(digest)`, `total` their length.
 * A `commit` reference stands, on the group topic, for the encoded commit (`MLSMessage`) in that position. A `welcome`
 * reference carries the encoded Welcome (`MLSMessage`) with an empty `encrypted_group_info`: the referenced bytes
 * are that `encrypted_group_info`.
 *
 * @example const r: Reference = { kind: 'commit', digest, total: 12_300_000 }
 */
export type Reference =
  | { kind: 'commit'; digest: Hex; total: number }
  | { kind: 'welcome'; digest: Hex; total: number; welcome: Uint8Array }

/**
 * Encodes a reference: `'S' 'P' | version u8 (1) | kind u8 (1 commit, 2 welcome) | digest 32 | total u32 | welcome`.
 * An `MLSMessage` starts with its version `0x0001`, so a reference is never mistaken for one.
 *
 * @example const payload = encodeReference({ kind: 'commit', digest, total })
 */
export function encodeReference(reference: Reference): Uint8Array {
  if (!Number.isSafeInteger(reference.total) || reference.total <= 0 || reference.total > MAX_TREE_BYTES)
    throw new ByReferenceError({ reason: `the referenced bytes are 1 to ${MAX_TREE_BYTES} bytes` })
  const rest = reference.kind === 'welcome' ? reference.welcome : new Uint8Array()
  const out = new Uint8Array(HEADER + rest.length)
  out.set(MAGIC, 0)
  out[2] = REFERENCE_VERSION
  out[3] = REFERENCE_KINDS[reference.kind]
  out.set(hexToBytes(reference.digest, { size: 32 }), 4)
  new DataView(out.buffer).setUint32(36, reference.total)
  out.set(rest, HEADER)
  return out
}

/**
 * Decodes a reference, or returns undefined for bytes that do not start with `'S' 'P'` (an inline `MLSMessage`).
 * A malformed reference, or one of the wrong kind for where it was found, is a {@link ByReferenceError}.
 *
 * @example const reference = decodeReference(envelope.payload, 'commit')
 */
export function decodeReference<K extends Reference['kind']>(
  bytes: Uint8Array,
  kind: K,
): Extract<Reference, { kind: K }> | undefined {
  if (bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1]) return undefined
  const fail = (reason: string) => new ByReferenceError({ reason })
  if (bytes.length < HEADER) throw fail('truncated')
  if (bytes[2] !== REFERENCE_VERSION) throw fail(`unsupported version ${bytes[2]}`)
  if (bytes[3] !== REFERENCE_KINDS[kind]) throw fail(`not a ${kind} reference`)
  const total = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(36)
  if (total === 0 || total > MAX_TREE_BYTES) throw fail('total length out of range')
  const digest = bytesToHex(bytes.subarray(4, 36))
  if (kind === 'commit') {
    if (bytes.length !== HEADER) throw fail('a commit reference has no body')
    return { kind, digest, total } as Extract<Reference, { kind: K }>
  }
  if (bytes.length === HEADER) throw fail('a welcome reference carries the Welcome')
  return { kind, digest, total, welcome: bytes.slice(HEADER) } as Extract<Reference, { kind: K }>
}
