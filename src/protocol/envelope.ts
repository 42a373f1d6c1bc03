/** Envelope v1: the relay-visible wire frame (magic, version, kind, topic, id, length-prefixed payload). */
import type { Hex } from 'viem'
import { CodecError, UsageError, ValidationError, VerificationError } from '../errors.js'
import { LABEL_ENVELOPE_ID, labelledHash } from './labels.js'

/** What an envelope carries. @example const kind: EnvelopeKind = 'application' */
export type EnvelopeKind = 'key-package' | 'welcome' | 'commit' | 'application' | 'receipt'

/**
 * Every kind, in wire order: `envelopeKinds[code - 1]` is the kind with wire code `code`.
 *
 * @example envelopeKinds.indexOf('commit') + 1 // 3
 */
export const envelopeKinds: readonly EnvelopeKind[] = Object.freeze([
  'key-package',
  'welcome',
  'commit',
  'application',
  'receipt',
])

/** Envelope v1 as plain data. `id` commits to everything else. @example const e: Envelope = createEnvelope({ kind: 'commit', topic, payload }) */
export type Envelope = { version: 1; kind: EnvelopeKind; topic: Hex; id: Hex; payload: Uint8Array }

/** Largest payload an envelope may carry: 1 MiB. @example MAX_PAYLOAD_BYTES // 1048576 */
export const MAX_PAYLOAD_BYTES = 1024 * 1024
/** Fixed header size: magic(2) version(1) kind(1) topic(32) id(32) payloadLength(4). @example ENVELOPE_HEADER_BYTES // 72 */
export const ENVELOPE_HEADER_BYTES = 72
/** Envelope format version this module reads and writes. @example ENVELOPE_VERSION // 1 */
export const ENVELOPE_VERSION = 1
/** The two magic bytes, ASCII 'SP'. @example ENVELOPE_MAGIC // [0x53, 0x50] */
export const ENVELOPE_MAGIC: readonly [number, number] = Object.freeze([0x53, 0x50]) as readonly [
  number,
  number,
]

// ---------------------------------------------------------------------------------------------------------
// Errors

/** Input ended before the envelope did. @example new EnvelopeTruncatedError({ expected: 72, actual: 10 }) */
export class EnvelopeTruncatedError extends CodecError {
  override name = 'EnvelopeTruncatedError' as const
  constructor({ expected, actual }: { expected: number; actual: number }) {
    super('Envelope is truncated.', {
      metaMessages: [`Expected at least ${expected} bytes, got ${actual}.`],
      code: 'SEALPOST_ENVELOPE_TRUNCATED',
    })
  }
}

/** The first two bytes are not 'SP'. @example new EnvelopeBadMagicError() */
export class EnvelopeBadMagicError extends CodecError {
  override name = 'EnvelopeBadMagicError' as const
  constructor() {
    super('Envelope does not start with the magic bytes "SP".', { code: 'SEALPOST_ENVELOPE_BAD_MAGIC' })
  }
}

/** The version byte is not 1. @example new EnvelopeUnsupportedVersionError({ version: 2 }) */
export class EnvelopeUnsupportedVersionError extends CodecError {
  override name = 'EnvelopeUnsupportedVersionError' as const
  constructor({ version }: { version: number }) {
    super('Envelope version is not supported.', {
      metaMessages: [`Version: ${version} (supported: ${ENVELOPE_VERSION})`],
      code: 'SEALPOST_ENVELOPE_UNSUPPORTED_VERSION',
    })
  }
}

/** The kind byte is not 1..5 (or a kind name is unknown when encoding). @example new EnvelopeUnknownKindError({ kind: 9 }) */
export class EnvelopeUnknownKindError extends CodecError {
  override name = 'EnvelopeUnknownKindError' as const
  constructor({ kind }: { kind: number | string }) {
    super('Envelope kind is unknown.', {
      metaMessages: [`Kind: ${typeof kind === 'number' ? kind : JSON.stringify(kind.slice(0, 32))}`],
      code: 'SEALPOST_ENVELOPE_UNKNOWN_KIND',
    })
  }
}

/** The payload is larger than the limit (1 MiB, or the caller's lower `maxPayloadBytes`). @example new EnvelopeTooLargeError({ size: 2e6, max: 1048576 }) */
export class EnvelopeTooLargeError extends CodecError {
  override name = 'EnvelopeTooLargeError' as const
  constructor({ size, max }: { size: number; max: number }) {
    super('Envelope payload is too large.', {
      metaMessages: [`Payload: ${size} bytes (limit ${max}).`],
      code: 'SEALPOST_ENVELOPE_TOO_LARGE',
    })
  }
}

/** Bytes follow the payload. @example new EnvelopeTrailingBytesError({ expected: 80, actual: 81 }) */
export class EnvelopeTrailingBytesError extends CodecError {
  override name = 'EnvelopeTrailingBytesError' as const
  constructor({ expected, actual }: { expected: number; actual: number }) {
    super('Envelope has trailing bytes.', {
      metaMessages: [`Expected exactly ${expected} bytes, got ${actual}.`],
      code: 'SEALPOST_ENVELOPE_TRAILING_BYTES',
    })
  }
}

/** The input is not a `Uint8Array`. @example new EnvelopeNotBytesError() */
export class EnvelopeNotBytesError extends CodecError {
  override name = 'EnvelopeNotBytesError' as const
  constructor() {
    super('Envelope input is not a Uint8Array.', { code: 'SEALPOST_ENVELOPE_NOT_BYTES' })
  }
}

/** The id field does not match SHA-256 of the contents. @example new EnvelopeIdMismatchError({ id, expected }) */
export class EnvelopeIdMismatchError extends VerificationError {
  override name = 'EnvelopeIdMismatchError' as const
  constructor({ id, expected }: { id: Hex; expected: Hex }) {
    super('Envelope id does not match its contents.', {
      metaMessages: [`Id:       ${id}`, `Computed: ${expected}`],
      code: 'SEALPOST_ENVELOPE_ID_MISMATCH',
    })
  }
}

/** A field handed to `createEnvelope`/`encodeEnvelope` has the wrong shape. @example new EnvelopeInvalidFieldError({ field: 'topic', reason: 'must be 32 bytes of hex' }) */
export class EnvelopeInvalidFieldError extends ValidationError {
  override name = 'EnvelopeInvalidFieldError' as const
  constructor({ field, reason }: { field: string; reason: string }) {
    super('Envelope field is invalid.', {
      metaMessages: [`Field: ${field}`, `Reason: ${reason}`],
      code: 'SEALPOST_ENVELOPE_INVALID_FIELD',
    })
  }
}

/** `decodeEnvelope` options are not usable (a programming error, not bad input). @example new EnvelopeOptionsError() */
export class EnvelopeOptionsError extends UsageError {
  override name = 'EnvelopeOptionsError' as const
  constructor() {
    super('decodeEnvelope: maxPayloadBytes must be a non-negative integer.', {
      code: 'SEALPOST_ENVELOPE_BAD_OPTIONS',
    })
  }
}

/** Any error `decodeEnvelope` throws for untrusted bytes. @example catch (e) { const err = e as DecodeEnvelopeErrorType } */
export type DecodeEnvelopeErrorType =
  | EnvelopeTruncatedError
  | EnvelopeBadMagicError
  | EnvelopeUnsupportedVersionError
  | EnvelopeUnknownKindError
  | EnvelopeTooLargeError
  | EnvelopeTrailingBytesError
  | EnvelopeNotBytesError
  | EnvelopeIdMismatchError
  | CodecError

/** Errors `createEnvelope`/`encodeEnvelope` throw. @example catch (e) { const err = e as EncodeEnvelopeErrorType } */
export type EncodeEnvelopeErrorType =
  | EnvelopeInvalidFieldError
  | EnvelopeUnknownKindError
  | EnvelopeUnsupportedVersionError
  | EnvelopeTooLargeError
  | EnvelopeIdMismatchError

// ---------------------------------------------------------------------------------------------------------
// Id

/** Inputs to `envelopeId`. @example const p: EnvelopeIdParameters = { kind: 'commit', topic, payload } */
export type EnvelopeIdParameters = {
  version?: 1 | undefined
  kind: EnvelopeKind
  topic: Hex
  payload: Uint8Array
}

/**
 * SHA-256(`sealpost/v1/envelope-id` || 0x00 || version u8 || kind u8 || topic(32) || payload), as hex.
 *
 * @example envelopeId({ kind: 'application', topic: `0x${'11'.repeat(32)}`, payload: new Uint8Array([1]) })
 */
export function envelopeId({ version = 1, kind, topic, payload }: EnvelopeIdParameters): Hex {
  if (version !== ENVELOPE_VERSION) throw new EnvelopeUnsupportedVersionError({ version })
  return idOf(kindCode(kind), topicBytes(topic), payload)
}

function idOf(kind: number, topic: Uint8Array, payload: Uint8Array): Hex {
  return toHex(labelledHash(LABEL_ENVELOPE_ID, Uint8Array.of(ENVELOPE_VERSION, kind), topic, payload))
}

// ---------------------------------------------------------------------------------------------------------
// Create / encode

/** Inputs to `createEnvelope`. @example const p: CreateEnvelopeParameters = { kind: 'welcome', topic, payload } */
export type CreateEnvelopeParameters = { kind: EnvelopeKind; topic: Hex; payload: Uint8Array }

/**
 * Builds an envelope and computes its id. The payload is copied, so later changes to the caller's buffer
 * do not change the envelope.
 *
 * @example
 * const envelope = createEnvelope({ kind: 'application', topic: `0x${'ab'.repeat(32)}`, payload: ciphertext })
 */
export function createEnvelope({ kind, topic, payload }: CreateEnvelopeParameters): Envelope {
  const code = kindCode(kind)
  const topicRaw = topicBytes(topic)
  if (!(payload instanceof Uint8Array))
    throw new EnvelopeInvalidFieldError({ field: 'payload', reason: 'must be a Uint8Array' })
  if (payload.length > MAX_PAYLOAD_BYTES)
    throw new EnvelopeTooLargeError({ size: payload.length, max: MAX_PAYLOAD_BYTES })
  const copy = new Uint8Array(payload) // a real copy (Buffer#slice would alias)
  return { version: 1, kind, topic: toHex(topicRaw), id: idOf(code, topicRaw, copy), payload: copy }
}

/**
 * Serialises an envelope: `'SP' | version | kind | topic | id | payloadLength u32 BE | payload`.
 * Refuses an envelope whose `id` does not match its contents, so it never writes bytes that fail to decode.
 *
 * @example const bytes = encodeEnvelope(createEnvelope({ kind: 'commit', topic, payload }))
 */
export function encodeEnvelope(envelope: Envelope): Uint8Array {
  if (envelope.version !== ENVELOPE_VERSION)
    throw new EnvelopeUnsupportedVersionError({ version: envelope.version })
  const code = kindCode(envelope.kind)
  const topic = topicBytes(envelope.topic)
  const id = bytes32(envelope.id, 'id')
  const { payload } = envelope
  if (!(payload instanceof Uint8Array))
    throw new EnvelopeInvalidFieldError({ field: 'payload', reason: 'must be a Uint8Array' })
  if (payload.length > MAX_PAYLOAD_BYTES)
    throw new EnvelopeTooLargeError({ size: payload.length, max: MAX_PAYLOAD_BYTES })
  const expected = idOf(code, topic, payload)
  if (expected !== toHex(id)) throw new EnvelopeIdMismatchError({ id: toHex(id), expected })

  const out = new Uint8Array(ENVELOPE_HEADER_BYTES + payload.length)
  out[0] = ENVELOPE_MAGIC[0]
  out[1] = ENVELOPE_MAGIC[1]
  out[2] = ENVELOPE_VERSION
  out[3] = code
  out.set(topic, 4)
  out.set(id, 36)
  new DataView(out.buffer).setUint32(68, payload.length, false)
  out.set(payload, ENVELOPE_HEADER_BYTES)
  return out
}

// ---------------------------------------------------------------------------------------------------------
// Decode

/** Options of `decodeEnvelope`. @example decodeEnvelope(bytes, { maxPayloadBytes: 64 * 1024 }) */
export type DecodeEnvelopeOptions = {
  /** Lower payload limit for this caller; values above `MAX_PAYLOAD_BYTES` are clamped to it. */
  maxPayloadBytes?: number | undefined
}

/**
 * Parses and checks one envelope. Throws only the typed `CodecError`s above, or `EnvelopeIdMismatchError`
 * (a `VerificationError`) when the id does not commit to the contents; never allocates from the declared
 * length before checking it against the limit. The returned payload is a copy, not a view of `bytes`.
 *
 * @example
 * const envelope = decodeEnvelope(frame, { maxPayloadBytes: 256 * 1024 })
 * envelope.kind // 'application'
 */
export function decodeEnvelope(bytes: Uint8Array, { maxPayloadBytes }: DecodeEnvelopeOptions = {}): Envelope {
  let max = MAX_PAYLOAD_BYTES
  if (maxPayloadBytes !== undefined) {
    if (!Number.isSafeInteger(maxPayloadBytes) || maxPayloadBytes < 0) throw new EnvelopeOptionsError()
    max = Math.min(maxPayloadBytes, MAX_PAYLOAD_BYTES)
  }
  try {
    return decodeUnchecked(bytes, max)
  } catch (err) {
    if (err instanceof CodecError || err instanceof EnvelopeIdMismatchError) throw err
    // Anything else is a bug in this decoder; keep the promise that only CodecErrors escape.
    throw new CodecError('Envelope could not be decoded.', {
      cause: err,
      code: 'SEALPOST_ENVELOPE_MALFORMED',
    })
  }
}

function decodeUnchecked(bytes: Uint8Array, max: number): Envelope {
  if (!(bytes instanceof Uint8Array)) throw new EnvelopeNotBytesError()
  const total = bytes.length
  const truncated = (expected: number) => new EnvelopeTruncatedError({ expected, actual: total })

  // Check each field as soon as its bytes are present, so a short but otherwise valid prefix is reported
  // as truncated, and garbage is reported by its first wrong field.
  const magic = decodeUint16(bytes, 0)
  if (magic === undefined) {
    if (total === 1 && bytes[0] !== ENVELOPE_MAGIC[0]) throw new EnvelopeBadMagicError()
    throw truncated(ENVELOPE_HEADER_BYTES)
  }
  if (magic[0] !== ((ENVELOPE_MAGIC[0] << 8) | ENVELOPE_MAGIC[1])) throw new EnvelopeBadMagicError()

  const version = decodeUint8(bytes, 2)
  if (version === undefined) throw truncated(ENVELOPE_HEADER_BYTES)
  if (version[0] !== ENVELOPE_VERSION) throw new EnvelopeUnsupportedVersionError({ version: version[0] })

  const kindByte = decodeUint8(bytes, 3)
  if (kindByte === undefined) throw truncated(ENVELOPE_HEADER_BYTES)
  const kind = envelopeKinds[kindByte[0] - 1]
  if (kind === undefined) throw new EnvelopeUnknownKindError({ kind: kindByte[0] })

  const topic = decodeBytes32(bytes, 4)
  const id = decodeBytes32(bytes, 36)
  const length = decodeUint32(bytes, 68)
  if (topic === undefined || id === undefined || length === undefined) throw truncated(ENVELOPE_HEADER_BYTES)

  const size = length[0]
  if (size > max) throw new EnvelopeTooLargeError({ size, max })
  const expectedTotal = ENVELOPE_HEADER_BYTES + size
  if (total < expectedTotal) throw truncated(expectedTotal)
  if (total > expectedTotal) throw new EnvelopeTrailingBytesError({ expected: expectedTotal, actual: total })

  // A real copy: never alias the input (Buffer#slice would return a view).
  const payload = new Uint8Array(bytes.subarray(ENVELOPE_HEADER_BYTES, expectedTotal))
  const idHex = toHex(id[0])
  const expected = idOf(kindByte[0], topic[0], payload)
  if (idHex !== expected) throw new EnvelopeIdMismatchError({ id: idHex, expected })
  return { version: 1, kind, topic: toHex(topic[0]), id: idHex, payload }
}

// Inner decoders (ts-mls shape): `[value, bytesRead]`, or `undefined` when the input is too short.
type Decoded<T> = [T, number] | undefined

function decodeUint8(bytes: Uint8Array, offset: number): Decoded<number> {
  const value = bytes[offset]
  return value === undefined ? undefined : [value, 1]
}

function decodeUint16(bytes: Uint8Array, offset: number): Decoded<number> {
  if (offset + 2 > bytes.length) return undefined
  return [(bytes[offset]! << 8) | bytes[offset + 1]!, 2]
}

function decodeUint32(bytes: Uint8Array, offset: number): Decoded<number> {
  if (offset + 4 > bytes.length) return undefined
  return [new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, false), 4]
}

function decodeBytes32(bytes: Uint8Array, offset: number): Decoded<Uint8Array> {
  if (offset + 32 > bytes.length) return undefined
  return [bytes.subarray(offset, offset + 32), 32]
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function kindCode(kind: EnvelopeKind): number {
  const index = envelopeKinds.indexOf(kind)
  if (index < 0) throw new EnvelopeUnknownKindError({ kind: String(kind) })
  return index + 1
}

const BYTES32_HEX = /^0x[0-9a-fA-F]{64}$/

function bytes32(value: Hex, field: string): Uint8Array {
  if (typeof value !== 'string' || !BYTES32_HEX.test(value))
    throw new EnvelopeInvalidFieldError({ field, reason: 'must be 32 bytes as 0x-prefixed hex' })
  return new Uint8Array(Buffer.from(value.slice(2), 'hex'))
}

function topicBytes(topic: Hex): Uint8Array {
  return bytes32(topic, 'topic')
}

function toHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}
