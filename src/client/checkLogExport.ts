/** Verifying what a log's device signed about its log: log-head statements (anchored heads, evidence) and the export statement. */
import { type Address, type Hex, isAddressEqual } from 'viem'
import { verifyLogHeadSignature } from '../crypto/statementSignature.js'
import { decodeLogHeadStatement, type LogHeadStatement, logHeadLeaf } from '../protocol/logHeadStatement.js'
import type { LogEntry } from '../store/auditLog.js'
import type { SignedLogHeadHex } from './auditTrail.js'
import { p256PublicKey } from './identity.js'
import type { AddCheck } from './transcriptReport.js'
import type { ChainView } from './verifyStatement.js'

/**
 * Whose log a signed head must be about: the transcript's device and account, for the pinned deployment.
 *
 * @example const owner: LogOwner = { chainId: 31337, registry, account: transcript.account, deviceId: transcript.deviceId }
 */
export type LogOwner = { chainId: number; registry: Address; account: Address; deviceId: Hex }

/**
 * A signed head that verified: its decoded statement, the hex it came as, and its anchoring leaf.
 *
 * @example const { statement, leaf } = verified
 */
export type VerifiedLogHead = { statement: LogHeadStatement; signed: SignedLogHeadHex; leaf: Hex }

/**
 * Checks one signed log head or export: it decodes (202 bytes, type 2 or 3), names `owner`'s chain, registry, account
 * and device, its block is on chain with that hash, the device was registered to the account and not revoked at that
 * block, and the P-256 signature verifies under the key read from the chain. Never throws for bad input.
 *
 * @example const result = await verifySignedLogHead({ signed: { statement, signature }, owner, chain })
 */
export async function verifySignedLogHead({
  signed,
  owner,
  chain,
}: {
  signed: unknown
  owner: LogOwner
  chain: ChainView
}): Promise<({ ok: true } & VerifiedLogHead) | { ok: false; reason: string }> {
  const { statement: statementHex, signature } = (signed ?? {}) as Partial<SignedLogHeadHex>
  if (typeof statementHex !== 'string' || !/^0x[0-9a-fA-F]{404}$/.test(statementHex))
    return { ok: false, reason: 'no 202-byte signed log-head statement' }
  if (typeof signature !== 'string' || !/^0x[0-9a-fA-F]{128}$/.test(signature))
    return { ok: false, reason: 'no 64-byte signature' }
  const bytes = new Uint8Array(Buffer.from(statementHex.slice(2), 'hex'))
  let statement: LogHeadStatement
  try {
    statement = decodeLogHeadStatement(bytes)
  } catch {
    return { ok: false, reason: 'the log-head statement does not decode' }
  }
  if (statement.chainId !== owner.chainId || !isAddressEqual(statement.registry, owner.registry))
    return { ok: false, reason: `signed for chain ${statement.chainId} and registry ${statement.registry}` }
  if (!isAddressEqual(statement.account, owner.account) || statement.device !== owner.deviceId.toLowerCase())
    return {
      ok: false,
      reason: `signed head names device ${statement.device} of ${statement.account}, not this log's device`,
    }
  const block = await chain.block(statement.block.number)
  if (!block || block.hash.toLowerCase() !== statement.block.hash)
    return { ok: false, reason: `block ${statement.block.number} with that hash is not on chain` }
  const device = await chain.device(statement.device, statement.block.number)
  if (!device || !isAddressEqual(device.account, owner.account))
    return { ok: false, reason: `device ${statement.device} is not registered to ${owner.account}` }
  if (
    device.addedAt > statement.block.number ||
    (device.revokedAt !== undefined && device.revokedAt <= statement.block.number)
  )
    return { ok: false, reason: `the device key was not valid at block ${statement.block.number}` }
  const hex = { statement: statementHex.toLowerCase() as Hex, signature: signature.toLowerCase() as Hex }
  if (
    !verifyLogHeadSignature({
      signed: { statement, bytes, signature: hex.signature },
      publicKey: p256PublicKey(device),
    })
  )
    return { ok: false, reason: "signature does not verify under the device's registered key" }
  return { ok: true, statement, signed: hex, leaf: logHeadLeaf(bytes, hex.signature) }
}

/**
 * Adds the transcript-wide `export` check: the transcript carries a log-export statement its device signed over its
 * last entry ({@link verifyLogExport}); one without it fails (it could have been cut short anywhere). Returns the
 * verified export statement, for comparing with the device's other signed heads.
 *
 * @example const exported = await checkExport({ entries, signed: transcript.export, owner, chain, add })
 */
export async function checkExport({
  entries,
  signed,
  owner,
  chain,
  add,
}: {
  entries: readonly LogEntry[]
  signed: SignedLogHeadHex | undefined
  owner: LogOwner
  chain: ChainView
  add: AddCheck
}): Promise<LogHeadStatement | undefined> {
  if (signed === undefined) {
    add(
      null,
      'export',
      false,
      "no export statement signed by the log's device: the transcript may have been cut short",
    )
    return undefined
  }
  const { ok, detail, head } = await verifyLogExport({ entries, signed, owner, chain })
  add(null, 'export', ok, detail)
  return ok ? head?.statement : undefined
}

/**
 * Verifies a transcript's export signature: a log-export statement (type 3) signed by the log's own device (see
 * {@link verifySignedLogHead}) whose `logIndex` is the last entry's index and whose `head` is its hash, so a
 * transcript with entries removed at the end (or all of them) no longer matches. Its `prev`, if any, must be an entry
 * of this log. For `signLogExport`'s output (`auditTrail.ts`).
 *
 * @example
 * const { ok, detail } = await verifyLogExport({ entries: transcript.entries, signed: transcript.export, owner, chain })
 * add(null, 'export', ok, detail)
 */
export async function verifyLogExport({
  entries,
  signed,
  owner,
  chain,
}: {
  entries: readonly LogEntry[]
  signed: unknown
  owner: LogOwner
  chain: ChainView
}): Promise<{ ok: boolean; detail: string; head?: VerifiedLogHead | undefined }> {
  const result = await verifySignedLogHead({ signed, owner, chain })
  if (!result.ok) return { ok: false, detail: `export signature: ${result.reason}` }
  const { statement } = result
  const head = { statement, signed: result.signed, leaf: result.leaf }
  if (statement.kind !== 'export')
    return { ok: false, detail: 'the signed statement is a log head, not an export' }
  const last = entries.at(-1)
  if (last === undefined || statement.logIndex > entries.length - 1)
    return {
      ok: false,
      head,
      detail: `log truncated ${last === undefined ? 'to no entries' : `after index ${last.index}`}: the export was signed over entry ${statement.logIndex}`,
    }
  if (statement.logIndex < entries.length - 1)
    return {
      ok: false,
      head,
      detail: `entries added after export: the export was signed over entry ${statement.logIndex}, the transcript ends at entry ${entries.length - 1}`,
    }
  if (last.hash.toLowerCase() !== statement.head)
    return {
      ok: false,
      head,
      detail: `the export signs head ${statement.head}, the last entry's hash is ${last.hash}`,
    }
  if (statement.prev && entries[statement.prev.index]?.hash.toLowerCase() !== statement.prev.head)
    return {
      ok: false,
      head,
      detail: `the export names previous head ${statement.prev.head}, not on this log`,
    }
  return {
    ok: true,
    head,
    detail: `signed by device ${owner.deviceId.slice(0, 10)}… at block ${statement.block.number} over entries 0..${statement.logIndex}`,
  }
}
