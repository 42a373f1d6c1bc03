/** The history archive's body (protocol §12.8): the sender's log export for the chosen conversations, built and parsed. */
import { type Address, getAddress, type Hex } from 'viem'
import { z } from 'zod'
import type { DeviceSigningKey } from '../crypto/p256.js'
import { canonicalJson, type JsonObject } from '../protocol/canonicalJson.js'
import { HistoryArchiveFormatError, historyArchiveSigningInput } from '../protocol/historyArchive.js'
import { LOG_KINDS, type LogAnchorLogData, type LogEntry } from '../store/auditLog.js'
import { type SignedLogHeadHex, signLogExport } from './auditTrail.js'
import { JsonSyntaxError } from './errors.js'
import { parseStrictJson } from './strictJson.js'

/** Version of the archive body. @example HISTORY_BODY_VERSION // 1 */
export const HISTORY_BODY_VERSION = 1

/**
 * A log entry the archive leaves out (another conversation, a rejection, a log anchor): only its place in the hash
 * chain. The sender's signature over the whole body vouches for it; nothing of it is imported.
 *
 * @example const e: ElidedLogEntry = { index: 4, prevHash, hash, elided: true }
 */
export type ElidedLogEntry = { index: number; prevHash: Hex; hash: Hex; elided: true }

/**
 * The archive body: who sends it to whom (deployment, account, both devices), the archive's id, the chosen
 * conversations (absent: all), the sender's log-export statement over its last entry, and every entry of its log
 * from index 0, in full (sent/received messages of the chosen conversations with their plaintext, and the receipts
 * of those messages) or elided.
 *
 * @example const body: HistoryArchiveBody = buildHistoryBody({ … })
 */
export type HistoryArchiveBody = {
  version: 1
  chainId: number
  keyRegistry: Address
  account: Address
  fromDevice: Hex
  toDevice: Hex
  archiveId: Hex
  /** Unix milliseconds. */
  createdAt: number
  conversations?: Hex[] | undefined
  export: SignedLogHeadHex
  entries: (LogEntry | ElidedLogEntry)[]
}

/**
 * Whether an archive entry is elided.
 *
 * @example body.entries.filter((e) => !isElided(e))
 */
export function isElided(entry: LogEntry | ElidedLogEntry): entry is ElidedLogEntry {
  return (entry as ElidedLogEntry).elided === true
}

/**
 * Which entries of a log an archive carries in full: every `sent`/`received` text message with a plaintext (`body`)
 * in one of `conversations` (all when undefined), and every `receipt` entry for one of their leaves. The others
 * (signed delivery receipts, rejections, log anchors, other conversations) are elided to their index and hashes.
 *
 * @example const entries = selectHistoryEntries(log.entries(), [groupId])
 */
export function selectHistoryEntries(
  entries: readonly LogEntry[],
  conversations: readonly Hex[] | undefined,
): (LogEntry | ElidedLogEntry)[] {
  const wanted = conversations && new Set(conversations.map((c) => c.toLowerCase()))
  const leaves = new Set<string>()
  const full = new Set<number>()
  for (const e of entries) {
    if (e.kind !== 'sent' && e.kind !== 'received') continue
    if (typeof e.data.body !== 'string' || e.data.contentType === 'deliveryReceipt') continue
    if (wanted && !wanted.has(String(e.data.conversation).toLowerCase())) continue
    full.add(e.index)
    leaves.add(String(e.data.leaf).toLowerCase())
  }
  for (const e of entries)
    if (e.kind === 'receipt' && leaves.has(String(e.data.leaf).toLowerCase())) full.add(e.index)
  return entries.map((e) =>
    full.has(e.index) ? e : { index: e.index, prevHash: e.prevHash, hash: e.hash, elided: true },
  )
}

/**
 * Builds and signs an archive body from the sender's log: the chosen entries ({@link selectHistoryEntries}), the
 * log-export statement over the last entry (as `sealpost log export` signs it), and the sender's P-256 signature
 * over `"sealpost/v2/history-archive" || 0x00 || SHA-256(body)`. Returns the body's canonical JSON bytes and the
 * signature, or undefined for an empty log (nothing to sign).
 *
 * @example const built = buildHistoryBody({ entries: log.entries(), signer, toDevice, archiveId, block })
 */
export function buildHistoryBody({
  entries,
  conversations,
  signer,
  toDevice,
  archiveId,
  block,
  createdAt = Date.now(),
}: {
  entries: readonly LogEntry[]
  conversations?: readonly Hex[] | undefined
  signer: { chainId: number; registry: Address; account: Address; deviceId: Hex; key: DeviceSigningKey }
  toDevice: Hex
  archiveId: Hex
  block: { number: bigint; hash: Hex }
  createdAt?: number | undefined
}): { body: HistoryArchiveBody; bytes: Uint8Array; signature: Hex } | undefined {
  const anchor = entries.findLast((e) => e.kind === 'log-anchor')?.data as LogAnchorLogData | undefined
  const exported = signLogExport({
    last: entries.at(-1),
    signer,
    block,
    prev: anchor && { index: anchor.index, head: anchor.head },
  })
  if (!exported) return undefined
  const body: HistoryArchiveBody = {
    version: HISTORY_BODY_VERSION,
    chainId: signer.chainId,
    keyRegistry: getAddress(signer.registry),
    account: getAddress(signer.account),
    fromDevice: signer.deviceId.toLowerCase() as Hex,
    toDevice: toDevice.toLowerCase() as Hex,
    archiveId,
    createdAt,
    ...(conversations ? { conversations: conversations.map((c) => c.toLowerCase() as Hex) } : {}),
    export: exported,
    entries: selectHistoryEntries(entries, conversations),
  }
  const bytes = new TextEncoder().encode(canonicalJson(body as unknown as JsonObject))
  const signature = toHex(signer.key.sign(historyArchiveSigningInput(bytes)))
  return { body, bytes, signature }
}

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/)
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const safeInt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const fullEntry = z
  .object({
    index: safeInt,
    at: safeInt,
    kind: z.enum(LOG_KINDS as [LogEntry['kind'], ...LogEntry['kind'][]]),
    data: z.record(z.string(), z.unknown()),
    prevHash: hex32,
    hash: hex32,
  })
  .strict()
const elidedEntry = z
  .object({ index: safeInt, prevHash: hex32, hash: hex32, elided: z.literal(true) })
  .strict()
const bodySchema = z
  .object({
    version: z.literal(HISTORY_BODY_VERSION),
    chainId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    keyRegistry: address,
    account: address,
    fromDevice: hex32,
    toDevice: hex32,
    archiveId: hex32,
    createdAt: safeInt,
    conversations: z.array(hex32).optional(),
    export: z
      .object({
        statement: z.string().regex(/^0x[0-9a-fA-F]{404}$/),
        signature: z.string().regex(/^0x[0-9a-fA-F]{128}$/),
      })
      .strict(),
    entries: z.array(z.union([elidedEntry, fullEntry])).min(1),
  })
  .strict()

/**
 * Parses an archive body (UTF-8 strict JSON: a duplicate key is refused) and checks its shape, not its hashes or
 * signatures. Throws `HistoryArchiveFormatError` naming the first bad field.
 *
 * @example const body = parseHistoryBody(bytes)
 */
export function parseHistoryBody(bytes: Uint8Array): HistoryArchiveBody {
  let json: unknown
  try {
    json = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    if (!(err instanceof JsonSyntaxError) && !(err instanceof TypeError)) throw err
    throw new HistoryArchiveFormatError({ reason: 'the body is not strict UTF-8 JSON' })
  }
  const parsed = bodySchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new HistoryArchiveFormatError({
      reason: `body field ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    })
  }
  const b = parsed.data
  return {
    ...b,
    version: HISTORY_BODY_VERSION,
    keyRegistry: getAddress(b.keyRegistry),
    account: getAddress(b.account),
    fromDevice: b.fromDevice.toLowerCase() as Hex,
    toDevice: b.toDevice.toLowerCase() as Hex,
    archiveId: b.archiveId.toLowerCase() as Hex,
    conversations: b.conversations?.map((c) => c.toLowerCase() as Hex),
    export: { statement: b.export.statement as Hex, signature: b.export.signature as Hex },
    entries: b.entries.map((e) =>
      'elided' in e
        ? { index: e.index, prevHash: e.prevHash as Hex, hash: e.hash as Hex, elided: true as const }
        : { ...e, data: e.data as JsonObject, prevHash: e.prevHash as Hex, hash: e.hash as Hex },
    ),
  }
}

function toHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes).toString('hex')}`
}
