/** Relay frames: the binary WebSocket messages between clients and the relay (one frame per WS message). */
import type { Address, Hex } from 'viem'
import { LABEL_RELAY_AUTH, labelledInput } from './labels.js'
import {
  bytesField,
  concat,
  hexField,
  PRINTABLE_ASCII,
  Reader,
  RelayFrameError,
  RelayFrameFieldError,
  safeUint,
  u16,
  u32,
  u64,
} from './relayFrameBytes.js'
import { decodeTopicPreimage, encodeTopicPreimage, type TopicPreimage, TopicPreimageError } from './topics.js'

export { RelayFrameError, RelayFrameFieldError } from './relayFrameBytes.js'

// ---------------------------------------------------------------------------------------------------------
// Wire codes

/**
 * Frame type bytes. Client → relay frames are below 0x80, relay → client frames have the high bit set. SUBSCRIBE is
 * v2 (`0x0a`, with the topic's preimage); v1 (`0x03`) is retired ({@link RETIRED_CLIENT_FRAME_TYPES}).
 *
 * @example relayFrameTypes.publish // 0x02
 */
export const relayFrameTypes = Object.freeze({
  auth: 0x01,
  publish: 0x02,
  subscribe: 0x0a,
  unsubscribe: 0x04,
  ack: 0x05,
  kpPut: 0x06,
  kpTake: 0x07,
  kpCount: 0x08,
  leaf: 0x09,
  challenge: 0x81,
  authOk: 0x82,
  ok: 0x83,
  error: 0x84,
  deliver: 0x85,
  kp: 0x86,
  acks: 0x87,
  expired: 0x88,
} as const)

/**
 * Client frame types a relay no longer accepts: it answers them with `RELAY_FRAME_OUTDATED` (echoing the reqId).
 * SUBSCRIBE v1 (`0x03`, no topic preimage) was replaced by SUBSCRIBE v2 (`0x0a`).
 *
 * @example RETIRED_CLIENT_FRAME_TYPES.subscribeV1 // 0x03
 */
export const RETIRED_CLIENT_FRAME_TYPES = Object.freeze({ subscribeV1: 0x03 } as const)

/**
 * The stable error codes an ERROR frame carries (the only error data that travels over the wire).
 *
 * @example RELAY_ERROR_CODES.includes('RELAY_FORBIDDEN') // true
 */
export const RELAY_ERROR_CODES = Object.freeze([
  'RELAY_FRAME_MALFORMED',
  'RELAY_FRAME_TOO_LARGE',
  'RELAY_UNAUTHENTICATED',
  'RELAY_AUTH_FAILED',
  'RELAY_DEVICE_REVOKED',
  'RELAY_UNKNOWN_DEVICE',
  'RELAY_FORBIDDEN',
  'RELAY_RATE_LIMITED',
  'RELAY_QUEUE_FULL',
  'RELAY_TOO_MANY_CONNECTIONS',
  'RELAY_ENVELOPE_INVALID',
  'RELAY_INTERNAL',
  'RELAY_LOOKUP_LIMITED',
  'RELAY_TOPIC_MISMATCH',
  'RELAY_FRAME_OUTDATED',
  'RELAY_UNAVAILABLE',
  'RELAY_QUARANTINED',
] as const)

/** One of the relay's wire error codes. @example const code: RelayErrorCode = 'RELAY_RATE_LIMITED' */
export type RelayErrorCode = (typeof RELAY_ERROR_CODES)[number]

/**
 * Whether `code` is one of {@link RELAY_ERROR_CODES} (a newer relay may send codes this version does not know).
 *
 * @example if (isRelayErrorCode(frame.code)) handle(frame.code)
 */
export function isRelayErrorCode(code: string): code is RelayErrorCode {
  return (RELAY_ERROR_CODES as readonly string[]).includes(code)
}

/**
 * Client frame types that carry a u32 `reqId` right after the type byte: every client frame but AUTH and ACK.
 *
 * @example CLIENT_FRAME_TYPES_WITH_REQ_ID.has(relayFrameTypes.publish) // true
 */
export const CLIENT_FRAME_TYPES_WITH_REQ_ID: ReadonlySet<number> = new Set([
  relayFrameTypes.publish,
  relayFrameTypes.subscribe,
  RETIRED_CLIENT_FRAME_TYPES.subscribeV1,
  relayFrameTypes.unsubscribe,
  relayFrameTypes.kpPut,
  relayFrameTypes.kpTake,
  relayFrameTypes.kpCount,
  relayFrameTypes.leaf,
])

/**
 * The request id of a client frame without decoding it (for answering a frame that is too large, malformed or over
 * the rate): the u32 at offset 1 when the type byte is one that carries a reqId and the bytes are long enough,
 * otherwise 0 (the id of "answers no request").
 *
 * @example peekReqId(encodeClientFrame({ type: 'kp-count', reqId: 7, deviceId })) // 7
 */
export function peekReqId(bytes: Uint8Array): number {
  const type = bytes[0]
  if (type === undefined || !CLIENT_FRAME_TYPES_WITH_REQ_ID.has(type) || bytes.length < 5) return 0
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1, false)
}

/** Largest u16 count of KP_PUT / ACKS entries. @example MAX_FRAME_LIST // 65535 */
export const MAX_FRAME_LIST = 0xffff
/** Longest error code an ERROR frame can carry (codeLen is a u8). @example MAX_ERROR_CODE_LENGTH // 255 */
export const MAX_ERROR_CODE_LENGTH = 0xff

// ---------------------------------------------------------------------------------------------------------
// Frame types

/**
 * A frame a client sends to the relay. Envelope bytes are carried undecoded (the relay decodes and checks them).
 *
 * @example const frame: ClientFrame = { type: 'subscribe', reqId: 1, topic, after: 0n, preimage: { kind: 'inbox', deviceId } }
 */
export type ClientFrame =
  /** Answers the CHALLENGE: the device's P-256 signature over `relayAuthMessage(...)`. */
  | { type: 'auth'; account: Address; deviceId: Hex; signature: Hex }
  /** Publishes one encoded envelope on its topic. */
  | { type: 'publish'; reqId: number; envelope: Uint8Array }
  /**
   * SUBSCRIBE v2: replays stored envelopes with seq > `after`, then delivers live ones. `preimage` is what `topic`
   * is the hash of (the relay recomputes it: `RELAY_TOPIC_MISMATCH` otherwise, §9.4).
   */
  | { type: 'subscribe'; reqId: number; topic: Hex; after: bigint; preimage: TopicPreimage }
  | { type: 'unsubscribe'; reqId: number; topic: Hex }
  /** Everything on `topic` up to `seq` was processed by this device. No reply. */
  | { type: 'ack'; topic: Hex; seq: bigint }
  /** Stores key packages (encoded envelopes) of the authenticated device. */
  | { type: 'kp-put'; reqId: number; envelopes: Uint8Array[] }
  | { type: 'kp-take'; reqId: number; deviceId: Hex }
  | { type: 'kp-count'; reqId: number; deviceId: Hex }
  /** Submits a statement leaf for anchoring; the receipt is published on `topic`. */
  | { type: 'leaf'; reqId: number; topic: Hex; leaf: Hex }

/**
 * A frame the relay sends to a client.
 *
 * @example const frame: RelayFrame = { type: 'ok', reqId: 1, value: 42n }
 */
export type RelayFrame =
  /** Sent on connect. `expiresAt` is unix ms. */
  | { type: 'challenge'; challenge: Hex; expiresAt: number; chainId: number; registry: Address }
  | { type: 'auth-ok'; account: Address; deviceId: Hex }
  /** PUBLISH: relay seq; SUBSCRIBE: head seq; KP_PUT / KP_COUNT: count; LEAF, UNSUBSCRIBE: 0. */
  | { type: 'ok'; reqId: number; value: bigint }
  /** `reqId` is 0 when the error answers no request. `code` is usually a {@link RelayErrorCode}. */
  | { type: 'error'; reqId: number; code: RelayErrorCode | (string & {}) }
  | { type: 'deliver'; topic: Hex; seq: bigint; envelope: Uint8Array }
  /** Answer to KP_TAKE: the key package, or `undefined` when none is left. */
  | { type: 'kp'; reqId: number; envelope: Uint8Array | undefined }
  /** Ack cursors of the topic's subscribers. */
  | { type: 'acks'; topic: Hex; acks: { deviceId: Hex; seq: bigint }[] }
  /** Retention deleted an envelope this device published before `recipients` acked it (§9.4). Not in v1 vectors. */
  | { type: 'expired'; topic: Hex; seq: bigint; id: Hex; expiredAt: number; recipients: Hex[] }

/** The `type` of a client frame. @example const t: ClientFrameType = 'publish' */
export type ClientFrameType = ClientFrame['type']
/** The `type` of a relay frame. @example const t: RelayFrameType = 'deliver' */
export type RelayFrameType = RelayFrame['type']

// ---------------------------------------------------------------------------------------------------------
// Auth signing input

/** Inputs to {@link relayAuthMessage}. @example const p: RelayAuthMessageParameters = { challenge, account, deviceId } */
export type RelayAuthMessageParameters = { challenge: Hex; account: Address; deviceId: Hex }

/**
 * The bytes a device signs to authenticate to a relay:
 * `"sealpost/v1/relay-auth" || 0x00 || challenge(32) || account(20) || deviceId(32)`.
 * Sign with `DeviceSigningKey.sign`, verify with `verifyP256`.
 *
 * @example
 * const signature = key.sign(relayAuthMessage({ challenge: frame.challenge, account, deviceId }))
 */
export function relayAuthMessage({ challenge, account, deviceId }: RelayAuthMessageParameters): Uint8Array {
  return labelledInput(
    LABEL_RELAY_AUTH,
    hexField(challenge, 32, 'challenge'),
    hexField(account, 20, 'account'),
    hexField(deviceId, 32, 'deviceId'),
  )
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

/**
 * Serialises a client frame (`type u8 | body`, big-endian). Throws {@link RelayFrameFieldError} on bad fields.
 *
 * @example ws.send(encodeClientFrame({ type: 'publish', reqId: 7, envelope: encodeEnvelope(envelope) }))
 */
export function encodeClientFrame(frame: ClientFrame): Uint8Array {
  const t = relayFrameTypes
  switch (frame.type) {
    case 'auth':
      return concat(
        t.auth,
        hexField(frame.account, 20, 'account'),
        hexField(frame.deviceId, 32, 'deviceId'),
        hexField(frame.signature, 64, 'signature'),
      )
    case 'publish':
      return concat(t.publish, u32(frame.reqId, 'reqId'), bytesField(frame.envelope, 'envelope'))
    case 'subscribe':
      return concat(
        t.subscribe,
        u32(frame.reqId, 'reqId'),
        hexField(frame.topic, 32, 'topic'),
        u64(frame.after, 'after'),
        preimageField(frame.preimage),
      )
    case 'unsubscribe':
      return concat(t.unsubscribe, u32(frame.reqId, 'reqId'), hexField(frame.topic, 32, 'topic'))
    case 'ack':
      return concat(t.ack, hexField(frame.topic, 32, 'topic'), u64(frame.seq, 'seq'))
    case 'kp-put': {
      if (!Array.isArray(frame.envelopes) || frame.envelopes.length > MAX_FRAME_LIST)
        throw new RelayFrameFieldError({ field: 'envelopes', reason: `at most ${MAX_FRAME_LIST} entries` })
      const parts: Uint8Array[] = [u32(frame.reqId, 'reqId'), u16(frame.envelopes.length)]
      for (const envelope of frame.envelopes) {
        const bytes = bytesField(envelope, 'envelopes[]')
        parts.push(u32(bytes.length, 'envelopes[].length'), bytes)
      }
      return concat(t.kpPut, ...parts)
    }
    case 'kp-take':
      return concat(t.kpTake, u32(frame.reqId, 'reqId'), hexField(frame.deviceId, 32, 'deviceId'))
    case 'kp-count':
      return concat(t.kpCount, u32(frame.reqId, 'reqId'), hexField(frame.deviceId, 32, 'deviceId'))
    case 'leaf':
      return concat(
        t.leaf,
        u32(frame.reqId, 'reqId'),
        hexField(frame.topic, 32, 'topic'),
        hexField(frame.leaf, 32, 'leaf'),
      )
    default:
      throw new RelayFrameFieldError({ field: 'type', reason: 'unknown client frame type' })
  }
}

/**
 * Serialises a relay frame (`type u8 | body`, big-endian). Throws {@link RelayFrameFieldError} on bad fields.
 *
 * @example socket.send(encodeRelayFrame({ type: 'ok', reqId: frame.reqId, value: seq }))
 */
export function encodeRelayFrame(frame: RelayFrame): Uint8Array {
  const t = relayFrameTypes
  switch (frame.type) {
    case 'challenge':
      return concat(
        t.challenge,
        hexField(frame.challenge, 32, 'challenge'),
        u64(safeUint(frame.expiresAt, 'expiresAt'), 'expiresAt'),
        u64(safeUint(frame.chainId, 'chainId'), 'chainId'),
        hexField(frame.registry, 20, 'registry'),
      )
    case 'auth-ok':
      return concat(
        t.authOk,
        hexField(frame.account, 20, 'account'),
        hexField(frame.deviceId, 32, 'deviceId'),
      )
    case 'ok':
      return concat(t.ok, u32(frame.reqId, 'reqId'), u64(frame.value, 'value'))
    case 'error': {
      const code = frame.code
      if (typeof code !== 'string' || code.length > MAX_ERROR_CODE_LENGTH || !PRINTABLE_ASCII.test(code))
        throw new RelayFrameFieldError({
          field: 'code',
          reason: 'must be printable ASCII, at most 255 chars',
        })
      return concat(
        t.error,
        u32(frame.reqId, 'reqId'),
        Uint8Array.of(code.length),
        Buffer.from(code, 'latin1'),
      )
    }
    case 'deliver':
      return concat(
        t.deliver,
        hexField(frame.topic, 32, 'topic'),
        u64(frame.seq, 'seq'),
        bytesField(frame.envelope, 'envelope'),
      )
    case 'kp':
      return frame.envelope === undefined
        ? concat(t.kp, u32(frame.reqId, 'reqId'), Uint8Array.of(0))
        : concat(t.kp, u32(frame.reqId, 'reqId'), Uint8Array.of(1), bytesField(frame.envelope, 'envelope'))
    case 'acks': {
      if (!Array.isArray(frame.acks) || frame.acks.length > MAX_FRAME_LIST)
        throw new RelayFrameFieldError({ field: 'acks', reason: `at most ${MAX_FRAME_LIST} entries` })
      const parts: Uint8Array[] = [hexField(frame.topic, 32, 'topic'), u16(frame.acks.length)]
      for (const a of frame.acks)
        parts.push(hexField(a.deviceId, 32, 'acks[].deviceId'), u64(a.seq, 'acks[].seq'))
      return concat(t.acks, ...parts)
    }
    case 'expired': {
      if (!Array.isArray(frame.recipients) || frame.recipients.length > MAX_FRAME_LIST)
        throw new RelayFrameFieldError({ field: 'recipients', reason: `at most ${MAX_FRAME_LIST} entries` })
      return concat(
        t.expired,
        hexField(frame.topic, 32, 'topic'),
        u64(frame.seq, 'seq'),
        hexField(frame.id, 32, 'id'),
        u64(safeUint(frame.expiredAt, 'expiredAt'), 'expiredAt'),
        u16(frame.recipients.length),
        ...frame.recipients.map((d) => hexField(d, 32, 'recipients[]')),
      )
    }
    default:
      throw new RelayFrameFieldError({ field: 'type', reason: 'unknown relay frame type' })
  }
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

/**
 * Parses a frame sent by a client. Throws only {@link RelayFrameError}. Envelope byte fields are views into
 * `bytes` (no copy): copy them if `bytes` will be reused.
 *
 * @example
 * const frame = decodeClientFrame(new Uint8Array(data))
 * if (frame.type === 'publish') handlePublish(frame.reqId, frame.envelope)
 */
export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
  return guarded(bytes, decodeClientUnchecked)
}

/**
 * Parses a frame sent by the relay. Throws only {@link RelayFrameError}. Envelope byte fields are views into
 * `bytes` (no copy).
 *
 * @example
 * const frame = decodeRelayFrame(new Uint8Array(data))
 * if (frame.type === 'deliver') onDelivery(frame.topic, frame.seq, decodeEnvelope(frame.envelope))
 */
export function decodeRelayFrame(bytes: Uint8Array): RelayFrame {
  return guarded(bytes, decodeRelayUnchecked)
}

function guarded<T>(bytes: Uint8Array, decode: (r: Reader) => T): T {
  if (!(bytes instanceof Uint8Array)) throw new RelayFrameError({ reason: 'not a Uint8Array' })
  if (bytes.length === 0) throw new RelayFrameError({ reason: 'empty frame' })
  try {
    const reader = new Reader(bytes)
    const frame = decode(reader)
    reader.end()
    return frame
  } catch (err) {
    if (err instanceof RelayFrameError) throw err
    // Anything else is a bug in this decoder; keep the promise that only RelayFrameErrors escape.
    throw new RelayFrameError({ reason: 'undecodable', frameType: bytes[0] })
  }
}

function decodeClientUnchecked(r: Reader): ClientFrame {
  const type = r.u8()
  switch (type) {
    case relayFrameTypes.auth:
      return { type: 'auth', account: r.address(), deviceId: r.hex(32), signature: r.hex(64) }
    case relayFrameTypes.publish:
      return { type: 'publish', reqId: r.u32(), envelope: r.rest() }
    case relayFrameTypes.subscribe: {
      const [reqId, topic, after] = [r.u32(), r.hex(32), r.u64()]
      return { type: 'subscribe', reqId, topic, after, preimage: readPreimage(r) }
    }
    case relayFrameTypes.unsubscribe:
      return { type: 'unsubscribe', reqId: r.u32(), topic: r.hex(32) }
    case relayFrameTypes.ack:
      return { type: 'ack', topic: r.hex(32), seq: r.u64() }
    case relayFrameTypes.kpPut: {
      const reqId = r.u32()
      const count = r.u16()
      const envelopes: Uint8Array[] = []
      for (let i = 0; i < count; i++) envelopes.push(r.bytes(r.u32()))
      return { type: 'kp-put', reqId, envelopes }
    }
    case relayFrameTypes.kpTake:
      return { type: 'kp-take', reqId: r.u32(), deviceId: r.hex(32) }
    case relayFrameTypes.kpCount:
      return { type: 'kp-count', reqId: r.u32(), deviceId: r.hex(32) }
    case relayFrameTypes.leaf:
      return { type: 'leaf', reqId: r.u32(), topic: r.hex(32), leaf: r.hex(32) }
    default:
      throw new RelayFrameError({ reason: 'unknown client frame type', frameType: type })
  }
}

function decodeRelayUnchecked(r: Reader): RelayFrame {
  const type = r.u8()
  switch (type) {
    case relayFrameTypes.challenge:
      return {
        type: 'challenge',
        challenge: r.hex(32),
        expiresAt: r.safeU64('expiresAt'),
        chainId: r.safeU64('chainId'),
        registry: r.address(),
      }
    case relayFrameTypes.authOk:
      return { type: 'auth-ok', account: r.address(), deviceId: r.hex(32) }
    case relayFrameTypes.ok:
      return { type: 'ok', reqId: r.u32(), value: r.u64() }
    case relayFrameTypes.error: {
      const reqId = r.u32()
      const code = Buffer.from(r.bytes(r.u8())).toString('latin1')
      if (!PRINTABLE_ASCII.test(code)) r.fail('error code is not printable ASCII')
      return { type: 'error', reqId, code }
    }
    case relayFrameTypes.deliver:
      return { type: 'deliver', topic: r.hex(32), seq: r.u64(), envelope: r.rest() }
    case relayFrameTypes.kp: {
      const reqId = r.u32()
      const present = r.u8()
      if (present === 0) return { type: 'kp', reqId, envelope: undefined }
      if (present !== 1) r.fail('kp present flag is not 0 or 1')
      return { type: 'kp', reqId, envelope: r.rest() }
    }
    case relayFrameTypes.acks: {
      const topic = r.hex(32)
      const n = r.u16()
      const acks: { deviceId: Hex; seq: bigint }[] = []
      for (let i = 0; i < n; i++) acks.push({ deviceId: r.hex(32), seq: r.u64() })
      return { type: 'acks', topic, acks }
    }
    case relayFrameTypes.expired: {
      const topic = r.hex(32)
      const seq = r.u64()
      const id = r.hex(32)
      const expiredAt = r.safeU64('expiredAt')
      const n = r.u16()
      const recipients: Hex[] = []
      for (let i = 0; i < n; i++) recipients.push(r.hex(32))
      return { type: 'expired', topic, seq, id, expiredAt, recipients }
    }
    default:
      throw new RelayFrameError({ reason: 'unknown relay frame type', frameType: type })
  }
}

function preimageField(preimage: TopicPreimage): Uint8Array {
  try {
    return encodeTopicPreimage(preimage)
  } catch (err) {
    if (!(err instanceof TopicPreimageError)) throw err
    throw new RelayFrameFieldError({ field: 'preimage', reason: err.reason })
  }
}

/** The rest of the frame as a topic preimage (a malformed one is a RelayFrameError). */
function readPreimage(r: Reader): TopicPreimage {
  try {
    return decodeTopicPreimage(r.rest())
  } catch (err) {
    if (err instanceof TopicPreimageError) r.fail(`preimage: ${err.reason}`)
    throw err
  }
}
