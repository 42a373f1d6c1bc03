/** Errors of the command line itself: a bad argument, a wait that ran out of time. */
import { UsageError } from '../errors.js'

/**
 * An unknown command, or a missing or malformed argument.
 *
 * @example throw new ArgumentError('--port must be a non-negative integer.')
 */
export class ArgumentError extends UsageError {
  override name = 'ArgumentError' as const
  constructor(
    shortMessage: string,
    { metaMessages, cause }: { metaMessages?: string[]; cause?: unknown } = {},
  ) {
    super(shortMessage, {
      code: 'SEALPOST_BAD_ARGUMENT',
      ...(metaMessages ? { metaMessages } : {}),
      ...(cause !== undefined ? { cause } : {}),
    })
  }
}

/**
 * `sealpost send --wait` gave up before the message reached the state asked for.
 *
 * @example throw new TimeoutError({ what: 'The message did not become anchored in time.', last: 'accepted' })
 */
export class TimeoutError extends UsageError {
  override name = 'TimeoutError' as const
  constructor({ what, last, cause }: { what: string; last?: string | undefined; cause?: unknown }) {
    super(what, {
      code: 'SEALPOST_TIMEOUT',
      metaMessages: [`Last state: ${last ?? 'unknown'}`],
      ...(cause !== undefined ? { cause } : {}),
    })
  }
}
