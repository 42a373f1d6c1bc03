/** Transcript export of a device's audit log; parsing, verifying and formatting are re-exported from their rooms. */
import { type Address, getAddress, type Hex } from 'viem'
import type { AuditLog } from '../store/auditLog.js'
import { parseTranscript, TRANSCRIPT_VERSION, type Transcript } from './transcriptFormat.js'

export { TranscriptFormatError } from './errors.js'
export { formatVerification } from './formatVerification.js'
export { parseTranscript, TRANSCRIPT_VERSION, type Transcript } from './transcriptFormat.js'
export type { TranscriptCheck, TranscriptCheckName, TranscriptVerification } from './transcriptReport.js'
export { type VerifyTranscriptParameters, verifyTranscript } from './verifyTranscript.js'

/** Inputs to `exportTranscript`. @example const p: ExportTranscriptParameters = { log, chainId: 31337, keyRegistry, messageAnchor, account, deviceId } */
export type ExportTranscriptParameters = {
  log: AuditLog
  chainId: number
  keyRegistry: Address
  messageAnchor: Address
  account: Address
  deviceId: Hex
  /** Export time (unix ms); default `Date.now()`. */
  exportedAt?: number | undefined
}

/**
 * Exports the whole log (entries are hash-chained from index 0, so the export is never partial). Serialise it
 * with `JSON.stringify`; every value is already JSON.
 *
 * @example writeFileSync('transcript.json', JSON.stringify(exportTranscript({ log, ...deployment, account, deviceId }), null, 2))
 */
export function exportTranscript({
  log,
  chainId,
  keyRegistry,
  messageAnchor,
  account,
  deviceId,
  exportedAt = Date.now(),
}: ExportTranscriptParameters): Transcript {
  return parseTranscript({
    version: TRANSCRIPT_VERSION,
    chainId,
    keyRegistry: getAddress(keyRegistry),
    messageAnchor: getAddress(messageAnchor),
    account: getAddress(account),
    deviceId: deviceId.toLowerCase() as Hex,
    exportedAt,
    entries: log.entries(),
  })
}
