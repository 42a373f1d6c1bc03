/** The transcript verifier's report: check names, the check record, and a recorder that orders the report. */

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

/**
 * Records one check and returns its verdict, so a caller can stop on a failure.
 *
 * @example if (!add(null, 'chain', rpcChainId === chainId, `RPC chain ${rpcChainId}`)) return done()
 */
export type AddCheck = (
  entry: number | null,
  check: TranscriptCheckName,
  ok: boolean,
  detail: string,
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
export function transcriptReport(): { add: AddCheck; done: () => TranscriptVerification } {
  const checks: TranscriptCheck[] = []
  const add: AddCheck = (entry, check, ok, detail) => {
    checks.push({ entry, check, ok, detail })
    return ok
  }
  const phase = (c: TranscriptCheck) => (c.entry !== null ? 1 : c.check === 'anchored-prefix' ? 2 : 0)
  const done = () => ({
    ok: checks.every((c) => c.ok),
    checks: checks
      .map((c, n) => ({ c, n }))
      .sort((a, b) => phase(a.c) - phase(b.c) || (a.c.entry ?? 0) - (b.c.entry ?? 0) || a.n - b.n)
      .map(({ c }) => c),
  })
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
