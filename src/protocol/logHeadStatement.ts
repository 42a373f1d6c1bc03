/** Log-head and log-export statements (v2 types 2 and 3): a device signs the head of its own tamper-evident log. */
import { type Address, getAddress, type Hex, isAddress } from 'viem'
import { LABEL_LEAF_V2, LABEL_LOG_HEAD, labelledHash, labelledInput } from './labels.js'
import {
  InvalidStatementError,
  STATEMENT_SIGNATURE_BYTES,
  STATEMENT_TYPES,
  STATEMENT_VERSION_V2,
  StatementFieldRangeError,
  StatementLengthError,
  StatementTypeError,
  StatementUnsupportedVersionError,
} from './statement.js'

/**
 * What a device asserts about its log: entry `logIndex` has hash `head`, and the head it signed before (if any) was
 * entry `prev.index` with hash `prev.head`; `block` is a recent block. `kind` 'head' is submitted for anchoring,
 * 'export' signs an exported transcript (its last entry).
 *
 * @example
 * const s: LogHeadStatement = { kind: 'head', chainId: 31337, registry, account, device, logIndex: 31, head,
 *   prev: undefined, block: { number: 12n, hash } }
 */
export type LogHeadStatement = {
  kind: 'head' | 'export'
  chainId: number
  registry: Address
  account: Address
  device: Hex
  logIndex: number
  head: Hex
  prev: { index: number; head: Hex } | undefined
  block: { number: bigint; hash: Hex }
}

/** A log-head statement, its bytes and the device's P-256 signature. @example const { statement, bytes, signature } = signedHead */
export type SignedLogHead = { statement: LogHeadStatement; bytes: Uint8Array; signature: Hex }

/** Size of an encoded log-head statement. @example LOG_HEAD_STATEMENT_BYTES // 202 */
export const LOG_HEAD_STATEMENT_BYTES = 202

const NONE = 2n ** 64n - 1n
const ZERO32: Hex = `0x${'00'.repeat(32)}`
// version u8 | type u8 | chainId u64 | registry 20 | account 20 | device 32 | logIndex u64 | head 32 |
// prevIndex u64 (2^64-1: none) | prevHead 32 (zero: none) | blockNumber u64 | blockHash 32
const OFF = {
  chainId: 2,
  registry: 10,
  account: 30,
  device: 50,
  logIndex: 82,
  head: 90,
  prevIndex: 122,
  prevHead: 130,
  blockNumber: 162,
  blockHash: 170,
} as const

/**
 * Encodes a log-head statement to its 202 bytes (validating every field).
 *
 * @example const bytes = encodeLogHeadStatement(statement)
 */
export function encodeLogHeadStatement(s: LogHeadStatement): Uint8Array {
  if (s.kind !== 'head' && s.kind !== 'export')
    throw new InvalidStatementError({ field: 'kind', reason: "must be 'head' or 'export'" })
  if (!Number.isSafeInteger(s.chainId) || s.chainId <= 0)
    throw new InvalidStatementError({ field: 'chainId', reason: 'must be a positive safe integer' })
  for (const field of ['registry', 'account'] as const)
    if (typeof s[field] !== 'string' || !isAddress(s[field]))
      throw new InvalidStatementError({ field, reason: 'must be a 20-byte address' })
  checkIndex(s.logIndex, 'logIndex')
  if (s.prev !== undefined) {
    checkIndex(s.prev.index, 'prev.index')
    if (s.prev.index >= s.logIndex)
      throw new InvalidStatementError({ field: 'prev.index', reason: 'must be below logIndex' })
  }
  if (typeof s.block?.number !== 'bigint' || s.block.number < 0n || s.block.number >= NONE)
    throw new InvalidStatementError({ field: 'block.number', reason: 'must be a u64 bigint' })
  const out = new Uint8Array(LOG_HEAD_STATEMENT_BYTES)
  const view = new DataView(out.buffer)
  out[0] = STATEMENT_VERSION_V2
  out[1] = s.kind === 'head' ? STATEMENT_TYPES.logHead : STATEMENT_TYPES.logExport
  view.setBigUint64(OFF.chainId, BigInt(s.chainId), false)
  out.set(bytes(s.registry, 20, 'registry'), OFF.registry)
  out.set(bytes(s.account, 20, 'account'), OFF.account)
  out.set(bytes(s.device, 32, 'device'), OFF.device)
  view.setBigUint64(OFF.logIndex, BigInt(s.logIndex), false)
  out.set(bytes(s.head, 32, 'head'), OFF.head)
  view.setBigUint64(OFF.prevIndex, s.prev === undefined ? NONE : BigInt(s.prev.index), false)
  out.set(bytes(s.prev?.head ?? ZERO32, 32, 'prev.head'), OFF.prevHead)
  view.setBigUint64(OFF.blockNumber, s.block.number, false)
  out.set(bytes(s.block.hash, 32, 'block.hash'), OFF.blockHash)
  return out
}

/**
 * Decodes exactly 202 bytes of a log-head (type 2) or log-export (type 3) statement.
 *
 * @example const statement = decodeLogHeadStatement(bytes)
 */
export function decodeLogHeadStatement(b: Uint8Array): LogHeadStatement {
  if (!(b instanceof Uint8Array) || b.length !== LOG_HEAD_STATEMENT_BYTES)
    throw new StatementLengthError({
      expected: LOG_HEAD_STATEMENT_BYTES,
      actual: b instanceof Uint8Array ? b.length : undefined,
      what: 'Log-head statement',
    })
  if (b[0] !== STATEMENT_VERSION_V2) throw new StatementUnsupportedVersionError({ version: b[0]! })
  if (b[1] !== STATEMENT_TYPES.logHead && b[1] !== STATEMENT_TYPES.logExport)
    throw new StatementTypeError({ type: b[1]!, expected: STATEMENT_TYPES.logHead })
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const chainId = view.getBigUint64(OFF.chainId, false)
  if (chainId === 0n || chainId > BigInt(Number.MAX_SAFE_INTEGER))
    throw new StatementFieldRangeError({ field: 'chainId', reason: 'must be between 1 and 2^53 - 1' })
  const logIndex = index(view, OFF.logIndex, 'logIndex')
  const prevIndex = view.getBigUint64(OFF.prevIndex, false)
  const prevHead = hex(b, OFF.prevHead, 32)
  if ((prevIndex === NONE) !== (prevHead === ZERO32))
    throw new StatementFieldRangeError({
      field: 'prev',
      reason: 'index and head must both be set or both none',
    })
  const prev =
    prevIndex === NONE ? undefined : { index: index(view, OFF.prevIndex, 'prevIndex'), head: prevHead }
  if (prev !== undefined && prev.index >= logIndex)
    throw new StatementFieldRangeError({ field: 'prevIndex', reason: 'must be below logIndex' })
  const blockNumber = view.getBigUint64(OFF.blockNumber, false)
  if (blockNumber === NONE)
    throw new StatementFieldRangeError({ field: 'blockNumber', reason: 'must be below 2^64 - 1' })
  return {
    kind: b[1] === STATEMENT_TYPES.logHead ? 'head' : 'export',
    chainId: Number(chainId),
    registry: getAddress(hex(b, OFF.registry, 20)),
    account: getAddress(hex(b, OFF.account, 20)),
    device: hex(b, OFF.device, 32),
    logIndex,
    head: hex(b, OFF.head, 32),
    prev,
    block: { number: blockNumber, hash: hex(b, OFF.blockHash, 32) },
  }
}

/**
 * What the device key signs: `sealpost/v2/log-head` || 0x00 || statementBytes (both types; byte 1 tells them apart).
 *
 * @example const input = logHeadSigningInput(encodeLogHeadStatement(statement))
 */
export function logHeadSigningInput(statementBytes: Uint8Array): Uint8Array {
  checkLength(statementBytes)
  return labelledInput(LABEL_LOG_HEAD, statementBytes)
}

/**
 * The Merkle leaf submitted for anchoring a log head: SHA-256(`sealpost/v2/leaf` || 0x00 || statement || signature).
 *
 * @example const leaf = logHeadLeaf(signed.bytes, signed.signature)
 */
export function logHeadLeaf(statementBytes: Uint8Array, signature: Hex): Hex {
  checkLength(statementBytes)
  const sig = bytes(signature, STATEMENT_SIGNATURE_BYTES, 'signature')
  return `0x${Buffer.from(labelledHash(LABEL_LEAF_V2, statementBytes, sig)).toString('hex')}`
}

function checkLength(b: Uint8Array): void {
  if (!(b instanceof Uint8Array) || b.length !== LOG_HEAD_STATEMENT_BYTES)
    throw new InvalidStatementError({
      field: 'statementBytes',
      reason: `must be ${LOG_HEAD_STATEMENT_BYTES} bytes`,
    })
}

function checkIndex(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new InvalidStatementError({ field, reason: 'must be a non-negative safe integer' })
}

function index(view: DataView, offset: number, field: string): number {
  const value = view.getBigUint64(offset, false)
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new StatementFieldRangeError({ field, reason: 'must be at most 2^53 - 1' })
  return Number(value)
}

function bytes(value: string, length: number, field: string): Uint8Array {
  if (typeof value !== 'string' || !new RegExp(`^0x[0-9a-fA-F]{${length * 2}}$`).test(value))
    throw new InvalidStatementError({ field, reason: `must be ${length} bytes as 0x-prefixed hex` })
  return new Uint8Array(Buffer.from(value.slice(2), 'hex'))
}

function hex(b: Uint8Array, offset: number, length: number): Hex {
  return `0x${Buffer.from(b.buffer, b.byteOffset + offset, length).toString('hex')}`
}
