/** `sealpost verify --on-chain`: a statement proof, or every anchored message of a transcript, judged off chain and by StatementVerifier. */
import type { Address, Client } from 'viem'
import { getBlockNumber } from 'viem/actions'
import { mapChainError } from '../chain/errors.js'
import { type OnChainVerdict, verifyOnChain } from '../chain/statementVerifier.js'
import { loggedStatements, type StatementProof } from '../client/statementProof.js'
import type { TrustedDeployment } from '../client/transcriptReport.js'
import { type AuthorshipReport, verifyAuthorship } from '../client/verifyAuthorship.js'
import { toCaip10 } from '../protocol/caip10.js'
import { receiptFromJson } from '../protocol/receipt.js'
import type { LogEntry } from '../store/auditLog.js'
import type { CliContext } from './context.js'

/**
 * The deployment a `--on-chain` check trusts: the pinned one, where it came from, and its StatementVerifier.
 *
 * @example const trusted: OnChainTrust = { chainId, keyRegistry, messageAnchor, source: 'deployment.json', verifier }
 */
export type OnChainTrust = TrustedDeployment & { source: string; verifier: Address }

/** How many message entries of a transcript are judged at once (each costs a few RPC calls per verifier). */
const PARALLEL_ENTRIES = 4

/** Both verdicts on one statement proof. */
type ProofVerdicts = {
  offChain: AuthorshipReport
  /** Undefined when not asked: a v1 receipt names no submitter. */
  onChain: OnChainVerdict | undefined
  ok: boolean
  /** Whether the two verdicts are the same (accept, or refuse at the same step). */
  agree: boolean
  /** Whether a disagreement means something: the off-chain `receipt` and `clock` steps have no on-chain twin. */
  comparable: boolean
  /**
   * Set when the contract refused `BlockUnavailable` for the chain's latest block (or later): it reads the block after
   * the referenced one only once a later block exists (protocol §15), so it cannot judge the statement yet.
   */
  tooRecent: bigint | undefined
}

/**
 * A statement proof checked twice, off chain (`verifyAuthorship`) and by the StatementVerifier (one eth_call); prints
 * every off-chain step and the contract's verdict, and returns whether both accept.
 *
 * @example const ok = await verifyProofOnChain(ctx, publicClient, trusted, { statement, signature, receipt })
 */
export async function verifyProofOnChain(
  ctx: CliContext,
  publicClient: Client,
  trusted: OnChainTrust,
  proof: StatementProof,
): Promise<boolean> {
  const v = await judgeProof(publicClient, trusted, proof)
  ctx.out.info('Off chain:')
  for (const step of v.offChain.steps) ctx.out.info(`  ${step.ok ? '✓' : '✗'} ${step.name}: ${step.detail}`)
  ctx.out.info(`On chain (StatementVerifier ${trusted.verifier}):`)
  ctx.out.info(`  ${onChainLine(v.onChain, trusted.chainId)}`)
  ctx.out.info(offChainSummary(v.offChain))
  ctx.out.info(onChainSummary(v.onChain))
  if (v.tooRecent !== undefined) ctx.out.info(`! ${tooRecentReason(v.tooRecent)}`)
  if (v.onChain && v.comparable && !v.agree) ctx.out.info('! the two verdicts differ: report this')
  ctx.out.result({ ...verdictsJson(v), trustedDeployment: trusted })
  return v.ok
}

/**
 * Every message entry of a transcript that carries a v2 statement and a v2 receipt, judged by both verifiers (the
 * others are listed as skipped, with the reason, as is one whose referenced block's successor is the latest block:
 * the contract cannot read it yet); prints one block per entry and a summary. Passes only if both
 * verifiers accept every entry checked and at least one was checked. Returns the result and its JSON.
 *
 * @example const { ok, json } = await verifyTranscriptOnChain(ctx, publicClient, trusted, transcript.entries)
 */
export async function verifyTranscriptOnChain(
  ctx: CliContext,
  publicClient: Client,
  trusted: OnChainTrust,
  entries: readonly LogEntry[],
): Promise<{ ok: boolean; json: Record<string, unknown> }> {
  const logged = loggedStatements(entries)
  const judged = await mapLimit(logged, PARALLEL_ENTRIES, (m) =>
    m.proof && m.skip === undefined ? judgeProof(publicClient, trusted, m.proof) : Promise.resolve(undefined),
  )
  ctx.out.info(
    `On chain (StatementVerifier ${trusted.verifier}): ${logged.length} message entr${logged.length === 1 ? 'y' : 'ies'}`,
  )
  const rows: Record<string, unknown>[] = []
  let checked = 0
  let passed = 0
  for (const [i, m] of logged.entries()) {
    const v = judged[i]
    const id = m.messageId ? `${m.messageId.slice(0, 10)}…` : '(no id)'
    const head = `  entry ${m.entry} ${m.kind} ${id}`
    const row = { entry: m.entry, kind: m.kind, messageId: m.messageId }
    const skip =
      v === undefined ? m.skip : v.tooRecent !== undefined ? tooRecentReason(v.tooRecent) : undefined
    if (v === undefined || skip !== undefined) {
      ctx.out.info(`${head}: – skipped: ${skip}`)
      rows.push({ ...row, skipped: skip })
      continue
    }
    checked++
    if (v.ok) passed++
    ctx.out.info(`${head}:`)
    ctx.out.info(`    ${offChainSummary(v.offChain)}`)
    ctx.out.info(`    ${onChainLine(v.onChain, trusted.chainId, 'on chain: ')}`)
    if (v.onChain && v.comparable && !v.agree) ctx.out.info('    ! the two verdicts differ: report this')
    rows.push({ ...row, ...verdictsJson(v) })
  }
  const skipped = logged.length - checked
  const ok = checked > 0 && passed === checked
  ctx.out.info(
    checked === 0
      ? `✗ on chain: no message entry the contract can judge (${skipped} skipped)`
      : `${ok ? '✓' : '✗'} on chain: ${passed} of ${checked} checked accepted by both verifiers, ${skipped} skipped`,
  )
  return { ok, json: { ok, verifier: trusted.verifier, checked, passed, skipped, entries: rows } }
}

async function judgeProof(
  publicClient: Client,
  trusted: OnChainTrust,
  proof: StatementProof,
): Promise<ProofVerdicts> {
  const receipt = receiptFromJson(proof.receipt)
  const { submitter, root, index, treeSize, path } = receipt
  const [offChain, onChain] = await Promise.all([
    verifyAuthorship(publicClient, {
      deployment: trusted,
      statement: proof.statement,
      signature: proof.signature,
      receipt,
    }),
    submitter === undefined
      ? undefined
      : verifyOnChain(publicClient, {
          verifier: trusted.verifier,
          registry: trusted.keyRegistry,
          statement: proof.statement,
          signature: proof.signature,
          receipt: { submitter, root, index, treeSize, path },
        }),
  ])
  const onChainStep = onChain === undefined || onChain.ok ? undefined : onChain.step
  const tooRecent = await unavailableRecentBlock(publicClient, onChain)
  return {
    offChain,
    onChain,
    ok: offChain.ok && onChain?.ok === true,
    agree: offChain.ok === onChain?.ok && (offChain.ok || offChain.failedStep === onChainStep),
    comparable:
      tooRecent === undefined && offChain.failedStep !== 'receipt' && offChain.failedStep !== 'clock',
    tooRecent,
  }
}

// The block a `BlockUnavailable` refusal names, if it is the latest block or later (read after the call).
async function unavailableRecentBlock(
  publicClient: Client,
  v: OnChainVerdict | undefined,
): Promise<bigint | undefined> {
  if (v === undefined || v.ok || v.errorName !== 'BlockUnavailable') return undefined
  const block = BigInt(v.args[0] as bigint)
  const latest = await getBlockNumber(publicClient, { cacheTime: 0 }).catch((err) => {
    throw mapChainError(err)
  })
  return block >= latest ? block : undefined
}

function tooRecentReason(block: bigint): string {
  return `the contract cannot read block ${block} yet (the chain's latest): verify again once a later block exists`
}

function verdictsJson({ offChain, onChain, ok, agree }: ProofVerdicts) {
  return {
    ok,
    offChain: {
      ok: offChain.ok,
      steps: offChain.steps,
      failedStep: offChain.failedStep,
      code: offChain.code,
    },
    onChain:
      onChain === undefined
        ? { ok: false, reason: 'a v1 receipt names no submitter' }
        : onChain.ok
          ? { ok: true, verdict: onChain.verdict }
          : {
              ok: false,
              step: onChain.step,
              error: onChain.errorName,
              code: onChain.code,
              message: onChain.message,
            },
    agree,
  }
}

function onChainLine(v: OnChainVerdict | undefined, chainId: number, label = ''): string {
  if (v === undefined) return `✗ ${label}not asked: a v1 receipt names no submitter, which the contract needs`
  if (!v.ok) return `✗ ${label}${v.step}: ${v.message} [${v.code}]`
  const d = v.verdict
  // The sender's CAIP-10 id too: the account is one of the pinned deployment's chain.
  return `✓ ${label}signed by ${d.account} (${toCaip10({ chainId, address: d.account })}, device ${d.deviceId.slice(0, 10)}…) after block ${d.referencedBlock}, anchored in block ${d.anchorBlock} at ${new Date(Number(d.anchorTimestamp) * 1000).toISOString()}`
}

function offChainSummary(r: AuthorshipReport): string {
  return r.ok
    ? '✓ off chain: verified'
    : `✗ off chain: refused (step ${r.failedStep}${r.code ? `, ${r.code}` : ''})`
}

function onChainSummary(v: OnChainVerdict | undefined): string {
  if (v?.ok) return '✓ on chain: verified'
  return `✗ on chain: refused${v === undefined ? '' : ` (step ${v.step})`}`
}

/** `f` over `items` with at most `limit` in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await f(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}
