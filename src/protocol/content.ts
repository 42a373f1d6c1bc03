/** Application content: what travels inside an MLS application message (statement, signature, body). */
import { CodecError } from '../errors.js'
import { decodeSignedStatement, encodeSignedStatement, type SignedStatement } from './statement.js'

/** Body media types. Only UTF-8 text is defined in v1. */
export const contentTypes = { text: 1 } as const
export type ContentType = keyof typeof contentTypes

/** Application content v1 as carried in MLS application data. */
export type ApplicationContent = { signed: SignedStatement; contentType: ContentType; body: Uint8Array }

/** Version byte of the application content encoding. */
export const CONTENT_VERSION = 1
/** Largest body accepted, in bytes (the envelope limit leaves room for MLS framing). */
export const MAX_BODY_BYTES = 512 * 1024
const SIGNED_STATEMENT_BYTES = 213 + 64
const HEADER_BYTES = 2 + SIGNED_STATEMENT_BYTES + 4

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
 * Encodes `version u8 | contentType u8 | signedStatement (277) | bodyLength u32 | body`.
 *
 * @example encodeApplicationContent({ signed, contentType: 'text', body: utf8('hi') })
 */
export function encodeApplicationContent({ signed, contentType, body }: ApplicationContent): Uint8Array {
  const type = contentTypes[contentType]
  if (type === undefined) throw new ContentCodecError({ reason: 'unknown content type' })
  if (!(body instanceof Uint8Array)) throw new ContentCodecError({ reason: 'body must be bytes' })
  if (body.length > MAX_BODY_BYTES)
    throw new ContentCodecError({ reason: `body exceeds ${MAX_BODY_BYTES} bytes` })
  const out = new Uint8Array(HEADER_BYTES + body.length)
  out[0] = CONTENT_VERSION
  out[1] = type
  out.set(encodeSignedStatement(signed), 2)
  new DataView(out.buffer).setUint32(2 + SIGNED_STATEMENT_BYTES, body.length)
  out.set(body, HEADER_BYTES)
  return out
}

/**
 * Decodes application content; throws a `CodecError` on any malformed input.
 *
 * @example const { signed, body } = decodeApplicationContent(mlsApplicationData)
 */
export function decodeApplicationContent(bytes: Uint8Array): ApplicationContent {
  if (!(bytes instanceof Uint8Array) || bytes.length < HEADER_BYTES)
    throw new ContentCodecError({ reason: 'truncated' })
  if (bytes[0] !== CONTENT_VERSION) throw new ContentCodecError({ reason: 'unknown version' })
  const contentType = (Object.keys(contentTypes) as ContentType[]).find((k) => contentTypes[k] === bytes[1])
  if (!contentType) throw new ContentCodecError({ reason: 'unknown content type' })
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(
    2 + SIGNED_STATEMENT_BYTES,
  )
  if (length > MAX_BODY_BYTES) throw new ContentCodecError({ reason: 'body too large' })
  if (bytes.length !== HEADER_BYTES + length) throw new ContentCodecError({ reason: 'length mismatch' })
  const signed = decodeSignedStatement(bytes.slice(2, 2 + SIGNED_STATEMENT_BYTES))
  return { signed, contentType, body: bytes.slice(HEADER_BYTES) }
}
