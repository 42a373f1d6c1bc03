/** Typed errors of the relay server itself (configuration and start-up); wire errors travel as RELAY_* codes. */
import { InternalError, UsageError } from '../errors.js'

/**
 * A `RelayServer` option is unusable: a limit that is not a positive number, or a registry watcher that has
 * already synced (the relay must see every DeviceAdded event to protect inbox topics).
 *
 * @example new RelayOptionsError({ option: 'limits.ratePerSecond', reason: 'must be a positive number' })
 */
export class RelayOptionsError extends UsageError {
  override name = 'RelayOptionsError' as const
  constructor({ option, reason }: { option: string; reason: string }) {
    super('Relay server option is invalid.', {
      metaMessages: [`Option: ${option}`, `Reason: ${reason}`],
      code: 'SEALPOST_RELAY_BAD_OPTIONS',
    })
  }
}

/**
 * The relay could not listen (port in use, bad host) or its first registry sync failed.
 *
 * @example new RelayStartError({ cause: err })
 */
export class RelayStartError extends InternalError {
  override name = 'RelayStartError' as const
  constructor({ cause }: { cause: unknown }) {
    super('Relay server failed to start.', { cause, code: 'SEALPOST_RELAY_START_FAILED' })
  }
}

/**
 * Something failed while the relay was serving (a store write, the anchorer); the client got RELAY_INTERNAL.
 * Emitted as the server's 'error' event when someone listens.
 *
 * @example server.on('error', (err: RelayInternalError) => log(formatError(err)))
 */
export class RelayInternalError extends InternalError {
  override name = 'RelayInternalError' as const
  constructor({ operation, cause }: { operation: string; cause: unknown }) {
    super('Relay server operation failed.', {
      metaMessages: [`Operation: ${operation}`],
      cause,
      code: 'SEALPOST_RELAY_INTERNAL',
    })
  }
}

/**
 * The relay's replicated store (the NATS JetStream cluster) cannot be reached, so it stores nothing: clients get
 * `RELAY_UNAVAILABLE` (transient; their outbox keeps the message and retries) and `publishSystem` rejects with this.
 *
 * @example new RelayUnavailableError({ cause: err })
 */
export class RelayUnavailableError extends InternalError {
  override name = 'RelayUnavailableError' as const
  constructor({ cause }: { cause?: unknown } = {}) {
    super('Relay cannot store anything now: its replicated store is unavailable; retry later.', {
      cause,
      code: 'SEALPOST_RELAY_UNAVAILABLE',
    })
  }
}

/**
 * `publishSystem` was called with an envelope that does not encode, or after `stop()`.
 *
 * @example new RelayPublishError({ reason: 'server stopped' })
 */
export class RelayPublishError extends UsageError {
  override name = 'RelayPublishError' as const
  constructor({ reason, cause }: { reason: string; cause?: unknown }) {
    super('Relay could not publish the system envelope.', {
      metaMessages: [`Reason: ${reason}`],
      cause,
      code: 'SEALPOST_RELAY_PUBLISH_FAILED',
    })
  }
}

/**
 * A part of a node (the relay server, its anchorer, the dashboard, the chain) did not stop within its deadline;
 * shutdown went on without it. A warning: the process still exits, and SQLite stores are crash-safe.
 *
 * @example onWarning(new StopTimeoutError({ component: 'anchorer', deadlineMs: 5000 }))
 */
export class StopTimeoutError extends InternalError {
  override name = 'StopTimeoutError' as const
  readonly component: string
  constructor({ component, deadlineMs }: { component: string; deadlineMs: number }) {
    super(`The ${component} did not stop within ${deadlineMs} ms; shutting down without it.`, {
      metaMessages: [`Component: ${component}`],
      code: 'SEALPOST_STOP_TIMEOUT',
    })
    this.component = component
  }
}
