/** What to do next, in the CLI's own terms, for errors raised below the CLI (which knows no flags). */
import { BaseError } from '../errors.js'

const START = 'start a local stack with `sealpost up`'

/** Hint lines by error code; they replace the error's own meta lines when printed by the CLI. */
const HINTS: Readonly<Record<string, (err: BaseError) => string[]>> = {
  SEALPOST_MISSING_PASSPHRASE: () => [
    'Set SEALPOST_PASSPHRASE, or name another variable holding it with --passphrase-env VAR',
  ],
  SEALPOST_RPC_UNREACHABLE: (err) => [
    ...err.metaMessages,
    `Is the chain running? ${START}, or point --rpc (env SEALPOST_RPC) at a running node`,
  ],
  SEALPOST_RELAY_UNREACHABLE: (err) => [
    ...err.metaMessages,
    `Is the relay running? ${START}, or point --relay (env SEALPOST_RELAY) at a running relay`,
  ],
}

/**
 * The meta lines the CLI prints for `err`: a CLI hint where one exists, else the error's own.
 *
 * @example cliMetaMessages(new MissingPassphraseError()) // ['Set SEALPOST_PASSPHRASE, or …']
 */
export function cliMetaMessages(err: BaseError): string[] {
  return HINTS[err.code]?.(err) ?? err.metaMessages
}

/**
 * A copy of `err` for printing whose meta lines are the CLI's hints (name, code, message and cause unchanged).
 *
 * @example printError(withCliHints(err), { json, debug })
 */
export function withCliHints(err: unknown): unknown {
  if (!(err instanceof BaseError) || HINTS[err.code] === undefined) return err
  const meta = cliMetaMessages(err)
  return Object.assign(Object.create(Object.getPrototypeOf(err)), err, { metaMessages: meta })
}
