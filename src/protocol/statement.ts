/** Statement v1: the fixed 213-byte record a device signs for every message, plus CAIP-10 and leaf helpers. */
import { type Address, getAddress, type Hex, isAddress } from 'viem'
import { CodecError, ValidationError } from '../errors.js'
import { LABEL_BODY, LABEL_LEAF, LABEL_STATEMENT, labelledHash, labelledInput } from './labels.js'

/**
 * What a device asserts about one message. `block` is a recent block (so the statement was made after it),
 * `bodyHash` is `hashBody(body)`, `salt` hides the statement's hash from anyone who can guess the body.
 *
 * @example
 * const statement: Statement = {
 *   chainId: 31337, from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', device: `0x${'11'.repeat(32)}`,
 *   conversation: `0x${'22'.repeat(32)}`, seq: 1n, sentAt: Date.now(),
 *   block: { number: 12n, hash: `0x${'33'.repeat(32)}` }, bodyHash: hashBody(body), salt: `0x${'44'.repeat(32)}`,
 * }
 */
export type Statement = {
  chainId: number
  from: Address
  device: Hex
  conversation: Hex
  seq: bigint
  /** Unix time in milliseconds. */
  sentAt: number
  block: { number: bigint; hash: Hex }
  bodyHash: Hex
  salt: Hex
}

/** A statement, its exact encoding and its 64-byte P-256 signature (r||s, low-S). @example const { statement, bytes, signature } = signed */
export type SignedStatement = { statement: Statement; bytes: Uint8Array; signature: Hex }

/** Size of an encoded statement. @example STATEMENT_BYTES // 213 */
export const STATEMENT_BYTES = 213
/** Size of an encoded signed statement: statement then signature. @example SIGNED_STATEMENT_BYTES // 277 */
export const SIGNED_STATEMENT_BYTES = 277
/** Size of a statement signature (IEEE-P1363 r||s). @example STATEMENT_SIGNATURE_BYTES // 64 */
export const STATEMENT_SIGNATURE_BYTES = 64
/** Statement format version. @example STATEMENT_VERSION // 1 */
export const STATEMENT_VERSION = 1

const U64_MAX = 2n ** 64n - 1n

// Field offsets (big-endian): version u8 | chainId u64 | from 20 | device 32 | conversation 32 | seq u64 |
// sentAt u64 | blockNumber u64 | blockHash 32 | bodyHash 32 | salt 32
const OFF = {
  version: 0,
  chainId: 1,
  from: 9,
  device: 29,
  conversation: 61,
  seq: 93,
  sentAt: 101,
  blockNumber: 109,
  blockHash: 117,
  bodyHash: 149,
  salt: 181,
} as const

// ---------------------------------------------------------------------------------------------------------
// Errors

/** A statement field is missing or out of range when encoding. @example new InvalidStatementError({ field: 'seq', reason: 'must be a u64' }) */
export class InvalidStatementError extends ValidationError {
  override name = 'InvalidStatementError' as const
  constructor({ field, reason }: { field: string; reason: string }) {
    super('Statement field is invalid.', {
      metaMessages: [`Field: ${field}`, `Reason: ${reason}`],
      code: 'SEALPOST_INVALID_STATEMENT',
    })
  }
}

/** The bytes are not exactly the expected length (or not bytes at all). @example new StatementLengthError({ expected: 213, actual: 12 }) */
export class StatementLengthError extends CodecError {
  override name = 'StatementLengthError' as const
  constructor({
    expected,
    actual,
    what = 'Statement',
  }: { expected: number; actual: number | undefined; what?: string }) {
    super(`${what} has the wrong length.`, {
      metaMessages: [
        actual === undefined ? 'Input is not a Uint8Array.' : `Expected ${expected} bytes, got ${actual}.`,
      ],
      code: 'SEALPOST_STATEMENT_BAD_LENGTH',
    })
  }
}

/** The version byte is not 1. @example new StatementUnsupportedVersionError({ version: 7 }) */
export class StatementUnsupportedVersionError extends CodecError {
  override name = 'StatementUnsupportedVersionError' as const
  constructor({ version }: { version: number }) {
    super('Statement version is not supported.', {
      metaMessages: [`Version: ${version} (supported: ${STATEMENT_VERSION})`],
      code: 'SEALPOST_STATEMENT_UNSUPPORTED_VERSION',
    })
  }
}

/** A decoded field is outside what the TS type can hold (chainId 0 or ≥ 2^53, sentAt ≥ 2^53). @example new StatementFieldRangeError({ field: 'chainId' }) */
export class StatementFieldRangeError extends CodecError {
  override name = 'StatementFieldRangeError' as const
  constructor({ field, reason }: { field: string; reason: string }) {
    super('Statement field is out of range.', {
      metaMessages: [`Field: ${field}`, `Reason: ${reason}`],
      code: 'SEALPOST_STATEMENT_FIELD_RANGE',
    })
  }
}

/** A CAIP-10 account id does not parse as `eip155:<chainId>:<address>`. @example new InvalidCaip10Error({ reason: 'unsupported namespace' }) */
export class InvalidCaip10Error extends ValidationError {
  override name = 'InvalidCaip10Error' as const
  constructor({ reason }: { reason: string }) {
    super('CAIP-10 account id is invalid.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_INVALID_CAIP10',
    })
  }
}

/** Errors `decodeStatement` throws. @example catch (e) { const err = e as DecodeStatementErrorType } */
export type DecodeStatementErrorType =
  | StatementLengthError
  | StatementUnsupportedVersionError
  | StatementFieldRangeError

// ---------------------------------------------------------------------------------------------------------
// Validate / encode / decode

/**
 * Throws `InvalidStatementError` unless every field fits Statement v1: chainId a positive safe integer, `from`
 * an address (mixed case must carry a valid checksum), 32-byte hex ids, seq and block number u64, sentAt a
 * non-negative safe integer.
 *
 * @example validateStatement(statement) // throws on e.g. seq = -1n
 */
export function validateStatement(statement: Statement): void {
  if (typeof statement !== 'object' || statement === null)
    throw new InvalidStatementError({ field: 'statement', reason: 'must be an object' })
  const { chainId, from, device, conversation, seq, sentAt, block, bodyHash, salt } = statement
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId <= 0)
    throw new InvalidStatementError({ field: 'chainId', reason: 'must be a positive safe integer (< 2^53)' })
  if (typeof from !== 'string' || !isAddress(from))
    throw new InvalidStatementError({
      field: 'from',
      reason: 'must be a 20-byte address with a valid checksum',
    })
  checkBytes32(device, 'device')
  checkBytes32(conversation, 'conversation')
  if (typeof seq !== 'bigint' || seq < 0n || seq > U64_MAX)
    throw new InvalidStatementError({ field: 'seq', reason: 'must be a u64 bigint' })
  if (typeof sentAt !== 'number' || !Number.isSafeInteger(sentAt) || sentAt < 0)
    throw new InvalidStatementError({
      field: 'sentAt',
      reason: 'must be a non-negative safe integer (unix ms)',
    })
  if (typeof block !== 'object' || block === null)
    throw new InvalidStatementError({ field: 'block', reason: 'must be an object' })
  if (typeof block.number !== 'bigint' || block.number < 0n || block.number > U64_MAX)
    throw new InvalidStatementError({ field: 'block.number', reason: 'must be a u64 bigint' })
  checkBytes32(block.hash, 'block.hash')
  checkBytes32(bodyHash, 'bodyHash')
  checkBytes32(salt, 'salt')
}

/**
 * Encodes a statement to its 213 bytes (validating it first).
 *
 * @example const bytes = encodeStatement(statement) // bytes.length === 213
 */
export function encodeStatement(statement: Statement): Uint8Array {
  validateStatement(statement)
  const out = new Uint8Array(STATEMENT_BYTES)
  const view = new DataView(out.buffer)
  out[OFF.version] = STATEMENT_VERSION
  view.setBigUint64(OFF.chainId, BigInt(statement.chainId), false)
  out.set(hexBytes(statement.from), OFF.from)
  out.set(hexBytes(statement.device), OFF.device)
  out.set(hexBytes(statement.conversation), OFF.conversation)
  view.setBigUint64(OFF.seq, statement.seq, false)
  view.setBigUint64(OFF.sentAt, BigInt(statement.sentAt), false)
  view.setBigUint64(OFF.blockNumber, statement.block.number, false)
  out.set(hexBytes(statement.block.hash), OFF.blockHash)
  out.set(hexBytes(statement.bodyHash), OFF.bodyHash)
  out.set(hexBytes(statement.salt), OFF.salt)
  return out
}

/**
 * Decodes exactly 213 bytes. `from` comes back checksummed, other hex fields lower-case, so
 * `encodeStatement(decodeStatement(b))` equals `b`.
 *
 * @example const statement = decodeStatement(bytes)
 */
export function decodeStatement(bytes: Uint8Array): Statement {
  if (!(bytes instanceof Uint8Array))
    throw new StatementLengthError({ expected: STATEMENT_BYTES, actual: undefined })
  const decoded = bytes.length === STATEMENT_BYTES ? decodeStatementAt(bytes, 0) : undefined
  if (decoded === undefined)
    throw new StatementLengthError({ expected: STATEMENT_BYTES, actual: bytes.length })
  return decoded[0]
}

// Inner decoder (ts-mls shape): `undefined` when too short; range and version problems still throw.
function decodeStatementAt(bytes: Uint8Array, offset: number): [Statement, number] | undefined {
  if (offset + STATEMENT_BYTES > bytes.length) return undefined
  const b = bytes.subarray(offset, offset + STATEMENT_BYTES)
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const version = b[OFF.version]!
  if (version !== STATEMENT_VERSION) throw new StatementUnsupportedVersionError({ version })
  const chainId = view.getBigUint64(OFF.chainId, false)
  if (chainId === 0n || chainId > BigInt(Number.MAX_SAFE_INTEGER))
    throw new StatementFieldRangeError({ field: 'chainId', reason: 'must be between 1 and 2^53 - 1' })
  const sentAt = view.getBigUint64(OFF.sentAt, false)
  if (sentAt > BigInt(Number.MAX_SAFE_INTEGER))
    throw new StatementFieldRangeError({ field: 'sentAt', reason: 'must be at most 2^53 - 1' })
  const statement: Statement = {
    chainId: Number(chainId),
    from: getAddress(hex(b, OFF.from, 20)),
    device: hex(b, OFF.device, 32),
    conversation: hex(b, OFF.conversation, 32),
    seq: view.getBigUint64(OFF.seq, false),
    sentAt: Number(sentAt),
    block: { number: view.getBigUint64(OFF.blockNumber, false), hash: hex(b, OFF.blockHash, 32) },
    bodyHash: hex(b, OFF.bodyHash, 32),
    salt: hex(b, OFF.salt, 32),
  }
  return [statement, STATEMENT_BYTES]
}

// ---------------------------------------------------------------------------------------------------------
// Hashes

/**
 * SHA-256(`sealpost/v1/body` || 0x00 || body): the statement's `bodyHash`.
 *
 * @example const bodyHash = hashBody(new TextEncoder().encode('hello'))
 */
export function hashBody(body: Uint8Array): Hex {
  if (!(body instanceof Uint8Array))
    throw new InvalidStatementError({ field: 'body', reason: 'must be a Uint8Array' })
  return toHex(labelledHash(LABEL_BODY, body))
}

/**
 * The message the device key signs (with ECDSA P-256/SHA-256): `sealpost/v1/statement` || 0x00 || statementBytes.
 *
 * @example const input = statementSigningInput(encodeStatement(statement))
 */
export function statementSigningInput(statementBytes: Uint8Array): Uint8Array {
  checkStatementBytes(statementBytes)
  return labelledInput(LABEL_STATEMENT, statementBytes)
}

/**
 * The statement's Merkle leaf: SHA-256(`sealpost/v1/leaf` || 0x00 || statementBytes || signature64).
 *
 * @example const leaf = statementLeaf(signed.bytes, signed.signature)
 */
export function statementLeaf(statementBytes: Uint8Array, signature: Hex | Uint8Array): Hex {
  checkStatementBytes(statementBytes)
  const sig = typeof signature === 'string' ? signatureBytes(signature) : signature
  if (!(sig instanceof Uint8Array) || sig.length !== STATEMENT_SIGNATURE_BYTES)
    throw new InvalidStatementError({ field: 'signature', reason: 'must be 64 bytes (r||s)' })
  return toHex(labelledHash(LABEL_LEAF, statementBytes, sig))
}

// ---------------------------------------------------------------------------------------------------------
// Signed statements

/**
 * `bytes || signature` (213 + 64 bytes). Checks that `bytes` is the encoding of `statement`.
 *
 * @example const wire = encodeSignedStatement(signed) // 277 bytes
 */
export function encodeSignedStatement(signed: SignedStatement): Uint8Array {
  const bytes = encodeStatement(signed.statement)
  if (!equalBytes(bytes, signed.bytes))
    throw new InvalidStatementError({ field: 'bytes', reason: 'do not encode the given statement' })
  const out = new Uint8Array(SIGNED_STATEMENT_BYTES)
  out.set(bytes, 0)
  out.set(signatureBytes(signed.signature), STATEMENT_BYTES)
  return out
}

/**
 * Splits and decodes 277 bytes into statement, statement bytes (a copy) and signature. Does not verify the
 * signature: use `verifyStatementSignature` for that.
 *
 * @example const signed = decodeSignedStatement(wire)
 */
export function decodeSignedStatement(bytes: Uint8Array): SignedStatement {
  if (!(bytes instanceof Uint8Array))
    throw new StatementLengthError({
      expected: SIGNED_STATEMENT_BYTES,
      actual: undefined,
      what: 'Signed statement',
    })
  if (bytes.length !== SIGNED_STATEMENT_BYTES)
    throw new StatementLengthError({
      expected: SIGNED_STATEMENT_BYTES,
      actual: bytes.length,
      what: 'Signed statement',
    })
  const statementBytes = new Uint8Array(bytes.subarray(0, STATEMENT_BYTES)) // copy, also for Buffers
  return {
    statement: decodeStatement(statementBytes),
    bytes: statementBytes,
    signature: hex(bytes, STATEMENT_BYTES, STATEMENT_SIGNATURE_BYTES),
  }
}

// ---------------------------------------------------------------------------------------------------------
// CAIP-10

/** An EVM account on a chain. @example const account: Caip10Account = { chainId: 1, address } */
export type Caip10Account = { chainId: number; address: Address }

/**
 * `eip155:<chainId>:<checksummed address>`.
 *
 * @example toCaip10({ chainId: 1, address: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266' })
 * // 'eip155:1:0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
 */
export function toCaip10({ chainId, address }: Caip10Account): string {
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId <= 0)
    throw new InvalidCaip10Error({ reason: 'chainId must be a positive safe integer' })
  if (typeof address !== 'string' || !isAddress(address))
    throw new InvalidCaip10Error({ reason: 'address must be a 20-byte address with a valid checksum' })
  return `eip155:${chainId}:${getAddress(address)}`
}

const CAIP10 = /^eip155:([1-9][0-9]{0,15}):(0x[0-9a-fA-F]{40})$/

/**
 * Parses `eip155:<chainId>:<address>` (decimal chain id without leading zeros; lower-case or checksummed
 * address). Returns the checksummed address.
 *
 * @example parseCaip10('eip155:31337:0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266') // { chainId: 31337, address }
 */
export function parseCaip10(value: string): Caip10Account {
  if (typeof value !== 'string') throw new InvalidCaip10Error({ reason: 'must be a string' })
  const match = CAIP10.exec(value)
  if (!match) throw new InvalidCaip10Error({ reason: 'expected eip155:<chainId>:<0x-address>' })
  const chainId = Number(match[1])
  if (!Number.isSafeInteger(chainId)) throw new InvalidCaip10Error({ reason: 'chainId is too large' })
  const address = match[2]!
  if (!isAddress(address)) throw new InvalidCaip10Error({ reason: 'address checksum is wrong' })
  return { chainId, address: getAddress(address) }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

const BYTES32_HEX = /^0x[0-9a-fA-F]{64}$/
const SIGNATURE_HEX = /^0x[0-9a-fA-F]{128}$/

function checkBytes32(value: unknown, field: string): void {
  if (typeof value !== 'string' || !BYTES32_HEX.test(value))
    throw new InvalidStatementError({ field, reason: 'must be 32 bytes as 0x-prefixed hex' })
}

function checkStatementBytes(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== STATEMENT_BYTES)
    throw new InvalidStatementError({ field: 'statementBytes', reason: `must be ${STATEMENT_BYTES} bytes` })
}

function signatureBytes(signature: Hex): Uint8Array {
  if (typeof signature !== 'string' || !SIGNATURE_HEX.test(signature))
    throw new InvalidStatementError({
      field: 'signature',
      reason: 'must be 64 bytes (r||s) as 0x-prefixed hex',
    })
  return hexBytes(signature)
}

function hexBytes(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value.slice(2), 'hex'))
}

function hex(bytes: Uint8Array, offset: number, length: number): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset + offset, length).toString('hex')}`
}

function toHex(bytes: Uint8Array): Hex {
  return hex(bytes, 0, bytes.length)
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (!(b instanceof Uint8Array) || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
