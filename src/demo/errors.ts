/** Errors of the demo: a scripted wait that ran out of time. */
import { UsageError } from '../errors.js'

/**
 * A demo step waited for something (a delivery, a join, an anchored log head) that did not happen in time.
 *
 * @example throw new DemoTimeoutError({ waitingFor: 'Bob to join', timeoutMs: 30_000 })
 */
export class DemoTimeoutError extends UsageError {
  override name = 'DemoTimeoutError' as const
  constructor({ waitingFor, timeoutMs }: { waitingFor: string; timeoutMs: number }) {
    super(`Gave up waiting for ${waitingFor}.`, {
      metaMessages: [`Waited ${timeoutMs} ms.`],
      code: 'SEALPOST_DEMO_TIMEOUT',
    })
  }
}
