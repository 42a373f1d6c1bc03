/** The demo's report: each step's name, verdict and detail, printed as it happens and returned as a summary. */
import { BaseError } from '../errors.js'

/**
 * One step of the demo and its outcome.
 *
 * @example const failed = report.summary().steps.filter((s: DemoStep) => !s.ok)
 */
export type DemoStep = { name: string; ok: boolean; detail: string }

/**
 * The demo's summary (printed with --json).
 *
 * @example const { ok, steps }: DemoSummary = report.summary()
 */
export type DemoSummary = { ok: boolean; steps: DemoStep[] }

/**
 * Where the report prints: a line of output, and a progress step for long waits.
 *
 * @example createDemoReport({ info: console.log, step: () => () => undefined })
 */
export type DemoOutput = {
  info(line: string): void
  step(label: string): (result?: string) => void
}

/**
 * The running report of one demo run.
 *
 * @example report.record('register Alice', true, alice.deviceId)
 */
export type DemoReport = {
  /** Records a step and prints it (✓ or ✗, the detail, then indented lines). */
  record(name: string, ok: boolean, detail: string, lines?: string[]): void
  /** A progress step for a long wait. */
  progress(label: string): (result?: string) => void
  /** The steps so far, and whether all passed (false when none ran). */
  summary(): DemoSummary
}

/**
 * Creates the report of a demo run, printing to `out`.
 *
 * @example const report = createDemoReport(ctx.out); report.record('start chain', true, rpc)
 */
export function createDemoReport(out: DemoOutput): DemoReport {
  const steps: DemoStep[] = []
  return {
    record(name, ok, detail, lines = []) {
      steps.push({ name, ok, detail })
      out.info(`${ok ? '✓' : '✗'} ${name}: ${detail}`)
      for (const line of lines) out.info(`    ${line}`)
    },
    progress: (label) => out.step(label),
    summary: () => ({ ok: steps.length > 0 && steps.every((s) => s.ok), steps: [...steps] }),
  }
}

/**
 * An error class a demo step expects.
 *
 * @example const expected: ExpectedError = ReplayError
 */
export type ExpectedError = abstract new (...args: never[]) => BaseError

/**
 * Runs `attempt`, which must fail with `expected` (or one of them), and records the outcome: the step passes only on
 * such an error.
 *
 * @example await expectRejection(report, 'replayed envelope', () => bob.receive(old), ReplayError)
 */
export async function expectRejection(
  report: DemoReport,
  name: string,
  attempt: () => Promise<unknown>,
  expected: ExpectedError | readonly ExpectedError[],
): Promise<void> {
  const classes: readonly ExpectedError[] = Array.isArray(expected) ? expected : [expected as ExpectedError]
  try {
    await attempt()
    report.record(name, false, `accepted, but ${classes.map((c) => c.name).join(' or ')} was expected`)
  } catch (err) {
    const ok = classes.some((c) => err instanceof c)
    const e = err as BaseError
    report.record(
      name,
      ok,
      ok ? `rejected with ${e.name} [${e.code}]` : `unexpected ${e?.name}: ${e?.message}`,
      [e.shortMessage ?? '', ...(e.metaMessages ?? [])],
    )
  }
}

/**
 * Records an error that ended the run early as a failed step.
 *
 * @example catch (err) { recordFailure(report, err) }
 */
export function recordFailure(report: DemoReport, err: unknown): void {
  report.record(
    'unexpected failure',
    false,
    err instanceof BaseError ? `${err.name} [${err.code}]: ${err.shortMessage}` : String(err),
  )
}
