/** The P-256 key of a statement recovered from its signature and device id (the mirror carries no keys, only ids). */

import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, type Hex, hexToBytes, isHex, keccak256 } from 'viem'
import { verifyStatementSignature } from '../crypto/statementSignature.js'
import { type SignedStatement, statementSigningInput } from '../protocol/statement.js'

/**
 * Recovers the device key (x, y) that signed `signed` and whose `keccak256(x ‖ y)` is the statement's device id
 * (protocol §4.1), then verifies the signature with it (low-S, exact encoding). ECDSA public key recovery gives up to
 * four candidate keys; the device id picks the one. Undefined when no candidate matches or the signature does not
 * verify. Never throws.
 *
 * @example const key = recoverStatementKey(signed) // { p256X, p256Y } or undefined
 */
export function recoverStatementKey(signed: SignedStatement): { p256X: Hex; p256Y: Hex } | undefined {
  try {
    if (!isHex(signed.signature) || signed.signature.length !== 130) return undefined
    const hash = sha256(statementSigningInput(signed.bytes))
    const compact = hexToBytes(signed.signature)
    for (let recovery = 0; recovery < 4; recovery++) {
      let raw: Uint8Array
      try {
        const point = p256.Signature.fromBytes(compact, 'compact')
          .addRecoveryBit(recovery)
          .recoverPublicKey(hash)
        raw = point.toBytes(false).subarray(1)
      } catch {
        continue
      }
      if (keccak256(raw).toLowerCase() !== signed.statement.device.toLowerCase()) continue
      if (!verifyStatementSignature({ signed, publicKey: raw })) return undefined
      return { p256X: bytesToHex(raw.subarray(0, 32)), p256Y: bytesToHex(raw.subarray(32)) }
    }
    return undefined
  } catch {
    return undefined
  }
}
