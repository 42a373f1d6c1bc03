/** `sealpost verify --mirror FILE`: a statement proof, or every anchored message of a transcript, checked from chain B alone. */
import { readFileSync } from 'node:fs'
import { type Address, createPublicClient, getAddress, http, type PublicClient } from 'viem'
import { z } from 'zod'
import { loggedStatements, type StatementProof } from '../client/statementProof.js'
import { parseStrictJson } from '../client/strictJson.js'
import type { TrustedDeployment } from '../client/transcriptReport.js'
import { MirrorPinFormatError } from '../crosschain/verifyErrors.js'
import { type MirrorVerification, verifyViaMirror } from '../crosschain/verifyViaMirror.js'
import { receiptFromJson } from '../protocol/receipt.js'
import type { LogEntry } from '../store/auditLog.js'
import type { CliContext } from './context.js'

/**
 * A pinned mirror: where to read chain B, its chain id, the SealpostMirror there, and optionally the
 * SealpostMirrorSender on A it must follow.
 *
 * @example const pin: MirrorPin = { rpcUrl: 'http://127.0.0.1:8546', chainId: 31338, mirror: '0x…' }
 */
export type MirrorPin = { rpcUrl: string; chainId: number; mirror: Address; sender?: Address | undefined }

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'not an address')
const pinSchema = z
  .object({
    rpcUrl: z.string().regex(/^https?:\/\//, 'not an http(s) URL'),
    chainId: z.number().int().positive(),
    mirror: address,
    sender: address.optional(),
  })
  .strict()

/**
 * Reads a mirror pin file (strict JSON `{ "rpcUrl", "chainId", "mirror"[, "sender"] }`); throws
 * `MirrorPinFormatError` for anything else.
 *
 * @example const pin = readMirrorPin('mirror-b.json')
 */
export function readMirrorPin(path: string): MirrorPin {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new MirrorPinFormatError({
      path,
      reason: `cannot read (${(err as { code?: string }).code ?? 'error'})`,
    })
  }
  let json: unknown
  try {
    json = parseStrictJson(text)
  } catch {
    throw new MirrorPinFormatError({ path, reason: 'not valid JSON (or a key named twice)' })
  }
  const parsed = pinSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new MirrorPinFormatError({
      path,
      reason: `${issue?.path.join('.') || 'file'}: ${issue?.message ?? ''}`,
    })
  }
  const { rpcUrl, chainId, mirror, sender } = parsed.data
  return {
    rpcUrl,
    chainId,
    mirror: getAddress(mirror),
    ...(sender !== undefined && { sender: getAddress(sender) }),
  }
}

/**
 * The verdict of a `--mirror` run: `true` when verified, `'pending'` when nothing failed but something is not yet
 * mirrored (exit 3), `false` when refused.
 *
 * @example const verdict: MirrorCommandVerdict = await verifyProofViaMirror(ctx, origin, pin, proof)
 */
export type MirrorCommandVerdict = boolean | 'pending'

/**
 * Checks one statement proof from chain B alone (`verifyViaMirror`), prints every step and the verdict, and returns
 * it. The origin deployment (`origin`) is the pinned one; chain A is never contacted.
 *
 * @example const verdict = await verifyProofViaMirror(ctx, origin, readMirrorPin('mirror.json'), proof)
 */
export async function verifyProofViaMirror(
  ctx: CliContext,
  origin: TrustedDeployment & { source: string },
  pin: MirrorPin,
  proof: StatementProof,
): Promise<MirrorCommandVerdict> {
  const v = await judge(clientFor(pin), origin, pin, proof)
  printHeader(ctx, pin)
  for (const step of v.steps) ctx.out.info(`  ${mark(step.status)} ${step.name}: ${step.detail}`)
  ctx.out.info(summary(v))
  ctx.out.result({ ...verdictJson(v), trustedDeployment: origin, mirror: pin })
  return verdictOf(v)
}

/**
 * Checks every message entry of a transcript that carries a v2 statement and its receipt from chain B alone; the
 * others are listed as skipped. Verified only if every entry checked is verified and at least one was; pending if
 * none was refused and some are not yet mirrored.
 *
 * @example const verdict = await verifyTranscriptViaMirror(ctx, origin, pin, transcript.entries)
 */
export async function verifyTranscriptViaMirror(
  ctx: CliContext,
  origin: TrustedDeployment & { source: string },
  pin: MirrorPin,
  entries: readonly LogEntry[],
): Promise<MirrorCommandVerdict> {
  const client = clientFor(pin)
  const logged = loggedStatements(entries)
  printHeader(ctx, pin)
  const rows: Record<string, unknown>[] = []
  const counts = { verified: 0, pending: 0, refused: 0, skipped: 0 }
  for (const m of logged) {
    const head = `  entry ${m.entry} ${m.kind} ${m.messageId ? `${m.messageId.slice(0, 10)}…` : '(no id)'}`
    const row = { entry: m.entry, kind: m.kind, messageId: m.messageId }
    if (!m.proof || m.skip !== undefined) {
      counts.skipped++
      ctx.out.info(`${head}: – skipped: ${m.skip}`)
      rows.push({ ...row, skipped: m.skip })
      continue
    }
    const v = await judge(client, origin, pin, m.proof)
    counts[v.status]++
    ctx.out.info(`${head}: ${summary(v)}`)
    rows.push({ ...row, ...verdictJson(v) })
  }
  const checked = counts.verified + counts.pending + counts.refused
  const verdict: MirrorCommandVerdict =
    counts.refused > 0 || checked === 0 ? false : counts.pending > 0 ? 'pending' : true
  ctx.out.info(
    `${verdict === true ? '✓' : verdict === 'pending' ? '…' : '✗'} through the mirror: ${counts.verified} verified, ${counts.pending} not yet mirrored, ${counts.refused} refused, ${counts.skipped} skipped`,
  )
  ctx.out.result({
    ok: verdict === true,
    status: verdict === true ? 'verified' : verdict === 'pending' ? 'pending' : 'refused',
    ...counts,
    entries: rows,
    trustedDeployment: origin,
    mirror: pin,
  })
  return verdict
}

function clientFor(pin: MirrorPin): PublicClient {
  return createPublicClient({ transport: http(pin.rpcUrl, { retryCount: 0 }) })
}

function judge(
  client: PublicClient,
  origin: TrustedDeployment,
  pin: MirrorPin,
  proof: StatementProof,
): Promise<MirrorVerification> {
  return verifyViaMirror(client, {
    trust: {
      chainId: pin.chainId,
      mirror: pin.mirror,
      sender: pin.sender,
      origin: {
        chainId: origin.chainId,
        keyRegistry: origin.keyRegistry,
        messageAnchor: origin.messageAnchor,
      },
    },
    statement: proof.statement,
    signature: proof.signature,
    receipt: receiptFromJson(proof.receipt),
  })
}

function printHeader(ctx: CliContext, pin: MirrorPin): void {
  ctx.out.info(
    `Through the mirror ${pin.mirror} on eip155:${pin.chainId} (${pin.rpcUrl}); the origin chain is not contacted:`,
  )
}

function mark(status: MirrorVerification['steps'][number]['status']): string {
  return { ok: '✓', failed: '✗', pending: '…', 'not-checked': '–' }[status]
}

function summary(v: MirrorVerification): string {
  if (v.status === 'verified')
    return `✓ verified through the mirror: signed by ${v.sender}, anchored on its chain in block ${v.anchorBlock}`
  if (v.status === 'pending')
    return `… not yet mirrored (pending, not a failure): verify again once the mirror has caught up (step ${v.steps.find((s) => s.status === 'pending')?.name})`
  return `✗ refused through the mirror (step ${v.failedStep}, ${v.code})`
}

function verdictOf(v: MirrorVerification): MirrorCommandVerdict {
  return v.status === 'verified' ? true : v.status === 'pending' ? 'pending' : false
}

function verdictJson(v: MirrorVerification) {
  return {
    ok: v.ok,
    status: v.status,
    sender: v.sender,
    deviceId: v.deviceId,
    referencedBlock: v.referencedBlock?.toString(),
    anchorBlock: v.anchorBlock?.toString(),
    mirrorBlock: v.mirrorBlock.toString(),
    failedStep: v.failedStep,
    code: v.code,
    steps: v.steps,
  }
}
