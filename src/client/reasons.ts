/** Turning unknown failures into short reasons and typed errors, without leaking whole frames or secrets. */
import { type BaseError, UsageError, VerificationError } from '../errors.js'
import { MlsRejectedError } from './verificationErrors.js'

/**
 * The first line of an error's message (at most 200 characters), for a `Reason:` meta line.
 *
 * @example reasonOf(new Error('bad epoch\nstack…')) // 'bad epoch'
 */
export function reasonOf(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0]?.slice(0, 200) ?? 'unknown') : 'unknown'
}

/**
 * The typed error to report for a failure while processing: verification and usage errors as they are, anything
 * else wrapped as `MlsRejectedError` (an error that already has a short message is kept).
 *
 * @example events.emit('rejected', { envelopeId, topic, error: asRejection(err) })
 */
export function asRejection(err: unknown): BaseError {
  if (err instanceof VerificationError || err instanceof UsageError) return err
  if (err && typeof err === 'object' && 'shortMessage' in err) return err as BaseError
  return new MlsRejectedError({ reason: reasonOf(err), cause: err })
}
