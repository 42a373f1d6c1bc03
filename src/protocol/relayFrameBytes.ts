/** Relay frame byte helpers: the frame errors, a bounds-checked big-endian reader, and field encoders. */
import { type Address, getAddress, type Hex } from 'viem'
import { CodecError, ValidationError } from '../errors.js'

/**
 * Bytes that are not a well-formed relay frame: empty, unknown type, truncated, trailing bytes, or a field
 * out of range. The only error the decoders throw.
 *
 * @example new RelayFrameError({ reason: 'truncated', frameType: 0x02 })
 */
export class RelayFrameError extends CodecError {
  override name = 'RelayFrameError' as const
  /** Short machine-friendly reason (e.g. 'truncated', 'unknown type', 'trailing bytes'). */
  readonly reason: string
  constructor({ reason, frameType }: { reason: string; frameType?: number | undefined }) {
    super('Relay frame is malformed.', {
      metaMessages: [
        ...(frameType === undefined ? [] : [`Frame type: 0x${frameType.toString(16).padStart(2, '0')}`]),
        `Reason: ${reason}`,
      ],
      code: 'SEALPOST_RELAY_FRAME_MALFORMED',
    })
    this.reason = reason
  }
}

/**
 * A field handed to an encoder has the wrong shape (a topic that is not 32 bytes, a reqId above 2^32 - 1).
 *
 * @example new RelayFrameFieldError({ field: 'reqId', reason: 'must be a u32' })
 */
export class RelayFrameFieldError extends ValidationError {
  override name = 'RelayFrameFieldError' as const
  constructor({ field, reason }: { field: string; reason: string }) {
    super('Relay frame field is invalid.', {
      metaMessages: [`Field: ${field}`, `Reason: ${reason}`],
      code: 'SEALPOST_RELAY_FRAME_INVALID_FIELD',
    })
  }
}

/**
 * Sequential big-endian reader; every method throws RelayFrameError('truncated') past the end.
 *
 * @example const r = new Reader(bytes); const type = r.u8(); r.end()
 */
export class Reader {
  readonly #bytes: Uint8Array
  readonly #view: DataView
  #offset = 0

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  fail(reason: string): never {
    throw new RelayFrameError({ reason, frameType: this.#bytes[0] })
  }

  #need(n: number): number {
    const at = this.#offset
    if (at + n > this.#bytes.length) this.fail('truncated')
    this.#offset = at + n
    return at
  }

  u8(): number {
    return this.#bytes[this.#need(1)]!
  }

  u16(): number {
    return this.#view.getUint16(this.#need(2), false)
  }

  u32(): number {
    return this.#view.getUint32(this.#need(4), false)
  }

  u64(): bigint {
    return this.#view.getBigUint64(this.#need(8), false)
  }

  safeU64(field: string): number {
    const value = this.u64()
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${field} is above 2^53 - 1`)
    return Number(value)
  }

  bytes(n: number): Uint8Array {
    const at = this.#need(n)
    return this.#bytes.subarray(at, at + n)
  }

  hex(n: number): Hex {
    const at = this.#need(n)
    return `0x${Buffer.from(this.#bytes.buffer, this.#bytes.byteOffset + at, n).toString('hex')}`
  }

  address(): Address {
    return getAddress(this.hex(20))
  }

  rest(): Uint8Array {
    return this.bytes(this.#bytes.length - this.#offset)
  }

  end(): void {
    if (this.#offset !== this.#bytes.length) this.fail('trailing bytes')
  }
}

/** An ERROR code's characters. @example PRINTABLE_ASCII.test('RELAY_FORBIDDEN') // true */
export const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
/** Largest u64. @example U64_MAX // 18446744073709551615n */
export const U64_MAX = 2n ** 64n - 1n

/** `value` as exactly `length` bytes (throws RelayFrameFieldError). @example hexField(topic, 32, 'topic') */
export function hexField(value: Hex, length: number, field: string): Uint8Array {
  if (typeof value !== 'string' || value.length !== 2 + 2 * length || !/^0x[0-9a-fA-F]*$/.test(value))
    throw new RelayFrameFieldError({ field, reason: `must be ${length} bytes as 0x-prefixed hex` })
  return Buffer.from(value.slice(2), 'hex')
}

/** `value` if it is a Uint8Array (throws RelayFrameFieldError). @example bytesField(envelope, 'envelope') */
export function bytesField(value: Uint8Array, field: string): Uint8Array {
  if (!(value instanceof Uint8Array))
    throw new RelayFrameFieldError({ field, reason: 'must be a Uint8Array' })
  return value
}

/** Big-endian u16. @example u16(3) // Uint8Array [0, 3] */
export function u16(value: number): Uint8Array {
  const out = new Uint8Array(2)
  new DataView(out.buffer).setUint16(0, value, false)
  return out
}

/** Big-endian u32 (throws RelayFrameFieldError). @example u32(reqId, 'reqId') */
export function u32(value: number, field: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new RelayFrameFieldError({ field, reason: 'must be a u32' })
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value, false)
  return out
}

/** Big-endian u64 (throws RelayFrameFieldError). @example u64(seq, 'seq') */
export function u64(value: bigint, field: string): Uint8Array {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX)
    throw new RelayFrameFieldError({ field, reason: 'must be a u64 bigint' })
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, value, false)
  return out
}

/** A non-negative safe integer as bigint (throws RelayFrameFieldError). @example safeUint(chainId, 'chainId') // 31337n */
export function safeUint(value: number, field: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RelayFrameFieldError({ field, reason: 'must be a non-negative safe integer' })
  return BigInt(value)
}

/** `type` followed by `parts`, as one frame. @example concat(0x83, u32(1, 'reqId'), u64(0n, 'value')) */
export function concat(type: number, ...parts: Uint8Array[]): Uint8Array {
  let length = 1
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  out[0] = type
  let offset = 1
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}
