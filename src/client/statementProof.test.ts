/** Statement proofs from a log: which entry, which receipt, and the typed errors and skip reasons. */
import Database from 'better-sqlite3'
import { bytesToHex, type Hex, hexToBytes } from 'viem'
import { describe, expect, test } from 'vitest'
import { type Receipt, receiptToJson } from '../protocol/receipt.js'
import { statementLeaf } from '../protocol/statement.js'
import { AuditLog } from '../store/auditLog.js'
import { ProofMessageUnknownError, ProofNotAnchoredError } from './errors.js'
import { findLoggedStatement, loggedStatements, statementProofOf } from './statementProof.js'

const byte = (b: number, n: number): Hex => `0x${b.toString(16).padStart(2, '0').repeat(n)}`

/** A statement-shaped v2 message (version 2, type 1) and a signature: the leaf is all these tests need. */
function message(fill: number, bytes = 274) {
  const statement = hexToBytes(byte(fill, bytes))
  statement[0] = bytes === 274 ? 2 : 1
  if (bytes === 274) statement[1] = 1
  const signature = byte(fill + 1, 64)
  const leaf = statementLeaf(statement, signature)
  return {
    envelopeId: byte(fill + 2, 32),
    conversation: byte(0xcc, 32),
    statement: bytesToHex(statement),
    signature,
    leaf,
  }
}

function receiptFor(leaf: Hex, v2 = true): Receipt {
  return {
    chainId: 31337,
    contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    ...(v2 ? { submitter: '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720' as const } : {}),
    root: byte(0xee, 32),
    leaf,
    index: 0,
    treeSize: 1,
    path: [],
    txHash: byte(0xdd, 32),
    blockNumber: 7n,
    blockTimestamp: 1_700_000_000n,
  }
}

function thrown(f: () => unknown): Error | undefined {
  try {
    f()
  } catch (err) {
    return err as Error
  }
  return undefined
}

describe('statement proofs from a log', () => {
  const log = new AuditLog({ db: new Database(':memory:') })
  const sent = message(0x10)
  const pending = message(0x20)
  const old = message(0x30)
  const v1 = message(0x40, 213)
  log.append({ kind: 'sent', data: sent })
  log.append({ kind: 'rejected', data: { envelopeId: byte(0x99, 32), code: 'SEALPOST_REPLAY', step: 'seq' } })
  log.append({ kind: 'received', data: pending })
  log.append({ kind: 'received', data: old })
  log.append({ kind: 'sent', data: v1 })
  log.append({ kind: 'receipt', data: { leaf: sent.leaf, receipt: receiptToJson(receiptFor(sent.leaf)) } })
  log.append({
    kind: 'receipt',
    data: { leaf: old.leaf, receipt: receiptToJson(receiptFor(old.leaf, false)) },
  })
  log.append({ kind: 'receipt', data: { leaf: v1.leaf, receipt: receiptToJson(receiptFor(v1.leaf)) } })

  test('a message with a receipt: its statement, signature and receipt, by id (any case) or entry index', () => {
    const proof = statementProofOf({ log, message: sent.envelopeId.toUpperCase().replace('0X', '0x') as Hex })
    expect(proof).toEqual({
      statement: sent.statement,
      signature: sent.signature,
      receipt: receiptToJson(receiptFor(sent.leaf)),
    })
    expect(statementProofOf({ log, message: 0 })).toEqual(proof)
  })

  test('each message entry, with why the contract cannot judge it', () => {
    expect(loggedStatements(log.entries()).map((m) => [m.entry, m.kind, m.skip])).toEqual([
      [0, 'sent', undefined],
      [2, 'received', 'not anchored: the log holds no receipt for it'],
      [3, 'received', 'a v1 receipt names no submitter, which the contract needs'],
      [4, 'sent', 'a v1 statement: the contract judges v2 statements only'],
    ])
  })

  test('an unknown id, an entry out of range or not a message: ProofMessageUnknownError; no receipt: ProofNotAnchoredError', () => {
    const reasons = [byte(0x77, 32), 1, 100].map((message) => {
      const err = thrown(() => findLoggedStatement(log.entries(), message as Hex | number))
      expect(err).toBeInstanceOf(ProofMessageUnknownError)
      return err?.message.split('\n').find((l) => l.startsWith('Reason:'))
    })
    expect(reasons).toEqual([
      'Reason: no sent or received entry has this message id',
      'Reason: entry 1 is a rejected entry, not a message',
      'Reason: the log has 8 entries (0 to 7)',
    ])
    expect(() => statementProofOf({ log, message: pending.envelopeId })).toThrow(ProofNotAnchoredError)
    const err = thrown(() => statementProofOf({ log, message: 2 }))
    expect(err).toMatchObject({ code: 'SEALPOST_PROOF_NOT_ANCHORED' })
    expect(err?.message).toContain('sealpost send --wait anchored')
  })
})
