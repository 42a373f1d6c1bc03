/** CLI output: human lines and progress on stderr, one JSON object on stdout with --json, errors in one line. */
import { BaseError, formatError } from '../errors.js'
import { withCliHints } from './hints.js'

/**
 * How a command talks to the terminal.
 *
 * @example ctx.out.info('account  0x…'); ctx.out.result({ ok: true })
 */
export type Output = {
  json: boolean
  debug: boolean
  /** A line of human output (stdout unless --json, then stderr). */
  info(line: string): void
  /** A progress step for long waits (stderr; a spinner on a TTY). Returns a function that ends the step. */
  step(label: string): (result?: string) => void
  /** Prints `value` as JSON on stdout (with --json) or nothing. */
  result(value: unknown): void
}

const isTty = process.stderr.isTTY === true

/**
 * Creates the output helper for one CLI run.
 *
 * @example const out = createOutput({ json: false, debug: false }); const done = out.step('Deploying'); done('ok')
 */
export function createOutput({ json, debug }: { json: boolean; debug: boolean }): Output {
  const write = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`)
  return {
    json,
    debug,
    info: write,
    step(label) {
      const started = Date.now()
      if (!isTty) {
        process.stderr.write(`… ${label}\n`)
        return (result) =>
          process.stderr.write(`✓ ${label}${result ? `: ${result}` : ''} (${Date.now() - started} ms)\n`)
      }
      const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
      let i = 0
      const timer = setInterval(() => {
        process.stderr.write(
          `\r${frames[i++ % frames.length]} ${label} ${((Date.now() - started) / 1000).toFixed(1)}s`,
        )
      }, 80)
      return (result) => {
        clearInterval(timer)
        process.stderr.write(
          `\r\x1b[2K✓ ${label}${result ? `: ${result}` : ''} (${Date.now() - started} ms)\n`,
        )
      }
    },
    result(value) {
      if (json) process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`)
    },
  }
}

/**
 * JSON.stringify replacer that prints bigints as decimal strings and bytes as hex.
 *
 * @example JSON.stringify({ gas: 21000n }, jsonReplacer) // '{"gas":"21000"}'
 */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return `0x${Buffer.from(value).toString('hex')}`
  if (value instanceof BaseError) return { name: value.name, code: value.code, message: value.shortMessage }
  return value
}

/**
 * Prints an error the CLI way: one line (`Name [CODE]: message (meta; lines)`), with the CLI's hint where the error
 * comes from a layer that knows no flags; a stack only with --debug.
 *
 * @example printError(err, { json: false, debug: false }) // 'ArgumentError [SEALPOST_BAD_ARGUMENT]: …'
 */
export function printError(thrown: unknown, { json, debug }: { json: boolean; debug: boolean }): void {
  const err = withCliHints(thrown)
  if (json) {
    const e = err instanceof BaseError ? err : undefined
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: { name: e?.name ?? 'Error', code: e?.code ?? 'SEALPOST_UNEXPECTED', message: e?.shortMessage ?? String((err as Error)?.message ?? err) } })}\n`,
    )
  }
  process.stderr.write(`${formatError(err, { debug })}\n`)
}
