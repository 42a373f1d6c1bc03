/** The history archive's wire layers (§12.8): inbox chunks, the HPKE-sealed blob, its info, and the signed plaintext. */
import { createHash } from 'node:crypto'
import { bytesToHex, type Hex, hexToBytes, isHex } from 'viem'
import { CodecError } from '../errors.js'

/** Domain-separation label of the history archive (HPKE info, archive signature). @example LABEL_HISTORY_ARCHIVE // 'sealpost/v2/history-archive' */
export const LABEL_HISTORY_ARCHIVE = 'sealpost/v2/history-archive'
/** Version byte of a history chunk and of the sealed blob. @example HISTORY_ARCHIVE_VERSION // 1 */
export const HISTORY_ARCHIVE_VERSION = 1
/** First four bytes of a history chunk: ASCII `SPHA`. @example HISTORY_CHUNK_MAGIC // Uint8Array [0x53, 0x50, 0x48, 0x41] */
export const HISTORY_CHUNK_MAGIC: Uint8Array = Uint8Array.of(0x53, 0x50, 0x48, 0x41)
/** Largest data part of one chunk: 512 KiB, well inside the relay's 1 MiB envelope payload. @example HISTORY_CHUNK_BYTES // 524288 */
export const HISTORY_CHUNK_BYTES = 512 * 1024
/** Most chunks one archive may have (128 MiB sealed): a recipient refuses more. @example HISTORY_MAX_CHUNKS // 256 */
export const HISTORY_MAX_CHUNKS = 256
/** Size of a P-256 signature (r || s). */
const SIGNATURE_BYTES = 64
/** magic(4) version(1) archiveId(32) index(2) count(2). */
const CHUNK_HEADER = 4 + 1 + 32 + 2 + 2

/**
 * Bytes that are not a history chunk, a sealed archive or an archive plaintext of this version.
 *
 * @example new HistoryArchiveFormatError({ reason: 'truncated chunk header' })
 */
export class HistoryArchiveFormatError extends CodecError {
  override name = 'HistoryArchiveFormatError' as const
  constructor({ reason }: { reason: string }) {
    super('History archive is malformed.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_HISTORY_ARCHIVE_MALFORMED',
    })
  }
}

/** One chunk as data. @example const c: HistoryChunk = { archiveId, index: 0, count: 2, data } */
export type HistoryChunk = { archiveId: Hex; index: number; count: number; data: Uint8Array }

/**
 * Splits a sealed archive into chunk payloads: `"SPHA" | version u8 | archiveId 32 | index u16 | count u16 | data`,
 * each data part at most {@link HISTORY_CHUNK_BYTES}. Throws `HistoryArchiveFormatError` beyond
 * {@link HISTORY_MAX_CHUNKS} chunks.
 *
 * @example const payloads = encodeHistoryChunks({ archiveId, sealed })
 */
export function encodeHistoryChunks({
  archiveId,
  sealed,
}: {
  archiveId: Hex
  sealed: Uint8Array
}): Uint8Array[] {
  const count = Math.max(1, Math.ceil(sealed.length / HISTORY_CHUNK_BYTES))
  if (count > HISTORY_MAX_CHUNKS)
    throw new HistoryArchiveFormatError({ reason: `${count} chunks, at most ${HISTORY_MAX_CHUNKS}` })
  const id = bytes32(archiveId, 'archiveId')
  return Array.from({ length: count }, (_, index) => {
    const data = sealed.subarray(index * HISTORY_CHUNK_BYTES, (index + 1) * HISTORY_CHUNK_BYTES)
    const out = new Uint8Array(CHUNK_HEADER + data.length)
    const view = new DataView(out.buffer)
    out.set(HISTORY_CHUNK_MAGIC, 0)
    out[4] = HISTORY_ARCHIVE_VERSION
    out.set(id, 5)
    view.setUint16(37, index)
    view.setUint16(39, count)
    out.set(data, CHUNK_HEADER)
    return out
  })
}

/**
 * Whether an envelope payload starts like a history chunk (magic and version), before decoding it.
 *
 * @example if (isHistoryChunk(envelope.payload)) …
 */
export function isHistoryChunk(payload: Uint8Array): boolean {
  return payload.length >= 5 && HISTORY_CHUNK_MAGIC.every((b, i) => payload[i] === b)
}

/**
 * Decodes one chunk payload; throws `HistoryArchiveFormatError` for a wrong magic or version, a truncated header, an
 * empty data part, `count` of 0 or above {@link HISTORY_MAX_CHUNKS}, or `index` not below `count`.
 *
 * @example const { archiveId, index, count, data } = decodeHistoryChunk(envelope.payload)
 */
export function decodeHistoryChunk(payload: Uint8Array): HistoryChunk {
  if (!isHistoryChunk(payload)) throw new HistoryArchiveFormatError({ reason: 'not a history chunk' })
  if (payload[4] !== HISTORY_ARCHIVE_VERSION)
    throw new HistoryArchiveFormatError({ reason: `chunk version ${payload[4]}` })
  if (payload.length <= CHUNK_HEADER) throw new HistoryArchiveFormatError({ reason: 'truncated chunk' })
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const index = view.getUint16(37)
  const count = view.getUint16(39)
  if (count === 0 || count > HISTORY_MAX_CHUNKS || index >= count)
    throw new HistoryArchiveFormatError({ reason: `chunk ${index} of ${count}` })
  if (payload.length - CHUNK_HEADER > HISTORY_CHUNK_BYTES)
    throw new HistoryArchiveFormatError({ reason: 'chunk data larger than 512 KiB' })
  return {
    archiveId: bytesToHex(payload.subarray(5, 37)),
    index,
    count,
    data: payload.slice(CHUNK_HEADER),
  }
}

/**
 * The sealed archive as data: the sending device, the recipient's key package it was sealed to (its MLS
 * `KeyPackageRef`), and the HPKE encapsulation and ciphertext.
 *
 * @example const s: SealedHistory = { fromDevice, keyPackageRef, enc, ct }
 */
export type SealedHistory = { fromDevice: Hex; keyPackageRef: Uint8Array; enc: Uint8Array; ct: Uint8Array }

/**
 * `version u8 | fromDevice 32 | refLength u8 | keyPackageRef | encLength u16 | enc | ct` (the ciphertext runs to the
 * end). `fromDevice` is in the clear because the recipient needs it for the HPKE `info`; the relay knows the
 * publisher anyway.
 *
 * @example const sealed = encodeSealedHistory({ fromDevice, keyPackageRef, enc, ct })
 */
export function encodeSealedHistory({ fromDevice, keyPackageRef, enc, ct }: SealedHistory): Uint8Array {
  if (keyPackageRef.length === 0 || keyPackageRef.length > 255 || enc.length > 0xffff)
    throw new HistoryArchiveFormatError({ reason: 'key package reference or encapsulation out of range' })
  const out = new Uint8Array(1 + 32 + 1 + keyPackageRef.length + 2 + enc.length + ct.length)
  out[0] = HISTORY_ARCHIVE_VERSION
  out.set(bytes32(fromDevice, 'fromDevice'), 1)
  out[33] = keyPackageRef.length
  out.set(keyPackageRef, 34)
  let at = 34 + keyPackageRef.length
  new DataView(out.buffer).setUint16(at, enc.length)
  at += 2
  out.set(enc, at)
  out.set(ct, at + enc.length)
  return out
}

/**
 * Decodes {@link encodeSealedHistory}'s bytes; throws `HistoryArchiveFormatError` on another version, a truncation,
 * or an empty ciphertext.
 *
 * @example const { fromDevice, keyPackageRef, enc, ct } = decodeSealedHistory(bytes)
 */
export function decodeSealedHistory(bytes: Uint8Array): SealedHistory {
  if (bytes[0] !== HISTORY_ARCHIVE_VERSION)
    throw new HistoryArchiveFormatError({ reason: `sealed archive version ${bytes[0]}` })
  const refLength = bytes[33] ?? 0
  const encAt = 34 + refLength + 2
  if (refLength === 0 || bytes.length < encAt) throw new HistoryArchiveFormatError({ reason: 'truncated' })
  const encLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(34 + refLength)
  if (bytes.length <= encAt + encLength) throw new HistoryArchiveFormatError({ reason: 'truncated' })
  return {
    fromDevice: bytesToHex(bytes.subarray(1, 33)),
    keyPackageRef: bytes.slice(34, 34 + refLength),
    enc: bytes.slice(encAt, encAt + encLength),
    ct: bytes.slice(encAt + encLength),
  }
}

/**
 * Who and what an archive is bound to: the deployment, the account, the sending and the receiving device, the
 * archive's id and the recipient key package it is sealed to.
 *
 * @example const b: HistoryBinding = { chainId: 31337, registry, account, fromDevice, toDevice, archiveId, keyPackageRef }
 */
export type HistoryBinding = {
  chainId: number
  registry: Hex
  account: Hex
  fromDevice: Hex
  toDevice: Hex
  archiveId: Hex
  keyPackageRef: Uint8Array
}

/**
 * The HPKE `info`: `"sealpost/v2/history-archive" || 0x00 || chainId u64 | registry 20 | account 20 | fromDevice 32 |
 * toDevice 32 | archiveId 32 | keyPackageRef` (the reference, last, runs to the end).
 *
 * @example const info = historyArchiveInfo(binding)
 */
export function historyArchiveInfo(b: HistoryBinding): Uint8Array {
  const label = new TextEncoder().encode(LABEL_HISTORY_ARCHIVE)
  const fixed = [
    u64(b.chainId),
    bytesN(b.registry, 20, 'registry'),
    bytesN(b.account, 20, 'account'),
    bytes32(b.fromDevice, 'fromDevice'),
    bytes32(b.toDevice, 'toDevice'),
    bytes32(b.archiveId, 'archiveId'),
    b.keyPackageRef,
  ]
  return concat([label, Uint8Array.of(0), ...fixed])
}

/**
 * What the sending device signs (ECDSA P-256/SHA-256, low S): `"sealpost/v2/history-archive" || 0x00 ||
 * SHA-256(body)`, 60 bytes; `body` is the archive's canonical JSON.
 *
 * @example const signature = key.sign(historyArchiveSigningInput(body))
 */
export function historyArchiveSigningInput(body: Uint8Array): Uint8Array {
  const label = new TextEncoder().encode(LABEL_HISTORY_ARCHIVE)
  return concat([label, Uint8Array.of(0), createHash('sha256').update(body).digest()])
}

/**
 * The plaintext inside the HPKE ciphertext: `bodyLength u32 | body (UTF-8 canonical JSON) | signature 64`.
 *
 * @example const plaintext = encodeArchivePlaintext({ body, signature })
 */
export function encodeArchivePlaintext({
  body,
  signature,
}: {
  body: Uint8Array
  signature: Hex
}): Uint8Array {
  const sig = bytesN(signature, SIGNATURE_BYTES, 'signature')
  const out = new Uint8Array(4 + body.length + SIGNATURE_BYTES)
  new DataView(out.buffer).setUint32(0, body.length)
  out.set(body, 4)
  out.set(sig, 4 + body.length)
  return out
}

/**
 * Decodes {@link encodeArchivePlaintext}'s bytes; throws `HistoryArchiveFormatError` unless the lengths add up exactly.
 *
 * @example const { body, signature } = decodeArchivePlaintext(plaintext)
 */
export function decodeArchivePlaintext(bytes: Uint8Array): { body: Uint8Array; signature: Hex } {
  if (bytes.length < 4 + SIGNATURE_BYTES)
    throw new HistoryArchiveFormatError({ reason: 'truncated plaintext' })
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0)
  if (bytes.length !== 4 + length + SIGNATURE_BYTES)
    throw new HistoryArchiveFormatError({ reason: 'plaintext length does not match its body length' })
  return { body: bytes.slice(4, 4 + length), signature: bytesToHex(bytes.subarray(4 + length)) }
}

function u64(value: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(value))
  return out
}

function bytesN(value: Hex, n: number, field: string): Uint8Array {
  if (!isHex(value) || value.length !== 2 + 2 * n)
    throw new HistoryArchiveFormatError({ reason: `${field} is not ${n} bytes` })
  return hexToBytes(value)
}

function bytes32(value: Hex, field: string): Uint8Array {
  return bytesN(value, 32, field)
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
