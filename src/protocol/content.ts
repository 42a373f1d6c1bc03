/** Application content: what travels inside an MLS application message (statement, signature, body); v1 and v2. */
import { CodecError } from '../errors.js'
import { decodeSignedStatement, encodeSignedStatement, type SignedStatement } from './statement.js'

/** Body media types: UTF-8 text, and a signed delivery receipt (its body lists the leaves received, §4.5). @example contentTypes.text // 1 */
export const contentTypes = { text: 1, deliveryReceipt: 2 } as const
/** A body media type's name. @example const t: ContentType = 'text' */
export type ContentType = keyof typeof contentTypes

/** Application content as carried in MLS application data. @example const { signed, contentType, body }: ApplicationContent = decodeApplicationContent(data) */
export type ApplicationContent = { signed: SignedStatement; contentType: ContentType; body: Uint8Array }

/** Version byte of application content v1 (a v1 statement), read only for old data. @example CONTENT_VERSION // 1 */
export const CONTENT_VERSION = 1
/** Version byte of application content v2: it carries a v2 message statement. @example CONTENT_VERSION_V2 // 2 */
export const CONTENT_VERSION_V2 = 2
/** Largest body accepted, in bytes (the envelope limit leaves room for MLS framing). @example MAX_BODY_BYTES // 524288 */
export const MAX_BODY_BYTES = 512 * 1024
const SIGNED_BYTES: Record<number, number> = { 1: 213 + 64, 2: 274 + 64 }

/** The decrypted MLS application data is not Sealpost application content. */
export class ContentCodecError extends CodecError {
  override name = 'ContentCodecError' as const
  constructor({ reason }: { reason: string }) {
    super('Application content does not decode.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_CONTENT_MALFORMED',
    })
  }
}

/**
 * Encodes `version u8 | contentType u8 | signedStatement | bodyLength u32 | body`; the version is the statement's
 * (v2: 338-byte signed statement; v1: 277).
 *
 * @example encodeApplicationContent({ signed, contentType: 'text', body: utf8('hi') })
 */
export function encodeApplicationContent({ signed, contentType, body }: ApplicationContent): Uint8Array {
  const type = contentTypes[contentType]
  if (type === undefined) throw new ContentCodecError({ reason: 'unknown content type' })
  if (!(body instanceof Uint8Array)) throw new ContentCodecError({ reason: 'body must be bytes' })
  if (body.length > MAX_BODY_BYTES)
    throw new ContentCodecError({ reason: `body exceeds ${MAX_BODY_BYTES} bytes` })
  const wire = encodeSignedStatement(signed)
  const header = 2 + wire.length + 4
  const out = new Uint8Array(header + body.length)
  out[0] = signed.statement.version === 2 ? CONTENT_VERSION_V2 : CONTENT_VERSION
  out[1] = type
  out.set(wire, 2)
  new DataView(out.buffer).setUint32(2 + wire.length, body.length)
  out.set(body, header)
  return out
}

/**
 * Decodes application content; throws a `CodecError` on any malformed input.
 *
 * @example const { signed, body } = decodeApplicationContent(mlsApplicationData)
 */
export function decodeApplicationContent(bytes: Uint8Array): ApplicationContent {
  if (!(bytes instanceof Uint8Array) || bytes.length < 1) throw new ContentCodecError({ reason: 'truncated' })
  const signedBytes = SIGNED_BYTES[bytes[0]!]
  if (signedBytes === undefined) throw new ContentCodecError({ reason: 'unknown version' })
  const header = 2 + signedBytes + 4
  if (bytes.length < header) throw new ContentCodecError({ reason: 'truncated' })
  const contentType = (Object.keys(contentTypes) as ContentType[]).find((k) => contentTypes[k] === bytes[1])
  if (!contentType) throw new ContentCodecError({ reason: 'unknown content type' })
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(2 + signedBytes)
  if (length > MAX_BODY_BYTES) throw new ContentCodecError({ reason: 'body too large' })
  if (bytes.length !== header + length) throw new ContentCodecError({ reason: 'length mismatch' })
  const signed = decodeSignedStatement(bytes.slice(2, 2 + signedBytes))
  return { signed, contentType, body: bytes.slice(header) }
}
