/** Transcript export of a device's audit log; parsing, verifying and formatting are re-exported from their rooms. */
import { type Address, getAddress, type Hex } from 'viem'
import type { DeviceSigningKey } from '../crypto/p256.js'
import type { AuditLog, LogAnchorLogData } from '../store/auditLog.js'
import { signLogExport } from './auditTrail.js'
import { parseTranscript, TRANSCRIPT_VERSION, type Transcript } from './transcriptFormat.js'

export { TranscriptFormatError } from './errors.js'
export { formatVerification } from './formatVerification.js'
export { parseTranscript, TRANSCRIPT_VERSION, type Transcript } from './transcriptFormat.js'
export type { TranscriptCheck, TranscriptCheckName, TranscriptVerification } from './transcriptReport.js'
export { type VerifyTranscriptParameters, verifyTranscript } from './verifyTranscript.js'

/**
 * Inputs to `exportTranscript`: the log, its deployment and owner, and what signs the export (the device's P-256 key
 * and a recent block, as for log heads).
 *
 * @example const p: ExportTranscriptParameters = { log, chainId: 31337, keyRegistry, messageAnchor, account, deviceId, signingKey, block }
 */
export type ExportTranscriptParameters = {
  log: AuditLog
  chainId: number
  keyRegistry: Address
  messageAnchor: Address
  account: Address
  deviceId: Hex
  /** The log's device key: it signs the export statement. */
  signingKey: DeviceSigningKey
  /** A recent block of the chain (`publicClient.getBlock()`), named by the export statement. */
  block: { number: bigint; hash: Hex }
  /** Export time (unix ms); default `Date.now()`. */
  exportedAt?: number | undefined
}

/**
 * Exports the whole log (entries are hash-chained from index 0, so the export is never partial) with the log-export
 * statement its device signs over the last entry (`signLogExport`; its previous head is the last anchored one), so
 * a transcript cut short after export no longer verifies. An empty log has nothing to sign and gets no export
 * statement. Serialise it with `JSON.stringify`; every value is already JSON.
 *
 * @example
 * const block = await publicClient.getBlock()
 * writeFileSync('transcript.json', JSON.stringify(exportTranscript({ log, ...deployment, account, deviceId, signingKey, block }), null, 2))
 */
export function exportTranscript({
  log,
  chainId,
  keyRegistry,
  messageAnchor,
  account,
  deviceId,
  signingKey,
  block,
  exportedAt = Date.now(),
}: ExportTranscriptParameters): Transcript {
  const entries = log.entries()
  const anchor = entries.findLast((e) => e.kind === 'log-anchor')?.data as LogAnchorLogData | undefined
  const signed = signLogExport({
    last: entries.at(-1),
    signer: { chainId, registry: keyRegistry, account, deviceId, key: signingKey },
    block: { number: block.number, hash: block.hash },
    prev: anchor && { index: anchor.index, head: anchor.head },
  })
  return parseTranscript({
    version: TRANSCRIPT_VERSION,
    chainId,
    keyRegistry: getAddress(keyRegistry),
    messageAnchor: getAddress(messageAnchor),
    account: getAddress(account),
    deviceId: deviceId.toLowerCase() as Hex,
    exportedAt,
    ...(signed === undefined ? {} : { export: signed }),
    entries,
  })
}
