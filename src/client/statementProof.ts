/** Statement proofs from a device's log: a message's signed statement and its receipt, as a contract (or anyone) checks them. */
import { type Hex, hexToBytes, isHex } from 'viem'
import { type ReceiptJson, receiptFromJson, receiptToJson } from '../protocol/receipt.js'
import { STATEMENT_SIGNATURE_BYTES, STATEMENT_V2_BYTES, statementLeaf } from '../protocol/statement.js'
import type { LogEntry } from '../store/auditLog.js'
import { ProofMessageUnknownError, ProofNotAnchoredError } from './errors.js'

/**
 * A statement proof file (protocol §15): what `sealpost verify --on-chain` and `verifyOnChain` take.
 *
 * @example writeFileSync('proof.json', JSON.stringify(statementProofOf({ log: client.log, message: sent.id })))
 */
export type StatementProof = {
  /** Hex of the encoded statement (274 bytes for v2). */
  statement: Hex
  /** Hex of the 64-byte P-256 signature r ‖ s. */
  signature: Hex
  /** The receipt of the statement's leaf (§10.1). */
  receipt: ReceiptJson
}

/**
 * A `sent` or `received` entry of a log, with the first receipt the log holds for its statement's leaf and, when
 * StatementVerifier cannot judge it, why (`skip`).
 *
 * @example for (const m of loggedStatements(transcript.entries)) if (m.proof) await verifyOnChain(…)
 */
export type LoggedStatement = {
  /** The entry's index in the log. */
  entry: number
  kind: 'sent' | 'received'
  /** The envelope id (what `send` prints as `message`). */
  messageId: Hex | undefined
  /** The proof, when the entry is well-formed and the log holds a receipt for its leaf. */
  proof: StatementProof | undefined
  /** Why StatementVerifier cannot judge it: no receipt, a v1 receipt or statement, a malformed entry. */
  skip: string | undefined
}

/**
 * Every message entry (`sent`, `received`) of a log or transcript in log order, each paired with the first receipt
 * entry for the leaf of its statement and signature (recomputed, not read from the entry), and marked `skip` when
 * the contract cannot judge it. Never throws: a malformed entry is skipped with the reason.
 *
 * @example const checkable = loggedStatements(client.log.entries()).filter((m) => m.skip === undefined)
 */
export function loggedStatements(entries: readonly LogEntry[]): LoggedStatement[] {
  const receipts = new Map<string, ReceiptJson>()
  for (const e of entries) {
    if (e.kind !== 'receipt') continue
    try {
      const receipt = receiptToJson(receiptFromJson(e.data.receipt))
      if (!receipts.has(receipt.leaf)) receipts.set(receipt.leaf, receipt)
    } catch {
      // A malformed receipt entry proves nothing; the transcript check reports it.
    }
  }
  const out: LoggedStatement[] = []
  for (const e of entries) {
    if (e.kind !== 'sent' && e.kind !== 'received') continue
    const { envelopeId, statement, signature } = e.data
    const messageId = isHex(envelopeId) ? (envelopeId.toLowerCase() as Hex) : undefined
    const base = { entry: e.index, kind: e.kind, messageId }
    const leaf = leafOf(statement, signature)
    if (leaf === undefined || !isHex(statement) || !isHex(signature)) {
      out.push({ ...base, proof: undefined, skip: 'malformed entry (statement or signature)' })
      continue
    }
    const receipt = receipts.get(leaf)
    const proof = receipt && {
      statement: statement.toLowerCase() as Hex,
      signature: signature.toLowerCase() as Hex,
      receipt,
    }
    out.push({ ...base, proof, skip: skipReason(statement, receipt) })
  }
  return out
}

/**
 * The message entry of a log named by its message id (envelope id, 0x + 64 hex) or its entry index, with its proof
 * if anchored. Throws `ProofMessageUnknownError` when the log has no such message entry.
 *
 * @example const { entry, kind, proof, skip } = findLoggedStatement(client.log.entries(), sent.id)
 */
export function findLoggedStatement(entries: readonly LogEntry[], message: Hex | number): LoggedStatement {
  const wanted = typeof message === 'number' ? message : message.toLowerCase()
  const found = loggedStatements(entries).find((m) =>
    typeof wanted === 'number' ? m.entry === wanted : m.messageId === wanted,
  )
  if (found) return found
  throw new ProofMessageUnknownError({
    message: String(message),
    reason:
      typeof message !== 'number'
        ? 'no sent or received entry has this message id'
        : message >= entries.length
          ? `the log has ${entries.length} entries (0 to ${entries.length - 1})`
          : `entry ${message} is a ${entries.find((e) => e.index === message)?.kind ?? 'missing'} entry, not a message`,
  })
}

/**
 * The statement proof of one message of a device's log: `message` is its message id (envelope id, 0x + 64 hex) or
 * its entry index. Throws `ProofMessageUnknownError` when the log has no such message entry, and
 * `ProofNotAnchoredError` when it holds no receipt for it yet. A proof of a v1 statement or receipt is returned,
 * but StatementVerifier refuses it (`findLoggedStatement` says why in `skip`).
 *
 * @example
 * await client.waitForState(sent.id, 'anchored')
 * writeFileSync('proof.json', JSON.stringify(statementProofOf({ log: client.log, message: sent.id })))
 */
export function statementProofOf({
  log,
  message,
}: {
  log: { entries(): LogEntry[] }
  message: Hex | number
}): StatementProof {
  const found = findLoggedStatement(log.entries(), message)
  if (!found.proof)
    throw new ProofNotAnchoredError({ message: found.messageId ?? String(message), entry: found.entry })
  return found.proof
}

// The leaf of a logged statement and signature (lower-case hex), or undefined if they are not of that shape.
function leafOf(statement: unknown, signature: unknown): string | undefined {
  if (!isHex(statement) || !isHex(signature) || signature.length !== 2 + 2 * STATEMENT_SIGNATURE_BYTES) return
  try {
    return statementLeaf(hexToBytes(statement), signature).toLowerCase()
  } catch {
    return undefined
  }
}

function skipReason(statement: Hex, receipt: ReceiptJson | undefined): string | undefined {
  if (receipt === undefined) return 'not anchored: the log holds no receipt for it'
  if ((statement.length - 2) / 2 !== STATEMENT_V2_BYTES)
    return 'a v1 statement: the contract judges v2 statements only'
  if (receipt.version !== 2) return 'a v1 receipt names no submitter, which the contract needs'
  return undefined
}
