/** Errors of the demo: a scripted wait that ran out of time, an attack that could not be performed. */
import { InternalError, UsageError } from '../errors.js'

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

/**
 * A scripted attack could not be performed (no key package to take, nothing sealed, a contract not deployed): the
 * step it belongs to fails, since nothing was refused.
 *
 * @example throw new DemoAttackError({ attack: 'plant a 1:1 group', reason: 'no key package left for Bob' })
 */
export class DemoAttackError extends InternalError {
  override name = 'DemoAttackError' as const
  constructor({ attack, reason }: { attack: string; reason: string }) {
    super(`The demo could not ${attack}.`, {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_DEMO_ATTACK',
    })
  }
}
