/** The transcript verifier's report: check names, the check record, and a recorder that orders the report. */
import type { Address } from 'viem'
import { TranscriptVerificationError } from './verificationErrors.js'

/**
 * Names of the transcript checks. Transcript-wide: `format`, `chain`, `contracts`, `device`, `hash-chain`, `export`
 * (the device's signed export covers exactly the entries; a later signed head shows truncation), `statement-set`
 * (also per entry, for a duplicate or out-of-order statement), `log-chain`, `equivocation`, `anchored-prefix`. Per
 * `sent`/`received` entry: `statement`, `sender`, `signature`, `key-valid`, `block`, `body`, `recipients`, `leaf`,
 * `time-bounds` (the statement's verdict from its anchor, protocol §11.1). Per `receipt` entry: `receipt-leaf`,
 * `receipt`. Per `log-anchor` entry: `log-anchor`, `receipt`, `time-bounds`. Per `rejected` entry: `rejected`
 * (informational).
 *
 * @example const name: TranscriptCheckName = 'signature'
 */
export type TranscriptCheckName =
  | 'format'
  | 'chain'
  | 'contracts'
  | 'device'
  | 'hash-chain'
  | 'export'
  | 'statement-set'
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
  | 'recipients'
  | 'log-chain'
  | 'equivocation'
  | 'rejected'
  | 'time-bounds'

/**
 * The verdict of one signed statement of a transcript (protocol §11.1): `verified` (anchored within the anchor window
 * after its referenced block, and before any revocation of its device), `pending` (no receipt in the transcript: shown,
 * never counted as verified) or `refused`.
 *
 * @example const v: StatementVerdict = 'pending'
 */
export type StatementVerdict = 'verified' | 'pending' | 'refused'

/**
 * One check: the entry it is about (`null` for the whole transcript), its verdict and a one-line reason. A
 * `time-bounds` check also carries the statement's `verdict` (a `pending` one passes, but is not a verified statement).
 *
 * @example const c: TranscriptCheck = { entry: 3, check: 'signature', ok: false, detail: '…' }
 */
export type TranscriptCheck = {
  entry: number | null
  check: TranscriptCheckName
  ok: boolean
  detail: string
  verdict?: StatementVerdict | undefined
}

/**
 * The deployment a verifier trusts: the chain and the two contracts every key and anchor is read from. Never taken
 * from the evidence being verified.
 *
 * @example const trusted: TrustedDeployment = { chainId: 31337, keyRegistry, messageAnchor }
 */
export type TrustedDeployment = { chainId: number; keyRegistry: Address; messageAnchor: Address }

/**
 * Result of `verifyTranscript`: `ok` iff every check passed; `error` (when not ok) is a typed error naming the first
 * failing check (`TranscriptFormatError`, `DeploymentMismatchError`, the time-bound refusal of a `time-bounds` check
 * — `AnchorWindowError`, `RevokedBeforeAnchorError` — or `TranscriptVerificationError`).
 *
 * @example const { ok, checks, error }: TranscriptVerification = await verifyTranscript({ transcript, publicClient, deployment })
 */
export type TranscriptVerification = {
  ok: boolean
  checks: TranscriptCheck[]
  error?: (Error & { code: string }) | undefined
}

/**
 * Records one check and returns its verdict, so a caller can stop on a failure. `extra` carries a statement's
 * `verdict`, and the typed `error` of a failing check (the result's `error` when it is the first failure).
 *
 * @example if (!add(null, 'chain', rpcChainId === chainId, `RPC chain ${rpcChainId}`)) return done()
 */
export type AddCheck = (
  entry: number | null,
  check: TranscriptCheckName,
  ok: boolean,
  detail: string,
  extra?: { verdict?: StatementVerdict | undefined; error?: (Error & { code: string }) | undefined },
) => boolean

/**
 * A check recorder. `done()` orders the report: transcript-wide checks, then each entry's checks in index
 * order (in the order they were added), then `anchored-prefix`; checks of different entries may be added in
 * any order (they run concurrently).
 *
 * @example
 * const { add, done } = transcriptReport()
 * add(2, 'leaf', true, 'leaf 0x…')
 * add(null, 'chain', true, 'chain 31337')
 * done().checks.map((c) => c.check) // ['chain', 'leaf']
 */
export function transcriptReport(): {
  add: AddCheck
  done: (error?: Error & { code: string }) => TranscriptVerification
} {
  const checks: TranscriptCheck[] = []
  const errors = new Map<TranscriptCheck, Error & { code: string }>()
  const add: AddCheck = (entry, check, ok, detail, extra) => {
    const c: TranscriptCheck = { entry, check, ok, detail }
    if (extra?.verdict !== undefined) c.verdict = extra.verdict
    if (!ok && extra?.error !== undefined) errors.set(c, extra.error)
    checks.push(c)
    return ok
  }
  const phase = (c: TranscriptCheck) => (c.entry !== null ? 1 : c.check === 'anchored-prefix' ? 2 : 0)
  const done = (error?: Error & { code: string }): TranscriptVerification => {
    const sorted = checks
      .map((c, n) => ({ c, n }))
      .sort((a, b) => phase(a.c) - phase(b.c) || (a.c.entry ?? 0) - (b.c.entry ?? 0) || a.n - b.n)
      .map(({ c }) => c)
    const failed = sorted.filter((c) => !c.ok)
    const first = failed[0]
    if (first === undefined) return { ok: true, checks: sorted }
    return {
      ok: false,
      checks: sorted,
      error:
        error ??
        errors.get(first) ??
        new TranscriptVerificationError({
          check: first.check,
          entry: first.entry,
          failed: failed.length,
          detail: first.detail,
        }),
    }
  }
  return { add, done }
}

/**
 * The first ten characters of a hex value and an ellipsis, for report details.
 *
 * @example short('0x1234567890abcdef') // '0x12345678…'
 */
export function short(value: string): string {
  return `${value.slice(0, 10)}…`
}
