/** Message statements (v1: 213 bytes, read only for old data; v2: 274 bytes, binds deployment, epoch and recipients), plus CAIP-10 and leaf helpers. */
import { type Address, getAddress, type Hex, isAddress } from 'viem'
import { CodecError, ValidationError } from '../errors.js'
import {
  LABEL_BODY,
  LABEL_BODY_V2,
  LABEL_LEAF,
  LABEL_LEAF_V2,
  LABEL_STATEMENT,
  LABEL_STATEMENT_V2,
  labelledHash,
  labelledInput,
} from './labels.js'

/**
 * What a device asserts about one message (v1 fields, shared by v2). `block` is a recent block (so the statement was
 * made after it), `bodyHash` is `hashBody(body)` (v1) or `hashBodyV2(contentType, body)` (v2), `salt` hides the
 * statement's hash from anyone who can guess the body.
 *
 * @example
 * const statement: StatementV1 = {
 *   chainId: 31337, from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', device: `0x${'11'.repeat(32)}`,
 *   conversation: `0x${'22'.repeat(32)}`, seq: 1n, sentAt: Date.now(),
 *   block: { number: 12n, hash: `0x${'33'.repeat(32)}` }, bodyHash: hashBody(body), salt: `0x${'44'.repeat(32)}`,
 * }
 */
export type StatementV1 = {
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

/**
 * Message statement v2 (type 1): v1's fields plus the KeyRegistry it was made for, the MLS epoch it is sealed in
 * and `recipientsRoot`, the Merkle root of the conversation's member accounts at that epoch (`recipients.ts`).
 *
 * @example const v2: MessageStatementV2 = { ...v1, version: 2, registry, epoch: 3n, recipientsRoot }
 */
export type MessageStatementV2 = StatementV1 & {
  version: 2
  registry: Address
  epoch: bigint
  recipientsRoot: Hex
}

/**
 * A message statement of either version; `version === 2` tells them apart (v1 objects carry no `version`).
 *
 * @example if (statement.version === 2) console.log(statement.recipientsRoot)
 */
export type Statement =
  // v1 may be read through the v2 field names; they are undefined (and ignored when encoding) unless `version` is 2.
  | (StatementV1 & { version?: 1 | undefined } & Partial<
        Omit<MessageStatementV2, keyof StatementV1 | 'version'>
      >)
  | MessageStatementV2

/** A statement, its exact encoding and its 64-byte P-256 signature (r||s, low-S). @example const { statement, bytes, signature } = signed */
export type SignedStatement = { statement: Statement; bytes: Uint8Array; signature: Hex }

/** Size of an encoded v1 statement. @example STATEMENT_BYTES // 213 */
export const STATEMENT_BYTES = 213
/** Size of a signed v1 statement. @example SIGNED_STATEMENT_BYTES // 277 */
export const SIGNED_STATEMENT_BYTES = 277
/** Size of an encoded v2 message statement. @example STATEMENT_V2_BYTES // 274 */
export const STATEMENT_V2_BYTES = 274
/** Size of an encoded signed v2 message statement. @example SIGNED_STATEMENT_V2_BYTES // 338 */
export const SIGNED_STATEMENT_V2_BYTES = 338
/** Size of a statement signature (IEEE-P1363 r||s). @example STATEMENT_SIGNATURE_BYTES // 64 */
export const STATEMENT_SIGNATURE_BYTES = 64
/** Statement v1's version byte (read only for old data). @example STATEMENT_VERSION // 1 */
export const STATEMENT_VERSION = 1
/** Statement v2's version byte; byte 1 is then the type (`STATEMENT_TYPES`). @example STATEMENT_VERSION_V2 // 2 */
export const STATEMENT_VERSION_V2 = 2
/** Statement v2 types: a message, a signed log head, a signed log export. @example STATEMENT_TYPES.message // 1 */
export const STATEMENT_TYPES = { message: 1, logHead: 2, logExport: 3 } as const

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

// v2 message (type 1): version u8 | type u8 | chainId u64 | registry 20 | from 20 | device 32 | conversation 32 |
// epoch u64 | recipientsRoot 32 | seq u64 | sentAt u64 | blockNumber u64 | blockHash 32 | bodyHash 32 | salt 32
const OFF2 = {
  version: 0,
  type: 1,
  chainId: 2,
  registry: 10,
  from: 30,
  device: 50,
  conversation: 82,
  epoch: 114,
  recipientsRoot: 122,
  seq: 154,
  sentAt: 162,
  blockNumber: 170,
  blockHash: 178,
  bodyHash: 210,
  salt: 242,
} as const

export { type Caip10Account, InvalidCaip10Error, parseCaip10, toCaip10 } from './caip10.js'

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

/** The version byte is neither 1 nor 2. @example new StatementUnsupportedVersionError({ version: 7 }) */
export class StatementUnsupportedVersionError extends CodecError {
  override name = 'StatementUnsupportedVersionError' as const
  constructor({ version }: { version: number }) {
    super('Statement version is not supported.', {
      metaMessages: [`Version: ${version} (supported: 1, 2)`],
      code: 'SEALPOST_STATEMENT_UNSUPPORTED_VERSION',
    })
  }
}

/** A v2 statement's type byte is not the one the reader expects (or not defined). @example new StatementTypeError({ type: 9, expected: 1 }) */
export class StatementTypeError extends CodecError {
  override name = 'StatementTypeError' as const
  constructor({ type, expected }: { type: number; expected: number }) {
    super('Statement type is not the expected one.', {
      metaMessages: [`Type: ${type} (expected: ${expected})`],
      code: 'SEALPOST_STATEMENT_UNSUPPORTED_TYPE',
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

/** Errors `decodeStatement` throws. @example catch (e) { const err = e as DecodeStatementErrorType } */
export type DecodeStatementErrorType =
  | StatementLengthError
  | StatementUnsupportedVersionError
  | StatementTypeError
  | StatementFieldRangeError

// ---------------------------------------------------------------------------------------------------------
// Validate / encode / decode

/**
 * Throws `InvalidStatementError` unless every field fits: chainId a positive safe integer, addresses with valid
 * checksums, 32-byte hex ids and hashes, seq, epoch and block number u64, sentAt a non-negative safe integer.
 * @example validateStatement(statement) // throws on e.g. seq = -1n
 */
export function validateStatement(statement: Statement): void {
  if (typeof statement !== 'object' || statement === null)
    throw new InvalidStatementError({ field: 'statement', reason: 'must be an object' })
  const { chainId, from, device, conversation, seq, sentAt, block, bodyHash, salt } = statement
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId <= 0)
    throw new InvalidStatementError({ field: 'chainId', reason: 'must be a positive safe integer (< 2^53)' })
  checkAddress(from, 'from')
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
  const version = (statement as { version?: unknown }).version
  if (version === undefined || version === 1) return
  if (version !== 2) throw new InvalidStatementError({ field: 'version', reason: 'must be 1 or 2' })
  const v2 = statement as MessageStatementV2
  checkAddress(v2.registry, 'registry')
  if (typeof v2.epoch !== 'bigint' || v2.epoch < 0n || v2.epoch > U64_MAX)
    throw new InvalidStatementError({ field: 'epoch', reason: 'must be a u64 bigint' })
  checkBytes32(v2.recipientsRoot, 'recipientsRoot')
}

/**
 * Encodes a statement (validating it first): 213 bytes for v1, 274 for v2.
 *
 * @example const bytes = encodeStatement(statement) // bytes.length === 274 for a v2 statement
 */
export function encodeStatement(statement: Statement): Uint8Array {
  validateStatement(statement)
  if (statement.version === 2) return encodeV2(statement)
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

function encodeV2(statement: MessageStatementV2): Uint8Array {
  const out = new Uint8Array(STATEMENT_V2_BYTES)
  const view = new DataView(out.buffer)
  out[OFF2.version] = STATEMENT_VERSION_V2
  out[OFF2.type] = STATEMENT_TYPES.message
  view.setBigUint64(OFF2.chainId, BigInt(statement.chainId), false)
  out.set(hexBytes(statement.registry), OFF2.registry)
  out.set(hexBytes(statement.from), OFF2.from)
  out.set(hexBytes(statement.device), OFF2.device)
  out.set(hexBytes(statement.conversation), OFF2.conversation)
  view.setBigUint64(OFF2.epoch, statement.epoch, false)
  out.set(hexBytes(statement.recipientsRoot), OFF2.recipientsRoot)
  view.setBigUint64(OFF2.seq, statement.seq, false)
  view.setBigUint64(OFF2.sentAt, BigInt(statement.sentAt), false)
  view.setBigUint64(OFF2.blockNumber, statement.block.number, false)
  out.set(hexBytes(statement.block.hash), OFF2.blockHash)
  out.set(hexBytes(statement.bodyHash), OFF2.bodyHash)
  out.set(hexBytes(statement.salt), OFF2.salt)
  return out
}

/**
 * Decodes a message statement: version 1 (exactly 213 bytes, for old data) or version 2 type 1 (exactly 274 bytes).
 * Addresses come back checksummed, other hex fields lower-case, so `encodeStatement(decodeStatement(b))` equals `b`.
 *
 * @example const statement = decodeStatement(bytes)
 */
export function decodeStatement(bytes: Uint8Array): Statement {
  if (!(bytes instanceof Uint8Array))
    throw new StatementLengthError({ expected: STATEMENT_V2_BYTES, actual: undefined })
  const version = bytes[0]
  if (version === STATEMENT_VERSION_V2) {
    if (bytes.length >= 2 && bytes[1] !== STATEMENT_TYPES.message)
      throw new StatementTypeError({ type: bytes[1]!, expected: STATEMENT_TYPES.message })
    if (bytes.length !== STATEMENT_V2_BYTES)
      throw new StatementLengthError({ expected: STATEMENT_V2_BYTES, actual: bytes.length })
    return decodeV2(bytes)
  }
  if (version !== undefined && version !== STATEMENT_VERSION && bytes.length === STATEMENT_BYTES)
    throw new StatementUnsupportedVersionError({ version })
  if (bytes.length !== STATEMENT_BYTES)
    throw new StatementLengthError({ expected: STATEMENT_BYTES, actual: bytes.length })
  return decodeV1(bytes)
}

function decodeV1(b: Uint8Array): Statement {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return {
    chainId: chainIdAt(view, OFF.chainId),
    from: getAddress(hex(b, OFF.from, 20)),
    device: hex(b, OFF.device, 32),
    conversation: hex(b, OFF.conversation, 32),
    seq: view.getBigUint64(OFF.seq, false),
    sentAt: sentAtAt(view, OFF.sentAt),
    block: { number: view.getBigUint64(OFF.blockNumber, false), hash: hex(b, OFF.blockHash, 32) },
    bodyHash: hex(b, OFF.bodyHash, 32),
    salt: hex(b, OFF.salt, 32),
  }
}

function decodeV2(b: Uint8Array): MessageStatementV2 {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return {
    version: 2,
    chainId: chainIdAt(view, OFF2.chainId),
    registry: getAddress(hex(b, OFF2.registry, 20)),
    from: getAddress(hex(b, OFF2.from, 20)),
    device: hex(b, OFF2.device, 32),
    conversation: hex(b, OFF2.conversation, 32),
    epoch: view.getBigUint64(OFF2.epoch, false),
    recipientsRoot: hex(b, OFF2.recipientsRoot, 32),
    seq: view.getBigUint64(OFF2.seq, false),
    sentAt: sentAtAt(view, OFF2.sentAt),
    block: { number: view.getBigUint64(OFF2.blockNumber, false), hash: hex(b, OFF2.blockHash, 32) },
    bodyHash: hex(b, OFF2.bodyHash, 32),
    salt: hex(b, OFF2.salt, 32),
  }
}

function chainIdAt(view: DataView, offset: number): number {
  const chainId = view.getBigUint64(offset, false)
  if (chainId === 0n || chainId > BigInt(Number.MAX_SAFE_INTEGER))
    throw new StatementFieldRangeError({ field: 'chainId', reason: 'must be between 1 and 2^53 - 1' })
  return Number(chainId)
}

function sentAtAt(view: DataView, offset: number): number {
  const sentAt = view.getBigUint64(offset, false)
  if (sentAt > BigInt(Number.MAX_SAFE_INTEGER))
    throw new StatementFieldRangeError({ field: 'sentAt', reason: 'must be at most 2^53 - 1' })
  return Number(sentAt)
}

// Hashes

/**
 * v1 body hash: SHA-256(`sealpost/v1/body` || 0x00 || body).
 *
 * @example const bodyHash = hashBody(new TextEncoder().encode('hello'))
 */
export function hashBody(body: Uint8Array): Hex {
  if (!(body instanceof Uint8Array))
    throw new InvalidStatementError({ field: 'body', reason: 'must be a Uint8Array' })
  return toHex(labelledHash(LABEL_BODY, body))
}

/**
 * v2 body hash: SHA-256(`sealpost/v2/body` || 0x00 || contentType u8 || body), so the content type is signed too.
 *
 * @example const bodyHash = hashBodyV2(1, new TextEncoder().encode('hello'))
 */
export function hashBodyV2(contentType: number, body: Uint8Array): Hex {
  if (!(body instanceof Uint8Array))
    throw new InvalidStatementError({ field: 'body', reason: 'must be a Uint8Array' })
  if (!Number.isInteger(contentType) || contentType < 0 || contentType > 255)
    throw new InvalidStatementError({ field: 'contentType', reason: 'must be a u8' })
  return toHex(labelledHash(LABEL_BODY_V2, Uint8Array.of(contentType), body))
}

/** The hash `bodyHash` must equal for `body` of content type `contentType` (1 = text), by version. @example expectedBodyHash(statement, 1, body) */
export function expectedBodyHash(statement: Statement, contentType: number, body: Uint8Array): Hex {
  return statement.version === 2 ? hashBodyV2(contentType, body) : hashBody(body)
}

/**
 * The message the device key signs (ECDSA P-256/SHA-256): `sealpost/v1/statement` || 0x00 || bytes for a v1
 * statement, `sealpost/v2/statement` || 0x00 || bytes for a v2 message statement.
 *
 * @example const input = statementSigningInput(encodeStatement(statement))
 */
export function statementSigningInput(statementBytes: Uint8Array): Uint8Array {
  return labelledInput(isV2(statementBytes) ? LABEL_STATEMENT_V2 : LABEL_STATEMENT, statementBytes)
}

/**
 * The statement's Merkle leaf: SHA-256(`sealpost/v1/leaf` || 0x00 || statementBytes || signature64) for v1,
 * with `sealpost/v2/leaf` for v2.
 *
 * @example const leaf = statementLeaf(signed.bytes, signed.signature)
 */
export function statementLeaf(statementBytes: Uint8Array, signature: Hex | Uint8Array): Hex {
  const v2 = isV2(statementBytes)
  const sig = typeof signature === 'string' ? signatureBytes(signature) : signature
  if (!(sig instanceof Uint8Array) || sig.length !== STATEMENT_SIGNATURE_BYTES)
    throw new InvalidStatementError({ field: 'signature', reason: 'must be 64 bytes (r||s)' })
  return toHex(labelledHash(v2 ? LABEL_LEAF_V2 : LABEL_LEAF, statementBytes, sig))
}

// Signed statements

/**
 * `bytes || signature` (213 + 64 bytes for v1, 274 + 64 for v2). Checks that `bytes` is the encoding of `statement`.
 *
 * @example const wire = encodeSignedStatement(signed) // 338 bytes for v2
 */
export function encodeSignedStatement(signed: SignedStatement): Uint8Array {
  const bytes = encodeStatement(signed.statement)
  if (!equalBytes(bytes, signed.bytes))
    throw new InvalidStatementError({ field: 'bytes', reason: 'do not encode the given statement' })
  const out = new Uint8Array(bytes.length + STATEMENT_SIGNATURE_BYTES)
  out.set(bytes, 0)
  out.set(signatureBytes(signed.signature), bytes.length)
  return out
}

/**
 * Splits and decodes a signed statement (277 bytes for v1, 338 for v2) into statement, statement bytes (a copy) and
 * signature. Does not verify the signature: use `verifyStatementSignature` for that.
 *
 * @example const signed = decodeSignedStatement(wire)
 */
export function decodeSignedStatement(bytes: Uint8Array): SignedStatement {
  const expected =
    bytes instanceof Uint8Array && bytes[0] === 2 ? SIGNED_STATEMENT_V2_BYTES : SIGNED_STATEMENT_BYTES
  if (!(bytes instanceof Uint8Array))
    throw new StatementLengthError({ expected, actual: undefined, what: 'Signed statement' })
  if (bytes.length !== expected)
    throw new StatementLengthError({ expected, actual: bytes.length, what: 'Signed statement' })
  const length = expected - STATEMENT_SIGNATURE_BYTES
  const statementBytes = new Uint8Array(bytes.subarray(0, length)) // copy, also for Buffers
  return {
    statement: decodeStatement(statementBytes),
    bytes: statementBytes,
    signature: hex(bytes, length, STATEMENT_SIGNATURE_BYTES),
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

const BYTES32_HEX = /^0x[0-9a-fA-F]{64}$/
const SIGNATURE_HEX = /^0x[0-9a-fA-F]{128}$/

function checkBytes32(value: unknown, field: string): void {
  if (typeof value !== 'string' || !BYTES32_HEX.test(value))
    throw new InvalidStatementError({ field, reason: 'must be 32 bytes as 0x-prefixed hex' })
}

function checkAddress(value: unknown, field: string): void {
  if (typeof value !== 'string' || !isAddress(value))
    throw new InvalidStatementError({ field, reason: 'must be a 20-byte address with a valid checksum' })
}

// True for 274 bytes of a v2 message statement, false for 213 bytes of v1; anything else is refused.
function isV2(bytes: Uint8Array): boolean {
  if (bytes instanceof Uint8Array && bytes.length === STATEMENT_V2_BYTES && bytes[0] === STATEMENT_VERSION_V2)
    return true
  if (bytes instanceof Uint8Array && bytes.length === STATEMENT_BYTES) return false
  throw new InvalidStatementError({
    field: 'statementBytes',
    reason: `must be ${STATEMENT_BYTES} (v1) or ${STATEMENT_V2_BYTES} (v2) bytes`,
  })
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
