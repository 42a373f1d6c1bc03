/** Signs statements with a device P-256 key and verifies them (message statements v1/v2, log heads; low-S only). */
import type { Hex } from 'viem'
import {
  decodeLogHeadStatement,
  encodeLogHeadStatement,
  type LogHeadStatement,
  logHeadSigningInput,
  type SignedLogHead,
} from '../protocol/logHeadStatement.js'
import {
  decodeStatement,
  encodeStatement,
  type InvalidStatementError,
  type SignedStatement,
  STATEMENT_BYTES,
  STATEMENT_V2_BYTES,
  type Statement,
  statementSigningInput,
} from '../protocol/statement.js'
import { type DeviceSigningKey, verifyP256 } from './p256.js'

/** Inputs to `signStatement`. @example const p: SignStatementParameters = { statement, key } */
export type SignStatementParameters = { statement: Statement; key: DeviceSigningKey }
/** Errors `signStatement` throws. @example catch (e) { const err = e as SignStatementErrorType } */
export type SignStatementErrorType = InvalidStatementError

/**
 * Encodes `statement` and signs `sealpost/v2/statement || 0x00 || bytes` (v1: `sealpost/v1/statement`; ECDSA
 * P-256/SHA-256, low-S).
 * The returned `statement` is the canonical decoded form of `bytes` (checksummed address, lower-case hex).
 *
 * @example const signed = signStatement({ statement, key: DeviceSigningKey.generate() })
 */
export function signStatement({ statement, key }: SignStatementParameters): SignedStatement {
  const bytes = encodeStatement(statement)
  const signature = key.sign(statementSigningInput(bytes))
  const hex: Hex = `0x${Buffer.from(signature).toString('hex')}`
  return { statement: decodeStatement(bytes), bytes, signature: hex }
}

/** Inputs to `verifyStatementSignature`. @example const p: VerifyStatementSignatureParameters = { signed, publicKey } */
export type VerifyStatementSignatureParameters = { signed: SignedStatement; publicKey: Uint8Array | Hex }

/**
 * True iff `signed.signature` is a valid low-S signature by `publicKey` over `signed.bytes`, and
 * `signed.statement` is exactly what `signed.bytes` encodes (so callers can trust the fields they read).
 * Never throws.
 *
 * @example verifyStatementSignature({ signed, publicKey: key.publicKey }) // true
 */
export function verifyStatementSignature({ signed, publicKey }: VerifyStatementSignatureParameters): boolean {
  try {
    const { bytes, statement, signature } = signed
    if (!(bytes instanceof Uint8Array)) return false
    if (bytes.length !== STATEMENT_BYTES && bytes.length !== STATEMENT_V2_BYTES) return false
    if (!equalBytes(encodeStatement(statement), bytes)) return false
    return verifyP256({ publicKey, message: statementSigningInput(bytes), signature })
  } catch {
    return false
  }
}

/**
 * Encodes a log-head or log-export statement and signs `sealpost/v2/log-head || 0x00 || bytes` with the device key.
 *
 * @example const signed = signLogHeadStatement({ statement, key: device.signingKey })
 */
export function signLogHeadStatement({
  statement,
  key,
}: {
  statement: LogHeadStatement
  key: DeviceSigningKey
}): SignedLogHead {
  const bytes = encodeLogHeadStatement(statement)
  const signature = key.sign(logHeadSigningInput(bytes))
  return {
    statement: decodeLogHeadStatement(bytes),
    bytes,
    signature: `0x${Buffer.from(signature).toString('hex')}`,
  }
}

/**
 * True iff `signed.signature` is a valid low-S signature by `publicKey` over `signed.bytes`, and `signed.statement`
 * is what the bytes encode. Never throws.
 *
 * @example verifyLogHeadSignature({ signed, publicKey }) // true
 */
export function verifyLogHeadSignature({
  signed,
  publicKey,
}: {
  signed: SignedLogHead
  publicKey: Uint8Array | Hex
}): boolean {
  try {
    if (!equalBytes(encodeLogHeadStatement(signed.statement), signed.bytes)) return false
    return verifyP256({ publicKey, message: logHeadSigningInput(signed.bytes), signature: signed.signature })
  } catch {
    return false
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
