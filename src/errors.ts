/** Sealpost's error model: one `BaseError` (after viem's), five categories (after ts-mls), stable wire codes. */

export type BaseErrorParameters = {
  /** Extra lines shown under the short message (never key material, plaintext or whole frames). */
  metaMessages?: string[] | undefined
  /** Longer explanation; defaults to the cause's message. */
  details?: string | undefined
  cause?: unknown
  /** Literal class name, set by every subclass. */
  name?: string | undefined
  /** Stable machine-readable code, the only thing that travels over the wire. */
  code?: string | undefined
}

/**
 * Root of every error Sealpost throws on purpose.
 *
 * @example
 * try { decodeEnvelope(bytes) } catch (e) { if (e instanceof BaseError) console.error(e.code, e.shortMessage) }
 */
export class BaseError extends Error {
  readonly shortMessage: string
  readonly details: string
  readonly metaMessages: string[]
  readonly code: string
  override name = 'BaseError'

  constructor(shortMessage: string, parameters: BaseErrorParameters = {}) {
    const details =
      parameters.details ??
      (parameters.cause instanceof BaseError
        ? parameters.cause.details
        : parameters.cause instanceof Error
          ? parameters.cause.message
          : '')
    const metaMessages = parameters.metaMessages ?? []
    const message = [
      shortMessage,
      ...(metaMessages.length > 0 ? ['', ...metaMessages] : []),
      ...(details && details !== shortMessage ? ['', `Details: ${details}`] : []),
    ].join('\n')
    super(message, parameters.cause === undefined ? undefined : { cause: parameters.cause })
    this.shortMessage = shortMessage
    this.details = details
    this.metaMessages = metaMessages
    this.code = parameters.code ?? 'SEALPOST_ERROR'
    if (parameters.name) this.name = parameters.name
  }

  /**
   * Walks the `cause` chain and returns the deepest error, or the first one for which `fn` is true.
   *
   * @example err.walk((e) => e instanceof KeyRevokedError)
   */
  walk(fn?: (err: unknown) => boolean): unknown {
    return walk(this, fn)
  }
}

function walk(err: unknown, fn?: (err: unknown) => boolean): unknown {
  if (fn?.(err)) return err
  if (err && typeof err === 'object' && 'cause' in err && err.cause !== undefined) return walk(err.cause, fn)
  return fn ? null : err
}

/** Bytes that do not parse: truncated, oversized, trailing data, unknown version or kind. */
export class CodecError extends BaseError {
  constructor(shortMessage: string, parameters: BaseErrorParameters = {}) {
    super(shortMessage, { name: 'CodecError', ...parameters })
  }
}

/** Well-formed input that breaks a rule: a key of the wrong length, a field out of range. */
export class ValidationError extends BaseError {
  constructor(shortMessage: string, parameters: BaseErrorParameters = {}) {
    super(shortMessage, { name: 'ValidationError', ...parameters })
  }
}

/** A cryptographic or on-chain check failed: a signature, a revoked key, a replay, a forged receipt. */
export class VerificationError extends BaseError {
  constructor(shortMessage: string, parameters: BaseErrorParameters = {}) {
    super(shortMessage, { name: 'VerificationError', ...parameters })
  }
}

/** The caller did something the API does not allow: a wrong passphrase, a missing deployment, a bad flag. */
export class UsageError extends BaseError {
  constructor(shortMessage: string, parameters: BaseErrorParameters = {}) {
    super(shortMessage, { name: 'UsageError', ...parameters })
  }
}

/** Something outside the caller's control failed: the RPC is unreachable, a process died. */
export class InternalError extends BaseError {
  constructor(shortMessage: string, parameters: BaseErrorParameters = {}) {
    super(shortMessage, { name: 'InternalError', ...parameters })
  }
}

/**
 * Formats an error for the CLI and logs as one line, `Name [CODE]: short message (meta; meta)`, never a whole
 * frame or a secret; `debug` appends the stack on the following lines.
 *
 * @example console.error(formatError(err)) // 'WrongPassphraseError [SEALPOST_WRONG_PASSPHRASE]: …'
 */
export function formatError(err: unknown, { debug = false }: { debug?: boolean } = {}): string {
  let line: string
  if (err instanceof BaseError) {
    const meta = err.metaMessages.map((m) => m.trim()).filter((m) => m.length > 0)
    line = `${err.name} [${err.code}]: ${err.shortMessage}${meta.length > 0 ? ` (${meta.join('; ')})` : ''}`
  } else if (err instanceof Error) line = `${err.name}: ${err.message.split('\n')[0]}`
  else line = String(err)
  return debug && err instanceof Error && err.stack ? `${line}\n${err.stack}` : line
}
