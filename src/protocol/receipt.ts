/** Receipt v1: proof that a 32-byte leaf is in a Merkle batch whose root is anchored on chain (binary + JSON). */
import { type Address, getAddress, type Hex } from 'viem'
import { z } from 'zod'
import { CodecError } from '../errors.js'

/**
 * An anchoring receipt: `leaf` is entry `index` of the RFC 6962 tree of `treeSize` leaves whose root `root` was
 * anchored on `chainId` in MessageAnchor `contract` by transaction `txHash` in block `blockNumber`
 * (timestamp `blockTimestamp`, unix seconds). `path` is the RFC 9162 audit path, leaf's sibling first.
 *
 * @example
 * const receipt: Receipt = decodeReceipt(envelope.payload)
 */
export type Receipt = {
  chainId: number
  contract: Address
  root: Hex
  leaf: Hex
  index: number
  treeSize: number
  path: Hex[]
  txHash: Hex
  blockNumber: bigint
  /** Unix seconds. */
  blockTimestamp: bigint
}

/** Receipt format version this module reads and writes. @example RECEIPT_VERSION // 1 */
export const RECEIPT_VERSION = 1
/** Size of a receipt with an empty path: 150 bytes (+32 per path element). @example RECEIPT_FIXED_BYTES + 32 * path.length */
export const RECEIPT_FIXED_BYTES = 150
/** Longest path the format can carry (pathLen is a u8). @example RECEIPT_MAX_PATH // 255 */
export const RECEIPT_MAX_PATH = 255

const U64_MAX = (1n << 64n) - 1n
const U32_MAX = 0xffff_ffff

// ---------------------------------------------------------------------------------------------------------
// Errors (all CodecError, all code SEALPOST_RECEIPT_MALFORMED)

/** Input ended before the receipt did. @example new ReceiptTruncatedError({ expected: 150, actual: 10 }) */
export class ReceiptTruncatedError extends CodecError {
  override name = 'ReceiptTruncatedError' as const
  constructor({ expected, actual }: { expected: number; actual: number }) {
    super('Receipt is truncated.', {
      metaMessages: [`Expected at least ${expected} bytes, got ${actual}.`],
      code: 'SEALPOST_RECEIPT_MALFORMED',
    })
  }
}

/** Bytes follow the receipt. @example new ReceiptTrailingBytesError({ expected: 182, actual: 183 }) */
export class ReceiptTrailingBytesError extends CodecError {
  override name = 'ReceiptTrailingBytesError' as const
  constructor({ expected, actual }: { expected: number; actual: number }) {
    super('Receipt has trailing bytes.', {
      metaMessages: [`Expected exactly ${expected} bytes, got ${actual}.`],
      code: 'SEALPOST_RECEIPT_MALFORMED',
    })
  }
}

/** The version byte is not 1. @example new ReceiptUnsupportedVersionError({ version: 2 }) */
export class ReceiptUnsupportedVersionError extends CodecError {
  override name = 'ReceiptUnsupportedVersionError' as const
  constructor({ version }: { version: number }) {
    super('Receipt version is not supported.', {
      metaMessages: [`Version: ${version} (supported: ${RECEIPT_VERSION})`],
      code: 'SEALPOST_RECEIPT_MALFORMED',
    })
  }
}

/**
 * A field does not fit Receipt v1 (encoding a bad object, decoding a chainId above 2^53 - 1, or a JSON
 * receipt that fails the schema).
 *
 * @example new ReceiptFieldError({ field: 'root', reason: 'must be 32 bytes of hex' })
 */
export class ReceiptFieldError extends CodecError {
  override name = 'ReceiptFieldError' as const
  readonly field: string
  constructor({ field, reason }: { field: string; reason: string }) {
    super('Receipt field is invalid.', {
      metaMessages: [`Field: ${field}`, `Reason: ${reason}`],
      code: 'SEALPOST_RECEIPT_MALFORMED',
    })
    this.field = field
  }
}

/** Any error the receipt codecs throw. @example catch (e) { const err = e as ReceiptCodecErrorType } */
export type ReceiptCodecErrorType =
  | ReceiptTruncatedError
  | ReceiptTrailingBytesError
  | ReceiptUnsupportedVersionError
  | ReceiptFieldError

// ---------------------------------------------------------------------------------------------------------
// Validate

const BYTES32 = /^0x[0-9a-fA-F]{64}$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/**
 * Throws `ReceiptFieldError` unless every field fits Receipt v1: chainId a positive safe integer, 20-byte
 * contract, 32-byte root/leaf/path elements/txHash, index and treeSize u32, at most 255 path elements,
 * blockNumber and blockTimestamp u64. (Whether the proof is *correct* is `verifyReceipt`'s job.)
 *
 * @example validateReceipt(receipt)
 */
export function validateReceipt(receipt: Receipt): void {
  if (typeof receipt !== 'object' || receipt === null)
    throw new ReceiptFieldError({ field: 'receipt', reason: 'must be an object' })
  const { chainId, contract, root, leaf, index, treeSize, path, txHash, blockNumber, blockTimestamp } =
    receipt
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId <= 0)
    throw new ReceiptFieldError({ field: 'chainId', reason: 'must be a positive safe integer' })
  if (typeof contract !== 'string' || !ADDRESS.test(contract))
    throw new ReceiptFieldError({ field: 'contract', reason: 'must be a 20-byte address' })
  checkBytes32(root, 'root')
  checkBytes32(leaf, 'leaf')
  checkU32(index, 'index')
  checkU32(treeSize, 'treeSize')
  if (!Array.isArray(path) || path.length > RECEIPT_MAX_PATH)
    throw new ReceiptFieldError({ field: 'path', reason: `must be an array of at most ${RECEIPT_MAX_PATH}` })
  path.forEach((p, i) => {
    checkBytes32(p, `path[${i}]`)
  })
  checkBytes32(txHash, 'txHash')
  checkU64(blockNumber, 'blockNumber')
  checkU64(blockTimestamp, 'blockTimestamp')
}

function checkBytes32(value: unknown, field: string): void {
  if (typeof value !== 'string' || !BYTES32.test(value))
    throw new ReceiptFieldError({ field, reason: 'must be 32 bytes as 0x-prefixed hex' })
}

function checkU32(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > U32_MAX)
    throw new ReceiptFieldError({ field, reason: 'must be an integer in 0..2^32-1' })
}

function checkU64(value: unknown, field: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX)
    throw new ReceiptFieldError({ field, reason: 'must be a u64 bigint' })
}

// ---------------------------------------------------------------------------------------------------------
// Binary

/**
 * Encodes Receipt v1: `version u8 | chainId u64 | contract(20) | root(32) | leaf(32) | index u32 |
 * treeSize u32 | pathLen u8 | path 32×n | txHash(32) | blockNumber u64 | blockTimestamp u64`, big-endian.
 *
 * @example const payload = encodeReceipt(receipt) // payload.length === 150 + 32 * receipt.path.length
 */
export function encodeReceipt(receipt: Receipt): Uint8Array {
  validateReceipt(receipt)
  const n = receipt.path.length
  const out = new Uint8Array(RECEIPT_FIXED_BYTES + 32 * n)
  const view = new DataView(out.buffer)
  let o = 0
  out[o++] = RECEIPT_VERSION
  view.setBigUint64(o, BigInt(receipt.chainId), false)
  o += 8
  out.set(hexBytes(receipt.contract), o)
  o += 20
  out.set(hexBytes(receipt.root), o)
  o += 32
  out.set(hexBytes(receipt.leaf), o)
  o += 32
  view.setUint32(o, receipt.index, false)
  o += 4
  view.setUint32(o, receipt.treeSize, false)
  o += 4
  out[o++] = n
  for (const p of receipt.path) {
    out.set(hexBytes(p), o)
    o += 32
  }
  out.set(hexBytes(receipt.txHash), o)
  o += 32
  view.setBigUint64(o, receipt.blockNumber, false)
  o += 8
  view.setBigUint64(o, receipt.blockTimestamp, false)
  return out
}

/**
 * Decodes exactly one Receipt v1. Throws only the `ReceiptCodecErrorType` classes (code
 * SEALPOST_RECEIPT_MALFORMED). `contract` comes back checksummed and other hex lower-case, so
 * `encodeReceipt(decodeReceipt(b))` equals `b`.
 *
 * @example const receipt = decodeReceipt(envelope.payload)
 */
export function decodeReceipt(bytes: Uint8Array): Receipt {
  if (!(bytes instanceof Uint8Array))
    throw new ReceiptFieldError({ field: 'bytes', reason: 'not a Uint8Array' })
  const total = bytes.length
  if (total < 1) throw new ReceiptTruncatedError({ expected: RECEIPT_FIXED_BYTES, actual: total })
  if (bytes[0] !== RECEIPT_VERSION) throw new ReceiptUnsupportedVersionError({ version: bytes[0]! })
  const pathLenOffset = 1 + 8 + 20 + 32 + 32 + 4 + 4
  if (total < pathLenOffset + 1)
    throw new ReceiptTruncatedError({ expected: RECEIPT_FIXED_BYTES, actual: total })
  const n = bytes[pathLenOffset]!
  const expected = RECEIPT_FIXED_BYTES + 32 * n
  if (total < expected) throw new ReceiptTruncatedError({ expected, actual: total })
  if (total > expected) throw new ReceiptTrailingBytesError({ expected, actual: total })
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const chainId = view.getBigUint64(1, false)
  if (chainId === 0n || chainId > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ReceiptFieldError({ field: 'chainId', reason: 'must be between 1 and 2^53 - 1' })
  let o = 9
  const contract = getAddress(hex(bytes, o, 20))
  o += 20
  const root = hex(bytes, o, 32)
  o += 32
  const leaf = hex(bytes, o, 32)
  o += 32
  const index = view.getUint32(o, false)
  o += 4
  const treeSize = view.getUint32(o, false)
  o += 5
  const path: Hex[] = []
  for (let i = 0; i < n; i++, o += 32) path.push(hex(bytes, o, 32))
  const txHash = hex(bytes, o, 32)
  o += 32
  const blockNumber = view.getBigUint64(o, false)
  const blockTimestamp = view.getBigUint64(o + 8, false)
  return {
    chainId: Number(chainId),
    contract,
    root,
    leaf,
    index,
    treeSize,
    path,
    txHash,
    blockNumber,
    blockTimestamp,
  }
}

// ---------------------------------------------------------------------------------------------------------
// JSON

/**
 * Receipt as JSON: the same fields, with `blockNumber` and `blockTimestamp` as decimal strings.
 *
 * @example const json: ReceiptJson = receiptToJson(receipt)
 */
export type ReceiptJson = {
  version: 1
  chainId: number
  contract: Address
  root: Hex
  leaf: Hex
  index: number
  treeSize: number
  path: Hex[]
  txHash: Hex
  blockNumber: string
  blockTimestamp: string
}

const hex32 = z.string().regex(BYTES32)
const decimalU64 = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,19})$/)
  .refine((s) => BigInt(s) <= U64_MAX, 'must fit in u64')
const u32 = z.number().int().min(0).max(U32_MAX)

/** zod schema of {@link ReceiptJson}. @example receiptJsonSchema.safeParse(JSON.parse(text)) */
export const receiptJsonSchema = z
  .object({
    version: z.literal(1),
    chainId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    contract: z.string().regex(ADDRESS),
    root: hex32,
    leaf: hex32,
    index: u32,
    treeSize: u32,
    path: z.array(hex32).max(RECEIPT_MAX_PATH),
    txHash: hex32,
    blockNumber: decimalU64,
    blockTimestamp: decimalU64,
  })
  .strict()

/**
 * Converts a receipt to plain JSON data (validating it first).
 *
 * @example JSON.stringify(receiptToJson(receipt))
 */
export function receiptToJson(receipt: Receipt): ReceiptJson {
  validateReceipt(receipt)
  return {
    version: 1,
    chainId: receipt.chainId,
    contract: getAddress(receipt.contract),
    root: lower(receipt.root),
    leaf: lower(receipt.leaf),
    index: receipt.index,
    treeSize: receipt.treeSize,
    path: receipt.path.map(lower),
    txHash: lower(receipt.txHash),
    blockNumber: receipt.blockNumber.toString(),
    blockTimestamp: receipt.blockTimestamp.toString(),
  }
}

/**
 * Parses JSON data (an object, or a JSON string) back into a receipt; throws `ReceiptFieldError`
 * (SEALPOST_RECEIPT_MALFORMED) naming the first offending field.
 *
 * @example const receipt = receiptFromJson(JSON.parse(text))
 */
export function receiptFromJson(json: unknown): Receipt {
  let value = json
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json)
    } catch {
      throw new ReceiptFieldError({ field: 'json', reason: 'not valid JSON' })
    }
  }
  const parsed = receiptJsonSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ReceiptFieldError({
      field: issue?.path.join('.') || 'receipt',
      reason: issue?.message ?? 'does not match the receipt schema',
    })
  }
  const d = parsed.data
  return {
    chainId: d.chainId,
    contract: getAddress(d.contract),
    root: lower(d.root as Hex),
    leaf: lower(d.leaf as Hex),
    index: d.index,
    treeSize: d.treeSize,
    path: d.path.map((p) => lower(p as Hex)),
    txHash: lower(d.txHash as Hex),
    blockNumber: BigInt(d.blockNumber),
    blockTimestamp: BigInt(d.blockTimestamp),
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function hexBytes(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value.slice(2), 'hex'))
}

function hex(bytes: Uint8Array, offset: number, length: number): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset + offset, length).toString('hex')}`
}

function lower(value: Hex): Hex {
  return value.toLowerCase() as Hex
}
