/** Errors of the IDS: an event that does not decode or is out of order, a bad state file, a tampered, truncated or unanchored alert log, no such quarantine. */
import { CodecError, UsageError, ValidationError, VerificationError } from '../errors.js'

/**
 * An IDS event that is not valid JSON or does not match the event schema (docs/ids.md §2).
 *
 * @example throw new IdsEventMalformedError({ line: 3, problem: 'kind: invalid value' })
 */
export class IdsEventMalformedError extends CodecError {
  override name = 'IdsEventMalformedError' as const
  constructor({ line, problem }: { line?: number | undefined; problem: string }) {
    super('An IDS event does not match the event schema.', {
      code: 'SEALPOST_IDS_EVENT_MALFORMED',
      metaMessages: [...(line !== undefined ? [`Line: ${line}`] : []), `Problem: ${problem}`],
    })
  }
}

/**
 * An IDS event older than the engine's clock minus the allowed lateness (a clock jump backwards, a replayed feed).
 *
 * @example throw new IdsEventOutOfOrderError({ at: 1000, clock: 900_000, lateness: 60_000 })
 */
export class IdsEventOutOfOrderError extends ValidationError {
  override name = 'IdsEventOutOfOrderError' as const
  constructor({ at, clock, lateness }: { at: number; clock: number; lateness: number }) {
    super('An IDS event is older than the engine clock allows.', {
      code: 'SEALPOST_IDS_EVENT_OUT_OF_ORDER',
      metaMessages: [`Event time: ${at}`, `Engine clock: ${clock}`, `Allowed lateness: ${lateness} ms`],
    })
  }
}

/**
 * A saved IDS model state that does not parse or is of another version.
 *
 * @example throw new IdsStateInvalidError({ problem: 'version 2' })
 */
export class IdsStateInvalidError extends CodecError {
  override name = 'IdsStateInvalidError' as const
  constructor({ problem }: { problem: string }) {
    super('The saved IDS model state is not valid.', {
      code: 'SEALPOST_IDS_STATE_INVALID',
      metaMessages: [`Problem: ${problem}`],
    })
  }
}

/**
 * An alert-log entry whose hash, index or link to the previous entry does not check (docs/protocol.md §16).
 *
 * @example throw new IdsAlertLogTamperedError({ index: 4, problem: 'hash mismatch' })
 */
export class IdsAlertLogTamperedError extends VerificationError {
  override name = 'IdsAlertLogTamperedError' as const
  constructor({ index, problem }: { index: number; problem: string }) {
    super('The IDS alert log does not verify.', {
      code: 'SEALPOST_IDS_ALERT_LOG_TAMPERED',
      metaMessages: [`Entry: ${index}`, `Problem: ${problem}`],
    })
  }
}

/**
 * An alert log shorter than an anchored head says it was: entries were cut off after they were anchored (§16.1).
 *
 * @example throw new IdsAlertLogTruncatedError({ entries: 3, anchored: 5 })
 */
export class IdsAlertLogTruncatedError extends VerificationError {
  override name = 'IdsAlertLogTruncatedError' as const
  constructor({ entries, anchored }: { entries: number; anchored: number }) {
    super('The IDS alert log is shorter than its anchored head.', {
      code: 'SEALPOST_IDS_ALERT_LOG_TRUNCATED',
      metaMessages: [`Entries: ${entries}`, `Anchored size: ${anchored}`],
    })
  }
}

/**
 * An alert-log head anchor whose receipt does not prove it: another leaf, or no such anchor on chain (§16.1).
 *
 * @example throw new IdsAlertLogAnchorError({ size: 5, problem: 'root not anchored by the submitter' })
 */
export class IdsAlertLogAnchorError extends VerificationError {
  override name = 'IdsAlertLogAnchorError' as const
  constructor({ size, problem }: { size: number; problem: string }) {
    super('An anchor of the IDS alert-log head does not verify.', {
      code: 'SEALPOST_IDS_ALERT_ANCHOR_INVALID',
      metaMessages: [`Anchored size: ${size}`, `Problem: ${problem}`],
    })
  }
}

/**
 * `sealpost ids quarantine lift` for a device that is not quarantined.
 *
 * @example throw new IdsQuarantineNotFoundError({ device: 'device:0xab…' })
 */
export class IdsQuarantineNotFoundError extends UsageError {
  override name = 'IdsQuarantineNotFoundError' as const
  constructor({ device }: { device: string }) {
    super('That device is not quarantined.', {
      code: 'SEALPOST_IDS_QUARANTINE_NOT_FOUND',
      metaMessages: [`Device: ${device}`, 'Run `sealpost ids quarantine list` for the quarantined devices.'],
    })
  }
}
