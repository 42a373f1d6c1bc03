/** Transcript export of a device's audit log, and a third-party verifier that trusts only the chain. */
import { type Address, type Client, getAddress, type Hex, isAddressEqual } from 'viem'
import { getChainId, getCode } from 'viem/actions'
import { z } from 'zod'
import { withChainErrors } from '../chain/errors.js'
import { getAnchor } from '../chain/messageAnchor.js'
import { CodecError, InternalError } from '../errors.js'
import type { JsonObject } from '../protocol/canonicalJson.js'
import { type Receipt, receiptFromJson } from '../protocol/receipt.js'
import { decodeStatement, type Statement, statementLeaf } from '../protocol/statement.js'
import {
  type AuditLog,
  checkLogEntry,
  LOG_GENESIS_HASH,
  LOG_KINDS,
  type LogEntry,
} from '../store/auditLog.js'
import { contractChainView } from './chainView.js'
import { verifyReceipt } from './verifyReceipt.js'
import {
  type ChainDevice,
  type ChainView,
  type ClockPolicy,
  type VerificationStepName,
  verifyStatement,
} from './verifyStatement.js'

/**
 * A device's audit log as a self-contained JSON document: who (account, device), where (chain, contracts)
 * and every entry with its hashes. Anyone can check it with {@link verifyTranscript} and an RPC endpoint.
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
  entries: LogEntry[]
}

/** Transcript format version. @example TRANSCRIPT_VERSION // 1 */
export const TRANSCRIPT_VERSION = 1

/** The JSON is not a version-1 transcript. @example new TranscriptFormatError({ path: 'entries.3.hash', reason: 'Invalid string' }) */
export class TranscriptFormatError extends CodecError {
  override name = 'TranscriptFormatError' as const
  /** Entry index the problem is in, if any. */
  readonly entry: number | null
  constructor({ path, reason }: { path: (string | number | symbol)[]; reason: string }) {
    const at = path.map(String).join('.') || 'transcript'
    super('Transcript is malformed.', {
      metaMessages: [`Field: ${at}`, `Reason: ${reason}`],
      code: 'SEALPOST_TRANSCRIPT_MALFORMED',
    })
    this.entry = path[0] === 'entries' && typeof path[1] === 'number' ? path[1] : null
  }
}

// ---------------------------------------------------------------------------------------------------------
// Export / parse

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
    entries: z.array(entrySchema),
  })
  .strict()

/**
 * Validates the shape of a transcript (an object, or its JSON text). Does not check any hash or signature:
 * that is {@link verifyTranscript}. Throws `TranscriptFormatError` naming the first bad field.
 *
 * @example const transcript = parseTranscript(readFileSync('transcript.json', 'utf8'))
 */
export function parseTranscript(value: unknown): Transcript {
  let input = value
  if (typeof value === 'string') {
    try {
      input = JSON.parse(value)
    } catch {
      throw new TranscriptFormatError({ path: [], reason: 'not valid JSON' })
    }
  }
  const parsed = transcriptSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new TranscriptFormatError({ path: issue?.path ?? [], reason: issue?.message ?? 'invalid' })
  }
  const t = parsed.data
  return {
    ...t,
    keyRegistry: getAddress(t.keyRegistry),
    messageAnchor: getAddress(t.messageAnchor),
    account: getAddress(t.account),
    deviceId: t.deviceId as Hex,
    entries: t.entries.map((e) => ({
      ...e,
      data: e.data as JsonObject,
      prevHash: e.prevHash as Hex,
      hash: e.hash as Hex,
    })),
  }
}

// ---------------------------------------------------------------------------------------------------------
// Verify

/**
 * Names of the transcript checks. Transcript-wide: `format`, `chain`, `contracts`, `device`, `hash-chain`,
 * `anchored-prefix`. Per `sent`/`received` entry: `statement`, `sender`, `signature`, `key-valid`, `block`,
 * `body`, `leaf`. Per `receipt` entry: `receipt-leaf`, `receipt`. Per `log-anchor` entry: `log-anchor`,
 * `receipt`. Per `rejected` entry: `rejected` (informational).
 *
 * @example const name: TranscriptCheckName = 'signature'
 */
export type TranscriptCheckName =
  | 'format'
  | 'chain'
  | 'contracts'
  | 'device'
  | 'hash-chain'
  | 'anchored-prefix'
  | 'statement'
  | 'sender'
  | 'signature'
  | 'key-valid'
  | 'block'
  | 'body'
  | 'leaf'
  | 'receipt-leaf'
  | 'receipt'
  | 'log-anchor'
  | 'rejected'

/** One check: the entry it is about (`null` for the whole transcript), its verdict and a one-line reason. @example const c: TranscriptCheck = { entry: 3, check: 'signature', ok: false, detail: '…' } */
export type TranscriptCheck = {
  entry: number | null
  check: TranscriptCheckName
  ok: boolean
  detail: string
}

/** Result of `verifyTranscript`: `ok` iff every check passed. @example const { ok, checks }: TranscriptVerification = await verifyTranscript({ transcript, publicClient }) */
export type TranscriptVerification = { ok: boolean; checks: TranscriptCheck[] }

/** Inputs to `verifyTranscript`. @example const p: VerifyTranscriptParameters = { transcript, publicClient } */
export type VerifyTranscriptParameters = {
  /** A `Transcript`, or untrusted JSON (object or text) claiming to be one. */
  transcript: Transcript | unknown
  /** Any viem client on the transcript's chain; all keys and anchors are read from it. */
  publicClient: Client
  /** Verification time, unix ms (default `Date.now()`); the export time may not be later (5 min tolerance). */
  now?: number | undefined
  /**
   * The contracts the verifier trusts. Without it, the addresses come from the transcript itself: the checks
   * then prove consistency with *those* contracts, and the `contracts` detail says so.
   */
  deployment?: { keyRegistry: Address; messageAnchor: Address } | undefined
  /** Confirmations each receipt needs (default 1). */
  minConfirmations?: number | undefined
}

const CLOCK_TOLERANCE_MS = 5 * 60_000
const PROBE_ROOT: Hex = `0x${'00'.repeat(31)}01`

/**
 * Verifies a transcript against the chain, trusting nothing in it but what it can check:
 * 1. `format` (shape), `chain` (the RPC serves `chainId`), `contracts` (both addresses hold code, and match
 *    `deployment` if given), `device` (the transcript's device is registered to its account, read on chain);
 * 2. `hash-chain`: every entry's index, prevHash and hash (one failing check per broken entry);
 * 3. per `sent`/`received` entry: the 213-byte statement decodes and matches the entry's conversation; the
 *    statement's device is registered on chain to `from` (and, for `sent`, is the transcript's own device);
 *    the P-256 signature verifies under the key read from KeyRegistry (never from the transcript); the key was
 *    valid at the statement's block (`isValidAt`); that block's hash is the chain's; `bodyHash` matches the
 *    body when the entry has one; and the entry's leaf is `statementLeaf(statement, signature)`;
 * 4. per `receipt` entry: the receipt's leaf is the entry's leaf and a statement leaf of the transcript, and
 *    `verifyReceipt` passes against the MessageAnchor;
 * 5. per `log-anchor` entry: the anchored head is the hash of the entry it names (an earlier one) and the
 *    receipt's leaf, and `verifyReceipt` passes. `anchored-prefix` then says how much of the log is pinned on
 *    chain (a rewrite of that prefix cannot be hidden; later entries rely on the hash chain alone).
 *
 * A tampered transcript fails with checks naming the entry index and why. Throws only when the chain cannot
 * be read (`RpcUnreachableError`, `ChainRequestError`).
 *
 * @example
 * const result = await verifyTranscript({ transcript: JSON.parse(text), publicClient })
 * for (const line of formatVerification(result)) console.log(line)
 */
export async function verifyTranscript({
  transcript: input,
  publicClient,
  now = Date.now(),
  deployment,
  minConfirmations = 1,
}: VerifyTranscriptParameters): Promise<TranscriptVerification> {
  const checks: TranscriptCheck[] = []
  const add = (entry: number | null, check: TranscriptCheckName, ok: boolean, detail: string) => {
    checks.push({ entry, check, ok, detail })
    return ok
  }
  // Report order: transcript-wide checks, then each entry's checks in index order, then the anchored prefix.
  const phase = (c: TranscriptCheck) => (c.entry !== null ? 1 : c.check === 'anchored-prefix' ? 2 : 0)
  const done = () => ({
    ok: checks.every((c) => c.ok),
    checks: checks
      .map((c, n) => ({ c, n }))
      .sort((a, b) => phase(a.c) - phase(b.c) || (a.c.entry ?? 0) - (b.c.entry ?? 0) || a.n - b.n)
      .map(({ c }) => c),
  })

  // 1. Transcript-wide.
  let transcript: Transcript
  try {
    transcript = parseTranscript(input)
  } catch (err) {
    if (!(err instanceof TranscriptFormatError)) throw err
    add(err.entry, 'format', false, `${err.metaMessages.join('; ')}`)
    return done()
  }
  const { entries, chainId, keyRegistry, messageAnchor } = transcript
  add(
    null,
    'format',
    transcript.exportedAt <= now + CLOCK_TOLERANCE_MS,
    transcript.exportedAt <= now + CLOCK_TOLERANCE_MS
      ? `version 1 transcript of ${entries.length} entries for ${transcript.account}`
      : `exported at ${new Date(transcript.exportedAt).toISOString()}, which is in the future`,
  )
  const rpcChainId = await withChainErrors(() => getChainId(publicClient))
  if (!add(null, 'chain', rpcChainId === chainId, `transcript chain ${chainId}, RPC chain ${rpcChainId}`))
    return done()
  const codes = await Promise.all(
    [keyRegistry, messageAnchor].map((a) => withChainErrors(() => getCode(publicClient, { address: a }))),
  )
  if (codes.some((c) => c === undefined || c === '0x')) {
    add(
      null,
      'contracts',
      false,
      `no contract code at KeyRegistry ${keyRegistry} or MessageAnchor ${messageAnchor}`,
    )
    return done()
  }
  if (deployment) {
    const same =
      isAddressEqual(deployment.keyRegistry, keyRegistry) &&
      isAddressEqual(deployment.messageAnchor, messageAnchor)
    if (
      !add(
        null,
        'contracts',
        same,
        same
          ? `KeyRegistry ${keyRegistry}, MessageAnchor ${messageAnchor} (the trusted deployment)`
          : `transcript names KeyRegistry ${keyRegistry} and MessageAnchor ${messageAnchor}, expected ${deployment.keyRegistry} and ${deployment.messageAnchor}`,
      )
    )
      return done()
  } else {
    add(
      null,
      'contracts',
      true,
      `KeyRegistry ${keyRegistry}, MessageAnchor ${messageAnchor} (taken from the transcript; pass a deployment to pin them)`,
    )
  }

  // One chain view from contract reads: every device and block is read once, for every check that needs it.
  const chain = contractChainView({ publicClient, chainId, keyRegistry })
  const device = (deviceId: Hex) => chain.device(deviceId, 0n)
  // Probe both contracts once: an address with the wrong code reverts here rather than mid-report.
  let own: ChainDevice | undefined
  try {
    ;[own] = await Promise.all([
      device(transcript.deviceId),
      getAnchor(publicClient, { contract: messageAnchor, root: PROBE_ROOT }),
    ])
  } catch (err) {
    if (err instanceof InternalError) throw err
    add(
      null,
      'contracts',
      false,
      `KeyRegistry ${keyRegistry} or MessageAnchor ${messageAnchor} is not a Sealpost contract`,
    )
    return done()
  }
  add(
    null,
    'device',
    own !== undefined && isAddressEqual(own.account, transcript.account),
    own === undefined
      ? `device ${transcript.deviceId} is not registered on chain`
      : isAddressEqual(own.account, transcript.account)
        ? `device ${short(transcript.deviceId)} registered to ${transcript.account} in block ${own.addedAt}${own.revokedAt === undefined ? '' : `, revoked in block ${own.revokedAt}`}`
        : `device ${transcript.deviceId} is registered to ${own.account}, not ${transcript.account}`,
  )

  // 2. Hash chain.
  let chainBroken = false
  entries.forEach((entry, i) => {
    const problem = checkLogEntry(entry, {
      index: i,
      prevHash: i === 0 ? LOG_GENESIS_HASH : entries[i - 1]!.hash,
    })
    if (problem !== undefined) {
      chainBroken = true
      add(i, 'hash-chain', false, problem)
    }
  })
  if (!chainBroken)
    add(
      null,
      'hash-chain',
      true,
      entries.length === 0 ? 'empty log' : `${entries.length} entries chain to head ${entries.at(-1)!.hash}`,
    )

  // 3–5. Entries.
  const statementLeaves = new Map<string, { entry: number; statement: Statement }>()
  // Checks are independent reads; run a few at a time (the report is sorted at the end).
  await forEachLimit([...entries.entries()], READ_CONCURRENCY, async ([i, entry]) => {
    if (entry.kind !== 'sent' && entry.kind !== 'received') return
    const checked = await checkMessage(i, entry, transcript, chain, now, add)
    if (checked?.leaf) statementLeaves.set(checked.leaf, { entry: i, statement: checked.statement })
  })
  let anchoredUpTo = -1
  let anchoredBlock: bigint | undefined
  await forEachLimit([...entries.entries()], READ_CONCURRENCY, async ([i, entry]) => {
    if (entry.kind === 'rejected') {
      const { envelopeId, code, step } = entry.data
      add(
        i,
        'rejected',
        true,
        `rejected envelope ${String(envelopeId)}: ${String(code)} at step ${String(step)}`,
      )
      return
    }
    if (entry.kind !== 'receipt' && entry.kind !== 'log-anchor') return
    let receipt: Receipt
    try {
      receipt = receiptFromJson(entry.data.receipt)
    } catch (err) {
      add(
        i,
        'receipt',
        false,
        `receipt is malformed (${err instanceof CodecError ? err.metaMessages.join('; ') : 'unreadable'})`,
      )
      return
    }
    let bound: boolean
    let note = ''
    if (entry.kind === 'receipt') {
      const leaf = String(entry.data.leaf).toLowerCase()
      const target = statementLeaves.get(leaf)
      bound = add(
        i,
        'receipt-leaf',
        receipt.leaf === leaf && target !== undefined,
        receipt.leaf !== leaf
          ? `receipt is for leaf ${receipt.leaf}, entry names ${leaf}`
          : target === undefined
            ? `leaf ${leaf} is not the leaf of any statement in the transcript`
            : `receipt is for the statement of entry ${target.entry}`,
      )
      const revokedAt = target && (await device(target.statement.device))?.revokedAt
      if (revokedAt !== undefined && receipt.blockNumber >= revokedAt)
        note = `; anchored after the signing device was revoked (block ${revokedAt}), so it does not show the statement predates the revocation`
    } else {
      const named = entry.data.index
      const head = String(entry.data.head).toLowerCase()
      const target = typeof named === 'number' && named < i ? entries[named] : undefined
      bound = add(
        i,
        'log-anchor',
        target !== undefined && target.hash.toLowerCase() === head && receipt.leaf === head,
        target === undefined
          ? `names entry ${String(named)}, which is not an earlier entry`
          : target.hash.toLowerCase() !== head
            ? `anchored head ${head} is not the hash of entry ${named} (${target.hash})`
            : receipt.leaf !== head
              ? `receipt is for leaf ${receipt.leaf}, not the anchored head`
              : `anchors the head of entry ${named}`,
      )
    }
    const result = await verifyReceipt(publicClient, { receipt, messageAnchor, chainId, minConfirmations })
    const last = result.steps.at(-1)
    add(
      i,
      'receipt',
      result.ok,
      result.ok
        ? `root ${receipt.root} anchored in block ${receipt.blockNumber} (${result.confirmations} confirmation${result.confirmations === 1n ? '' : 's'})${note}`
        : `${last?.name ?? 'receipt'}: ${last?.detail ?? 'does not verify'}`,
    )
    if (result.ok && bound && entry.kind === 'log-anchor' && !chainBroken) {
      const named = entry.data.index as number
      if (named > anchoredUpTo) {
        anchoredUpTo = named
        anchoredBlock = receipt.blockNumber
      }
    }
  })
  if (entries.length > 0 && !chainBroken)
    add(
      null,
      'anchored-prefix',
      true,
      anchoredUpTo < 0
        ? 'no log head is anchored: the log is only as trustworthy as its holder'
        : `entries 0..${anchoredUpTo} are pinned by a head anchored in block ${anchoredBlock}${
            anchoredUpTo < entries.length - 1
              ? `; entries ${anchoredUpTo + 1}..${entries.length - 1} are not anchored yet`
              : ''
          }`,
    )
  return done()
}

type Add = (entry: number | null, check: TranscriptCheckName, ok: boolean, detail: string) => boolean
/** A transcript is checked long after the fact: the clock bounds of live verification do not apply. */
const UNBOUNDED_CLOCK: ClockPolicy = {
  maxFutureSkewMs: Number.POSITIVE_INFINITY,
  maxBeforeBlockMs: Number.POSITIVE_INFINITY,
  maxBlockAgeMs: Number.POSITIVE_INFINITY,
}

const READ_CONCURRENCY = 8

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/**
 * Checks one sent/received entry with `verifyStatement` (the recipient's own checks, against a chain view of contract
 * reads) and reports its steps under the transcript's check names; returns its statement when it decoded, and its
 * recomputed leaf.
 */
async function checkMessage(
  i: number,
  entry: LogEntry,
  transcript: Transcript,
  chain: ChainView,
  now: number,
  add: Add,
): Promise<{ statement: Statement; leaf: Hex | undefined } | undefined> {
  const { data } = entry
  const bytes = hexToBytes(data.statement)
  const signature = typeof data.signature === 'string' ? (data.signature as Hex) : undefined
  let statement: Statement
  try {
    if (bytes === undefined) throw new Error()
    statement = decodeStatement(bytes)
  } catch {
    add(i, 'statement', false, 'statement is not a 213-byte version-1 statement')
    return undefined
  }
  const leaf = recomputedLeaf(bytes, signature)
  const { report } = await verifyStatement({
    signed: { statement, bytes, signature: signature ?? '0x' },
    body:
      data.body === undefined
        ? undefined
        : typeof data.body === 'string'
          ? new TextEncoder().encode(data.body)
          : new Uint8Array([0xff]),
    // The transcript has no MLS layer: the statement names its own sender, and the entry its conversation.
    sender: { chainId: statement.chainId, account: statement.from, deviceId: statement.device },
    groupId: String(data.conversation) as Hex,
    lastSeq: -1n,
    chain,
    now,
    clock: UNBOUNDED_CLOCK,
  })
  const step = (name: VerificationStepName) => report.steps.find((s) => s.name === name)

  const chainOk = step('chain')?.ok === true
  const conversationOk = step('sender-binding')?.ok === true
  add(
    i,
    'statement',
    chainOk && conversationOk,
    !chainOk
      ? `statement is for chain ${statement.chainId}, transcript is for chain ${transcript.chainId}`
      : !conversationOk
        ? `entry names conversation ${String(data.conversation)}, statement says ${statement.conversation}`
        : `seq ${statement.seq} in conversation ${short(statement.conversation)} from ${statement.from}, sent ${new Date(statement.sentAt).toISOString()}`,
  )
  if (!chainOk || !conversationOk) return { statement, leaf }

  const registered = await chain.device(statement.device, statement.block.number)
  const ownOk =
    entry.kind !== 'sent' ||
    (isAddressEqual(statement.from, transcript.account) &&
      statement.device === transcript.deviceId.toLowerCase())
  const ownerOk = step('device-registered')?.ok === true
  add(
    i,
    'sender',
    ownOk && ownerOk,
    !ownOk
      ? `a sent entry must come from the transcript's device ${short(transcript.deviceId)} of ${transcript.account}`
      : registered === undefined
        ? `device ${statement.device} is not registered on chain`
        : !ownerOk
          ? `device ${short(statement.device)} is registered to ${registered.account}, statement says ${statement.from}`
          : `device ${short(statement.device)} is registered to ${statement.from}`,
  )
  if (registered === undefined || !ownerOk) return { statement, leaf }

  const signatureStep = step('signature')
  if (signatureStep)
    add(
      i,
      'signature',
      signatureStep.ok,
      signatureStep.ok
        ? `P-256 signature verifies under the key registered on chain for ${short(statement.device)}`
        : 'signature does not verify under the key registered on chain',
    )
  const validStep = step('key-valid-at-block')
  const revoked = registered.revokedAt
  if (validStep)
    add(
      i,
      'key-valid',
      validStep.ok,
      validStep.ok
        ? `key valid at block ${statement.block.number}${revoked === undefined ? '' : ` (revoked later, in block ${revoked})`}`
        : `key not valid at block ${statement.block.number} (added in ${registered.addedAt}${revoked === undefined ? '' : `, revoked in ${revoked}`})`,
    )
  const blockStep = step('block-reference')
  if (blockStep) {
    const chainHash = blockStep.ok ? statement.block.hash : (await chain.block(statement.block.number))?.hash
    add(
      i,
      'block',
      blockStep.ok,
      chainHash === undefined
        ? `block ${statement.block.number} does not exist on chain`
        : blockStep.ok
          ? `block ${statement.block.number} is ${short(statement.block.hash)} on chain`
          : `statement names block hash ${statement.block.hash}, chain has ${chainHash}`,
    )
  }
  const bodyStep = step('body-hash')
  if (bodyStep)
    add(
      i,
      'body',
      bodyStep.ok,
      bodyStep.ok ? 'body matches the signed bodyHash' : 'body does not match the signed bodyHash',
    )

  const leafOk = leaf !== undefined && String(data.leaf).toLowerCase() === leaf
  add(
    i,
    'leaf',
    leafOk,
    leafOk ? `leaf ${leaf}` : `entry leaf ${String(data.leaf)} is not statementLeaf(statement, signature)`,
  )
  return { statement, leaf }
}

function recomputedLeaf(bytes: Uint8Array, signature: Hex | undefined): Hex | undefined {
  try {
    return signature === undefined ? undefined : statementLeaf(bytes, signature)
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------------------
// Format

/**
 * One line per check, `✓`/`✗`, the entry (or `transcript`), the check name and its detail, then a summary
 * line. For the CLI.
 *
 * @example for (const line of formatVerification(result)) console.log(line)
 */
export function formatVerification(result: TranscriptVerification): string[] {
  const lines = result.checks.map(
    (c) =>
      `${c.ok ? '✓' : '✗'} ${c.entry === null ? 'transcript' : `entry ${c.entry}`} ${c.check}: ${c.detail}`,
  )
  const failed = result.checks.filter((c) => !c.ok).length
  lines.push(
    result.ok
      ? `✓ transcript verified (${result.checks.length} checks)`
      : `✗ transcript does not verify (${failed} of ${result.checks.length} checks failed)`,
  )
  return lines
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function hexToBytes(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(value)) return undefined
  return new Uint8Array(Buffer.from(value.slice(2), 'hex'))
}

function short(value: string): string {
  return `${value.slice(0, 10)}…`
}
