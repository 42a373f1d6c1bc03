/** `sealpost verify <transcript|receipt|proof> [--on-chain | --mirror FILE]`: checks a file against a pinned deployment; non-zero exit unless verified. */
import { readFileSync, statSync } from 'node:fs'
import { type Address, isHex } from 'viem'
import { mapChainError } from '../chain/errors.js'
import { readDeploymentFile } from '../client/deployment.js'
import {
  DeploymentRequiredError,
  EvidenceFileError,
  EvidenceKindError,
  TranscriptFormatError,
} from '../client/errors.js'
import type { StatementProof } from '../client/statementProof.js'
import { parseStrictJson } from '../client/strictJson.js'
import { formatVerification, parseTranscript, verifyTranscript } from '../client/transcript.js'
import type { TrustedDeployment } from '../client/transcriptReport.js'
import { verifyReceipt } from '../client/verifyReceipt.js'
import { receiptFromJson, receiptToJson } from '../protocol/receipt.js'
import { parseAddressArg } from './address.js'
import { verifySpec } from './commands.js'
import { type CliContext, publicFor } from './context.js'
import { ArgumentError } from './errors.js'
import { parseCommandArgs } from './options.js'
import {
  type MirrorCommandVerdict,
  readMirrorPin,
  verifyProofViaMirror,
  verifyTranscriptViaMirror,
} from './verifyMirror.js'
import { verifyProofOnChain, verifyTranscriptOnChain } from './verifyOnChain.js'

const USAGE =
  'Usage: sealpost verify <transcript.json|receipt.json|proof.json> [--registry ADDR --anchor ADDR [--chain-id N]] [--on-chain [--verifier ADDR] | --mirror FILE]'
/** Evidence files larger than this are refused before reading (a year of heavy use is a few MB). */
const MAX_FILE_BYTES = 64 * 1024 * 1024

/**
 * Verifies a transcript (log export) or a single receipt against the pinned deployment (never the contracts the file
 * names) and prints every check. With --on-chain, a statement proof (`log proof`) or every anchored message of a
 * transcript is also judged by the StatementVerifier (`verifyOnChain.ts`). With --mirror FILE, a statement proof or
 * every anchored message of a transcript is checked from chain B alone through the pinned SealpostMirror
 * (`verifyMirror.ts`; the origin chain is never contacted), and `'pending'` is returned while something is not yet
 * mirrored. Returns whether all passed. A file that is missing, not UTF-8, not strict JSON, or neither a transcript
 * nor a receipt (nor a proof) throws one typed error.
 *
 * @example const ok = await verifyCommand(ctx, ['alice.transcript.json'])
 */
export async function verifyCommand(ctx: CliContext, argv: string[]): Promise<MirrorCommandVerdict> {
  const { positionals, values } = parseCommandArgs(verifySpec, argv)
  const [file] = positionals
  if (!file || positionals.length > 1)
    throw new ArgumentError(file ? 'verify takes one file.' : 'Name the file to verify.', {
      metaMessages: [USAGE],
    })
  const publicClient = publicFor(ctx.rpc)
  if (values.mirror !== undefined && values['on-chain'])
    throw new ArgumentError('--mirror and --on-chain do not go together.', { metaMessages: [USAGE] })
  const rpcChainId =
    values.mirror === undefined
      ? () =>
          publicClient.getChainId().catch((err) => {
            throw mapChainError(err)
          })
      : () => {
          throw new ArgumentError('With --mirror, --registry and --anchor need --chain-id.', {
            metaMessages: [
              'The origin chain is never contacted through a mirror, so its id is not read from --rpc.',
            ],
          })
        }
  const { deployment, source } = await trustedDeployment(ctx, values, rpcChainId)
  const pin = values.mirror === undefined ? undefined : readMirrorPin(values.mirror)
  const json = readEvidence(file)

  ctx.out.info(
    `Trusted deployment: chain ${deployment.chainId}, KeyRegistry ${deployment.keyRegistry}, MessageAnchor ${deployment.messageAnchor} (from ${source})`,
  )
  const trusted = { ...deployment, source }
  if (pin) {
    if (isObject(json) && 'entries' in json)
      return verifyTranscriptViaMirror(ctx, trusted, pin, parseTranscript(json).entries)
    return verifyProofViaMirror(ctx, trusted, pin, proofOf(file, json, '--mirror'))
  }
  // Asked before any check, so a missing verifier fails at once.
  const onChain = values['on-chain'] ? { ...trusted, verifier: statementVerifierOf(ctx, values) } : undefined
  if (isObject(json) && 'entries' in json) {
    const result = await verifyTranscript({ transcript: json, publicClient, deployment })
    // A malformed transcript is one typed error, like any other malformed file.
    if (result.error instanceof TranscriptFormatError) throw result.error
    for (const line of formatVerification(result)) ctx.out.info(line)
    const byContract =
      onChain && (await verifyTranscriptOnChain(ctx, publicClient, onChain, parseTranscript(json).entries))
    const ok = result.ok && (byContract?.ok ?? true)
    ctx.out.result({
      ...result,
      ok,
      error: errorJson(result.error),
      ...(byContract && { onChain: byContract.json }),
      trustedDeployment: trusted,
    })
    return ok
  }
  if (onChain) return verifyProofOnChain(ctx, publicClient, onChain, proofOf(file, json, '--on-chain'))
  if (!isObject(json) || !('receipt' in json || 'root' in json))
    throw new EvidenceKindError({ path: file, got: describe(json) })
  const receipt = receiptFromJson('receipt' in json ? json.receipt : json)
  const result = await verifyReceipt(publicClient, {
    receipt,
    messageAnchor: deployment.messageAnchor,
    chainId: deployment.chainId,
  })
  for (const step of result.steps) ctx.out.info(`${step.ok ? '✓' : '✗'} ${step.name}: ${step.detail}`)
  ctx.out.info(
    result.ok
      ? `✓ receipt verified, ${result.confirmations} confirmations`
      : `✗ receipt does not verify (step ${result.error?.step ?? 'unknown'})`,
  )
  ctx.out.result({
    ok: result.ok,
    confirmations: result.confirmations,
    steps: result.steps,
    error: errorJson(result.error),
    trustedDeployment: trusted,
  })
  return result.ok
}

/** A statement proof file's fields (statement, signature, receipt), or the typed error `flag` explains. */
function proofOf(file: string, json: unknown, flag: string): StatementProof {
  if (!isObject(json) || !isHex(json.statement) || !isHex(json.signature) || !isObject(json.receipt))
    throw new EvidenceKindError({
      path: file,
      got: `${describe(json)} (${flag} needs a transcript or a statement proof: statement, signature, receipt)`,
    })
  return {
    statement: json.statement,
    signature: json.signature,
    receipt: receiptToJson(receiptFromJson(json.receipt)),
  }
}

/** The StatementVerifier to ask: --verifier, else the pinned deployment's. */
function statementVerifierOf(ctx: CliContext, values: { verifier?: string | undefined }): Address {
  if (values.verifier !== undefined) return parseAddressArg(values.verifier, '--verifier')
  const recorded = exists(ctx.deploymentFile)
    ? readDeploymentFile(ctx.deploymentFile).statementVerifier
    : undefined
  if (recorded === undefined)
    throw new ArgumentError('--on-chain needs a StatementVerifier: pass --verifier ADDR.', {
      metaMessages: [`${ctx.deploymentFile} records none (a deployment made before the verifier existed?)`],
    })
  return recorded
}

/**
 * The deployment to trust: --registry/--anchor (chain: --chain-id, else the RPC's), else the deployment file
 * (--deployment, SEALPOST_DEPLOYMENT, `<home>/deployment.json`). Never the evidence's own addresses.
 */
async function trustedDeployment(
  ctx: CliContext,
  values: { registry?: string | undefined; anchor?: string | undefined; 'chain-id'?: string | undefined },
  rpcChainId: () => Promise<number>,
): Promise<{ deployment: TrustedDeployment; source: string }> {
  if (values.registry !== undefined || values.anchor !== undefined) {
    const keyRegistry = addressArg(values.registry, '--registry')
    const messageAnchor = addressArg(values.anchor, '--anchor')
    const chainArg = values['chain-id']
    if (chainArg !== undefined && !/^[1-9][0-9]{0,15}$/.test(chainArg))
      throw new ArgumentError('--chain-id must be a positive integer.')
    const chainId = chainArg === undefined ? await rpcChainId() : Number(chainArg)
    return { deployment: { chainId, keyRegistry, messageAnchor }, source: '--registry/--anchor' }
  }
  if (values['chain-id'] !== undefined)
    throw new ArgumentError('--chain-id goes with --registry and --anchor.')
  if (!ctx.deploymentNamed && !exists(ctx.deploymentFile))
    throw new DeploymentRequiredError({ looked: [ctx.deploymentFile] })
  const { chainId, keyRegistry, messageAnchor } = readDeploymentFile(ctx.deploymentFile)
  return { deployment: { chainId, keyRegistry, messageAnchor }, source: ctx.deploymentFile }
}

function addressArg(value: string | undefined, flag: string): Address {
  if (value === undefined) throw new ArgumentError('--registry and --anchor go together.')
  return parseAddressArg(value, flag)
}

/** Reads the file as UTF-8 (refusing anything else) and parses it as strict JSON. */
function readEvidence(path: string): unknown {
  let size: number
  try {
    const stat = statSync(path)
    if (stat.isDirectory()) throw new EvidenceFileError({ path, reason: 'is a directory' })
    size = stat.size
  } catch (err) {
    if (err instanceof EvidenceFileError) throw err
    const code = (err as { code?: string }).code
    throw new EvidenceFileError({
      path,
      reason: code === 'ENOENT' ? 'no such file' : (code ?? 'cannot stat'),
    })
  }
  if (size > MAX_FILE_BYTES)
    throw new EvidenceFileError({ path, reason: `larger than ${MAX_FILE_BYTES} bytes` })
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (err) {
    throw new EvidenceFileError({
      path,
      reason: `cannot read (${(err as { code?: string }).code ?? 'error'})`,
    })
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    throw new EvidenceFileError({ path, reason: 'not UTF-8 text (a binary file?)' })
  }
  return parseStrictJson(text)
}

function exists(path: string): boolean {
  try {
    statSync(path)
    return true
  } catch {
    return false
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (typeof value === 'object') {
    const keys = Object.keys(value as object)
    return keys.length === 0 ? 'an empty object' : `an object with keys ${keys.slice(0, 6).join(', ')}`
  }
  return `a ${typeof value}`
}

function errorJson(error: (Error & { code: string }) | undefined) {
  return error === undefined
    ? undefined
    : { name: error.name, code: error.code, message: error.message.split('\n')[0] }
}
