/** Link request v1 (protocol §2.4): a new device's keys and proofs, signed by its P-256 key; bytes, URI, checks, fingerprints. Browser-safe. */
import { ed25519 } from '@noble/curves/ed25519.js'
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes } from 'viem'
import { CodecError } from '../errors.js'

/** Version byte of the link request defined in protocol §2.4. @example LINK_REQUEST_VERSION // 1 */
export const LINK_REQUEST_VERSION = 1
/**
 * Domain-separation label of the request signature (protocol §13). Kept here rather than in labels.ts so that this
 * module needs no node built-in and runs in the dashboard too.
 *
 * @example LABEL_LINK_REQUEST // 'sealpost/v2/link-request'
 */
export const LABEL_LINK_REQUEST = 'sealpost/v2/link-request'
/** What the text form of a request starts with; base64url of the bytes follows. @example LINK_URI_PREFIX // 'sealpost:link?v=1&r=' */
export const LINK_URI_PREFIX = 'sealpost:link?v=1&r='
/** Largest MLS key (an ML-DSA-87 key, as KeyRegistry allows). @example MAX_LINK_MLS_KEY_BYTES // 2592 */
export const MAX_LINK_MLS_KEY_BYTES = 2592
/** Largest MLS proof of possession (as KeyRegistry allows). @example MAX_LINK_MLS_POP_BYTES // 4627 */
export const MAX_LINK_MLS_POP_BYTES = 4627

/**
 * A decoded link request: everything an approver needs to authorize the device with an EIP-712 AddDevice.
 *
 * @example const { name, p256X, p256Y, mlsKey, expiresAt } = decodeLinkRequest(bytes)
 */
export type LinkRequest = {
  chainId: number
  registry: Address
  account: Address
  /** Unix seconds after which approvers refuse the request. */
  expiresAt: number
  /** 16 random bytes, so two requests for the same keys never encode alike. */
  nonce: Hex
  /** The device's name, `[A-Za-z0-9_-]{1,32}` as `createDevice` allows. */
  name: string
  p256X: Hex
  p256Y: Hex
  /** P-256 proof of possession (protocol §2.3), checked on chain. */
  popR: Hex
  popS: Hex
  mlsKey: Hex
  /** MLS proof of possession (protocol §2.3), checked by every client. */
  mlsPop: Hex
  /** P-256 ECDSA (r ‖ s, low-S) by the device key over {@link linkRequestSigningInput}. */
  signature: Hex
}

/** The request fields the device signs (all but the signature). @example const unsigned: UnsignedLinkRequest = { ...request } */
export type UnsignedLinkRequest = Omit<LinkRequest, 'signature'>

/** Bytes that are not a link request v1 (truncated, trailing data, unknown version, a field out of range). */
export class LinkRequestCodecError extends CodecError {
  override name = 'LinkRequestCodecError' as const
  constructor({ reason }: { reason: string }) {
    super('Not a valid Sealpost link request.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_LINK_REQUEST_MALFORMED',
    })
  }
}

const NAME = /^[A-Za-z0-9_-]{1,32}$/

function u64(value: number | bigint): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(value), false)
  return out
}

function u16(value: number): Uint8Array {
  return Uint8Array.of(value >> 8, value & 0xff)
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

function fixed(hex: Hex, length: number, field: string): Uint8Array {
  const bytes = hexToBytes(hex)
  if (bytes.length !== length) throw new LinkRequestCodecError({ reason: `${field} must be ${length} bytes` })
  return bytes
}

function variable(hex: Hex, max: number, field: string): Uint8Array {
  const bytes = hexToBytes(hex)
  if (bytes.length < 1 || bytes.length > max)
    throw new LinkRequestCodecError({ reason: `${field} must be 1 to ${max} bytes` })
  return concat(u16(bytes.length), bytes)
}

/**
 * The signed part of a request: every field of protocol §2.4 up to, not including, the signature.
 *
 * @example const body = encodeLinkRequestBody(unsigned)
 */
export function encodeLinkRequestBody(r: UnsignedLinkRequest): Uint8Array {
  if (!NAME.test(r.name)) throw new LinkRequestCodecError({ reason: 'name must match [A-Za-z0-9_-]{1,32}' })
  if (!Number.isSafeInteger(r.chainId) || r.chainId <= 0)
    throw new LinkRequestCodecError({ reason: 'chain id out of range' })
  if (!Number.isSafeInteger(r.expiresAt) || r.expiresAt < 0)
    throw new LinkRequestCodecError({ reason: 'expiry out of range' })
  return concat(
    Uint8Array.of(LINK_REQUEST_VERSION),
    u64(r.chainId),
    fixed(r.registry, 20, 'registry'),
    fixed(r.account, 20, 'account'),
    u64(r.expiresAt),
    fixed(r.nonce, 16, 'nonce'),
    Uint8Array.of(r.name.length),
    new TextEncoder().encode(r.name),
    fixed(r.p256X, 32, 'p256X'),
    fixed(r.p256Y, 32, 'p256Y'),
    fixed(r.popR, 32, 'popR'),
    fixed(r.popS, 32, 'popS'),
    variable(r.mlsKey, MAX_LINK_MLS_KEY_BYTES, 'mlsKey'),
    variable(r.mlsPop, MAX_LINK_MLS_POP_BYTES, 'mlsPop'),
  )
}

/**
 * What the device's P-256 key signs: `"sealpost/v2/link-request" ‖ 0x00 ‖ body`.
 *
 * @example const signature = device.signingKey.sign(linkRequestSigningInput(unsigned))
 */
export function linkRequestSigningInput(r: UnsignedLinkRequest): Uint8Array {
  return concat(new TextEncoder().encode(LABEL_LINK_REQUEST), Uint8Array.of(0), encodeLinkRequestBody(r))
}

/**
 * The request's bytes: body ‖ 64-byte signature.
 *
 * @example const bytes = encodeLinkRequest(request)
 */
export function encodeLinkRequest(r: LinkRequest): Uint8Array {
  return concat(encodeLinkRequestBody(r), fixed(r.signature, 64, 'signature'))
}

/**
 * Parses the bytes of a link request v1 (no check of its signature or proofs: see {@link checkLinkRequest}).
 * Throws `LinkRequestCodecError` on anything else.
 *
 * @example const request = decodeLinkRequest(bytes)
 */
export function decodeLinkRequest(bytes: Uint8Array): LinkRequest {
  let offset = 0
  const take = (length: number, field: string): Uint8Array => {
    if (offset + length > bytes.length) throw new LinkRequestCodecError({ reason: `truncated at ${field}` })
    const out = bytes.slice(offset, offset + length)
    offset += length
    return out
  }
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength)
  const version = take(1, 'version')[0]
  if (version !== LINK_REQUEST_VERSION)
    throw new LinkRequestCodecError({ reason: `unknown version ${version}` })
  const chainId = view(take(8, 'chainId')).getBigUint64(0, false)
  const registry = getAddress(bytesToHex(take(20, 'registry')))
  const account = getAddress(bytesToHex(take(20, 'account')))
  const expiresAt = view(take(8, 'expiresAt')).getBigUint64(0, false)
  const nonce = bytesToHex(take(16, 'nonce'))
  const nameLength = take(1, 'name length')[0] as number
  const name = new TextDecoder().decode(take(nameLength, 'name'))
  const p256X = bytesToHex(take(32, 'p256X'))
  const p256Y = bytesToHex(take(32, 'p256Y'))
  const popR = bytesToHex(take(32, 'popR'))
  const popS = bytesToHex(take(32, 'popS'))
  const sized = (max: number, field: string) => {
    const length = view(take(2, `${field} length`)).getUint16(0, false)
    if (length < 1 || length > max)
      throw new LinkRequestCodecError({ reason: `${field} length out of range` })
    return bytesToHex(take(length, field))
  }
  const mlsKey = sized(MAX_LINK_MLS_KEY_BYTES, 'mlsKey')
  const mlsPop = sized(MAX_LINK_MLS_POP_BYTES, 'mlsPop')
  const signature = bytesToHex(take(64, 'signature'))
  if (offset !== bytes.length) throw new LinkRequestCodecError({ reason: 'trailing bytes' })
  if (!NAME.test(name)) throw new LinkRequestCodecError({ reason: 'name must match [A-Za-z0-9_-]{1,32}' })
  if (
    chainId === 0n ||
    chainId > BigInt(Number.MAX_SAFE_INTEGER) ||
    expiresAt > BigInt(Number.MAX_SAFE_INTEGER)
  )
    throw new LinkRequestCodecError({ reason: 'chain id or expiry out of range' })
  return {
    chainId: Number(chainId),
    registry,
    account,
    expiresAt: Number(expiresAt),
    nonce,
    name,
    p256X,
    p256Y,
    popR,
    popS,
    mlsKey,
    mlsPop,
    signature,
  }
}

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromBase64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new LinkRequestCodecError({ reason: 'not base64url' })
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4)
  let binary: string
  try {
    binary = atob(padded)
  } catch {
    throw new LinkRequestCodecError({ reason: 'not base64url' })
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0))
}

/**
 * The text form: `sealpost:link?v=1&r=` followed by base64url (no padding) of the bytes.
 *
 * @example linkRequestToUri(request) // 'sealpost:link?v=1&r=AQAAAAAAAHpp…'
 */
export function linkRequestToUri(r: LinkRequest): string {
  return `${LINK_URI_PREFIX}${base64url(encodeLinkRequest(r))}`
}

/**
 * Parses the text form (the URI, or its bare base64url part; surrounding white space and line breaks ignored).
 *
 * @example const request = linkRequestFromText(pasted)
 */
export function linkRequestFromText(text: string): LinkRequest {
  const clean = text.replace(/\s+/g, '')
  if (clean.startsWith('sealpost:') && !clean.startsWith(LINK_URI_PREFIX))
    throw new LinkRequestCodecError({ reason: `expected a URI starting with ${LINK_URI_PREFIX}` })
  const payload = clean.startsWith(LINK_URI_PREFIX) ? clean.slice(LINK_URI_PREFIX.length) : clean
  return decodeLinkRequest(fromBase64url(payload))
}

function chainWord(chainId: number): Uint8Array {
  const out = new Uint8Array(32)
  out.set(u64(chainId), 24)
  return out
}

function popContext(r: UnsignedLinkRequest, label: string): Uint8Array {
  return concat(
    new TextEncoder().encode(label),
    Uint8Array.of(0),
    chainWord(r.chainId),
    hexToBytes(r.registry),
    hexToBytes(r.account),
    hexToBytes(r.p256X),
    hexToBytes(r.p256Y),
  )
}

/** The P-256 PoP message of protocol §2.3, built here without node built-ins (equal to crypto/pop.ts's, tested). */
function p256PopInput(r: UnsignedLinkRequest): Uint8Array {
  return concat(popContext(r, 'sealpost/v2/pop-p256'), keccak_256(hexToBytes(r.mlsKey)))
}

function p256Verify(signature: Uint8Array, message: Uint8Array, r: UnsignedLinkRequest, lowS: boolean) {
  try {
    const key = concat(Uint8Array.of(4), hexToBytes(r.p256X), hexToBytes(r.p256Y))
    return p256.verify(signature, message, key, { lowS })
  } catch {
    return false
  }
}

/**
 * The three cryptographic checks of a request, as data: its signature by the device key (altered in transit when
 * false), the P-256 proof of possession, and the MLS proof of possession (Ed25519 MLS keys; false for any other).
 *
 * @example const { signature, p256Pop, mlsPop } = checkLinkRequest(request)
 */
export function checkLinkRequest(r: LinkRequest): { signature: boolean; p256Pop: boolean; mlsPop: boolean } {
  const signature = p256Verify(hexToBytes(r.signature), linkRequestSigningInput(r), r, true)
  const p256Pop = p256Verify(concat(hexToBytes(r.popR), hexToBytes(r.popS)), p256PopInput(r), r, false)
  let mlsPop = false
  try {
    const key = hexToBytes(r.mlsKey)
    mlsPop =
      key.length === 32 && ed25519.verify(hexToBytes(r.mlsPop), popContext(r, 'sealpost/v2/pop-mls'), key)
  } catch {
    mlsPop = false
  }
  return { signature, p256Pop, mlsPop }
}

/**
 * A key's fingerprint as people compare it: the first 16 bytes of SHA-256 of the public key bytes, as eight groups
 * of four hex digits. The P-256 key's bytes are x ‖ y (64).
 *
 * @example keyFingerprint(p256PublicKeyBytes) // '3f9a 0c11 8be2 …' (8 groups)
 */
export function keyFingerprint(publicKey: Uint8Array | Hex): string {
  const bytes = typeof publicKey === 'string' ? hexToBytes(publicKey) : publicKey
  const hex = bytesToHex(sha256(bytes).slice(0, 16)).slice(2)
  return hex.match(/.{4}/g)?.join(' ') ?? hex
}

/**
 * Both fingerprints of a request's device, and its device id (keccak256(x ‖ y), as the registry computes it).
 *
 * @example const { p256, mls, deviceId } = linkRequestFingerprints(request)
 */
export function linkRequestFingerprints(r: Pick<LinkRequest, 'p256X' | 'p256Y' | 'mlsKey'>): {
  p256: string
  mls: string
  deviceId: Hex
} {
  const xy = concat(hexToBytes(r.p256X), hexToBytes(r.p256Y))
  return { p256: keyFingerprint(xy), mls: keyFingerprint(r.mlsKey), deviceId: bytesToHex(keccak_256(xy)) }
}
