/** The transcript document: its type, its version and the parser that checks its shape (not its hashes). */
import { type Address, getAddress, type Hex } from 'viem'
import { z } from 'zod'
import type { JsonObject } from '../protocol/canonicalJson.js'
import { LOG_KINDS, type LogEntry } from '../store/auditLog.js'
import type { SignedLogHeadHex } from './auditTrail.js'
import { JsonSyntaxError, TranscriptFormatError } from './errors.js'
import { parseStrictJson } from './strictJson.js'

/**
 * A device's audit log as a self-contained JSON document: who (account, device), where (chain, contracts)
 * and every entry with its hashes. Anyone can check it with `verifyTranscript` and an RPC endpoint.
 *
 * @example const transcript: Transcript = exportTranscript({ log, chainId, keyRegistry, messageAnchor, account, deviceId })
 */
export type Transcript = {
  version: 1
  chainId: number
  keyRegistry: Address
  messageAnchor: Address
  account: Address
  deviceId: Hex
  /** Unix milliseconds. */
  exportedAt: number
  /**
   * The log-export statement (§12.7, type 3) the device signed over its last entry: a transcript with entries removed
   * at its end no longer matches it. Absent only in transcripts that cannot verify (check `export` fails).
   */
  export?: SignedLogHeadHex
  entries: LogEntry[]
}

/** Transcript format version. @example TRANSCRIPT_VERSION // 1 */
export const TRANSCRIPT_VERSION = 1

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/)
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const entrySchema = z
  .object({
    index: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    at: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    kind: z.enum(LOG_KINDS as [LogEntry['kind'], ...LogEntry['kind'][]]),
    data: z.record(z.string(), z.unknown()),
    prevHash: hex32,
    hash: hex32,
  })
  .strict()
const transcriptSchema = z
  .object({
    version: z.literal(TRANSCRIPT_VERSION),
    chainId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    keyRegistry: address,
    messageAnchor: address,
    account: address,
    deviceId: hex32,
    exportedAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    export: z
      .object({
        statement: z.string().regex(/^0x[0-9a-fA-F]{404}$/),
        signature: z.string().regex(/^0x[0-9a-fA-F]{128}$/),
      })
      .strict()
      .optional(),
    entries: z.array(entrySchema),
  })
  .strict()

/**
 * Validates the shape of a transcript (an object, or its JSON text, read as strict JSON: a duplicate key is refused).
 * Does not check any hash or signature: that is `verifyTranscript`. Throws `TranscriptFormatError` naming the first
 * bad field (or the JSON error).
 *
 * @example const transcript = parseTranscript(readFileSync('transcript.json', 'utf8'))
 */
export function parseTranscript(value: unknown): Transcript {
  let input = value
  if (typeof value === 'string') {
    try {
      input = parseStrictJson(value)
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err
      throw new TranscriptFormatError({
        path: [],
        reason: `not strict JSON (${err.metaMessages.join('; ')})`,
      })
    }
  }
  const parsed = transcriptSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new TranscriptFormatError({ path: issue?.path ?? [], reason: issue?.message ?? 'invalid' })
  }
  const { entries, export: exported, ...t } = parsed.data
  return {
    ...t,
    keyRegistry: getAddress(t.keyRegistry),
    messageAnchor: getAddress(t.messageAnchor),
    account: getAddress(t.account),
    deviceId: t.deviceId as Hex,
    ...(exported === undefined
      ? {}
      : { export: { statement: exported.statement as Hex, signature: exported.signature as Hex } }),
    entries: entries.map((e) => ({
      ...e,
      data: e.data as JsonObject,
      prevHash: e.prevHash as Hex,
      hash: e.hash as Hex,
    })),
  }
}
