/** Receipts v2 (and v1, read and written for old data): proof that a leaf is in a Merkle batch anchored on chain (binary + JSON). */
import { type Address, getAddress, type Hex } from 'viem'
import { z } from 'zod'
import { CodecError } from '../errors.js'

/**
 * An anchoring receipt: `leaf` is entry `index` of the RFC 6962 tree of `treeSize` leaves whose root `root` was
 * anchored on `chainId` in MessageAnchor `contract` by `submitter` (anchors are namespaced by submitter), in a
 * transaction `txHash` in block `blockNumber` (timestamp `blockTimestamp`, unix seconds). `path` is the RFC 9162
 * audit path, leaf's sibling first. A receipt with `submitter` is v2; without it, v1 (issued before
 * MessageAnchor v2; the verifier then takes the submitter from the `Anchored` event).
 *
 * @example
 * const receipt: Receipt = decodeReceipt(envelope.payload)
 */
export type Receipt = {
  chainId: number
  contract: Address
  /** Who anchored the root (v2); absent in a v1 receipt. */
  submitter?: Address | undefined
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

/** Receipt format version new receipts use (v1 is still read). @example RECEIPT_VERSION // 2 */
export const RECEIPT_VERSION = 2
/** Size of a v2 receipt with an empty path: 170 bytes (+32 per path element). @example RECEIPT_FIXED_BYTES + 32 * path.length */
export const RECEIPT_FIXED_BYTES = 170
/** Size of a v1 receipt (no submitter) with an empty path: 150 bytes (+32 per path element). @example RECEIPT_V1_FIXED_BYTES // 150 */
export const RECEIPT_V1_FIXED_BYTES = 150
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

/** The version byte is neither 1 nor 2. @example new ReceiptUnsupportedVersionError({ version: 3 }) */
export class ReceiptUnsupportedVersionError extends CodecError {
  override name = 'ReceiptUnsupportedVersionError' as const
  constructor({ version }: { version: number }) {
    super('Receipt version is not supported.', {
      metaMessages: [`Version: ${version} (supported: 1, ${RECEIPT_VERSION})`],
      code: 'SEALPOST_RECEIPT_MALFORMED',
    })
  }
}

/**
 * A field does not fit the receipt format (encoding a bad object, decoding a chainId above 2^53 - 1, or a JSON
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
 * Throws `ReceiptFieldError` unless every field fits the receipt format: chainId a positive safe integer, 20-byte
 * contract (and submitter, when present), 32-byte root/leaf/path elements/txHash, index and treeSize u32, at most 255 path elements,
 * blockNumber and blockTimestamp u64. (Whether the proof is *correct* is `verifyReceipt`'s job.)
 *
 * @example validateReceipt(receipt)
 */
export function validateReceipt(receipt: Receipt): void {
  if (typeof receipt !== 'object' || receipt === null)
    throw new ReceiptFieldError({ field: 'receipt', reason: 'must be an object' })
  const {
    chainId,
    contract,
    submitter,
    root,
    leaf,
    index,
    treeSize,
    path,
    txHash,
    blockNumber,
    blockTimestamp,
  } = receipt
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId <= 0)
    throw new ReceiptFieldError({ field: 'chainId', reason: 'must be a positive safe integer' })
  if (typeof contract !== 'string' || !ADDRESS.test(contract))
    throw new ReceiptFieldError({ field: 'contract', reason: 'must be a 20-byte address' })
  if (submitter !== undefined && (typeof submitter !== 'string' || !ADDRESS.test(submitter)))
    throw new ReceiptFieldError({ field: 'submitter', reason: 'must be a 20-byte address' })
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
 * Encodes a receipt, big-endian. v2 (with `submitter`): `version u8 (=2) | chainId u64 | contract(20) |
 * submitter(20) | root(32) | leaf(32) | index u32 | treeSize u32 | pathLen u8 | path 32×n | txHash(32) |
 * blockNumber u64 | blockTimestamp u64`, 170 + 32n bytes. v1 (no `submitter`): the same without submitter,
 * version 1, 150 + 32n bytes.
 *
 * @example const payload = encodeReceipt(receipt) // payload.length === 170 + 32 * receipt.path.length
 */
export function encodeReceipt(receipt: Receipt): Uint8Array {
  validateReceipt(receipt)
  const n = receipt.path.length
  const v2 = receipt.submitter !== undefined
  const out = new Uint8Array((v2 ? RECEIPT_FIXED_BYTES : RECEIPT_V1_FIXED_BYTES) + 32 * n)
  const view = new DataView(out.buffer)
  let o = 0
  out[o++] = v2 ? 2 : 1
  view.setBigUint64(o, BigInt(receipt.chainId), false)
  o += 8
  out.set(hexBytes(receipt.contract), o)
  o += 20
  if (receipt.submitter !== undefined) {
    out.set(hexBytes(receipt.submitter), o)
    o += 20
  }
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
 * Decodes exactly one receipt, v2 or v1. Throws only the `ReceiptCodecErrorType` classes (code
 * SEALPOST_RECEIPT_MALFORMED). `contract` and `submitter` come back checksummed and other hex lower-case, so
 * `encodeReceipt(decodeReceipt(b))` equals `b`.
 *
 * @example const receipt = decodeReceipt(envelope.payload)
 */
export function decodeReceipt(bytes: Uint8Array): Receipt {
  if (!(bytes instanceof Uint8Array))
    throw new ReceiptFieldError({ field: 'bytes', reason: 'not a Uint8Array' })
  const total = bytes.length
  if (total < 1) throw new ReceiptTruncatedError({ expected: RECEIPT_FIXED_BYTES, actual: total })
  const version = bytes[0]!
  if (version !== 1 && version !== 2) throw new ReceiptUnsupportedVersionError({ version })
  const fixed = version === 2 ? RECEIPT_FIXED_BYTES : RECEIPT_V1_FIXED_BYTES
  const pathLenOffset = fixed - 32 - 8 - 8 - 1
  if (total < pathLenOffset + 1) throw new ReceiptTruncatedError({ expected: fixed, actual: total })
  const n = bytes[pathLenOffset]!
  const expected = fixed + 32 * n
  if (total < expected) throw new ReceiptTruncatedError({ expected, actual: total })
  if (total > expected) throw new ReceiptTrailingBytesError({ expected, actual: total })
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const chainId = view.getBigUint64(1, false)
  if (chainId === 0n || chainId > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ReceiptFieldError({ field: 'chainId', reason: 'must be between 1 and 2^53 - 1' })
  let o = 9
  const contract = getAddress(hex(bytes, o, 20))
  o += 20
  let submitter: Address | undefined
  if (version === 2) {
    submitter = getAddress(hex(bytes, o, 20))
    o += 20
  }
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
    ...(submitter !== undefined ? { submitter } : {}),
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
 * Receipt as JSON: the same fields, with `blockNumber` and `blockTimestamp` as decimal strings; `version` 2 with
 * `submitter`, or 1 without.
 *
 * @example const json: ReceiptJson = receiptToJson(receipt)
 */
export type ReceiptJson = {
  version: 1 | 2
  chainId: number
  contract: Address
  submitter?: Address
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
  .regex(/^(0|[1-9][0-9]{0,19})$/, { abort: true }) // the refine below must never see a non-number
  .refine((s) => BigInt(s) <= U64_MAX, 'must fit in u64')
const u32 = z.number().int().min(0).max(U32_MAX)

const receiptJsonFields = {
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
}

/** zod schema of {@link ReceiptJson} (v1 or v2). @example receiptJsonSchema.safeParse(JSON.parse(text)) */
export const receiptJsonSchema = z.discriminatedUnion('version', [
  z.object({ version: z.literal(1), ...receiptJsonFields }).strict(),
  z.object({ version: z.literal(2), submitter: z.string().regex(ADDRESS), ...receiptJsonFields }).strict(),
])

/**
 * Converts a receipt to plain JSON data (validating it first).
 *
 * @example JSON.stringify(receiptToJson(receipt))
 */
export function receiptToJson(receipt: Receipt): ReceiptJson {
  validateReceipt(receipt)
  return {
    version: receipt.submitter !== undefined ? 2 : 1,
    chainId: receipt.chainId,
    contract: getAddress(receipt.contract),
    ...(receipt.submitter !== undefined ? { submitter: getAddress(receipt.submitter) } : {}),
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
    ...(d.version === 2 ? { submitter: getAddress(d.submitter) } : {}),
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
