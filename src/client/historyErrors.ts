/** Errors of the history archive (protocol §12.8): a recipient the sender refuses, and archives the recipient refuses. */
import { UsageError, VerificationError } from '../errors.js'

/**
 * The device to send history to is not an active device of this account (or is this device), or its key package
 * does not check out against the registry (another device, another account, a key that is not its registered MLS
 * key, a bad signature).
 *
 * @example new HistoryRecipientError({ deviceId, reason: 'not a device of this account' })
 */
export class HistoryRecipientError extends UsageError {
  override name = 'HistoryRecipientError' as const
  constructor({ deviceId, reason }: { deviceId: string; reason: string }) {
    super('History can only be sent to another active device of this account.', {
      metaMessages: [`Device: ${deviceId}`, `Reason: ${reason}`],
      code: 'SEALPOST_HISTORY_RECIPIENT',
    })
  }
}

/**
 * A history archive this device cannot open: it names none of its key packages, or the HPKE ciphertext does not
 * open under the one it names with this device's binding (sealed to another device, or altered).
 *
 * @example new HistoryArchiveUnreadableError({ archiveId, reason: 'sealed to none of our key packages' })
 */
export class HistoryArchiveUnreadableError extends VerificationError {
  override name = 'HistoryArchiveUnreadableError' as const
  constructor({ archiveId, reason }: { archiveId: string; reason: string }) {
    super('The history archive cannot be opened by this device.', {
      metaMessages: [`Archive: ${archiveId}`, `Reason: ${reason}`],
      code: 'SEALPOST_HISTORY_ARCHIVE_UNREADABLE',
    })
  }
}

/**
 * A history archive from a device that is not another active device of this account (another account's device, a
 * revoked one), or bound to another device, chain or registry.
 *
 * @example new HistoryArchiveSenderError({ archiveId, fromDevice, reason: 'registered to another account' })
 */
export class HistoryArchiveSenderError extends VerificationError {
  override name = 'HistoryArchiveSenderError' as const
  constructor({ archiveId, fromDevice, reason }: { archiveId: string; fromDevice: string; reason: string }) {
    super('The history archive does not come from another active device of this account.', {
      metaMessages: [`Archive: ${archiveId}`, `From device: ${fromDevice}`, `Reason: ${reason}`],
      code: 'SEALPOST_HISTORY_ARCHIVE_SENDER',
    })
  }
}

/**
 * A history archive that fails a check of its contents: the sender's signature, the hash chain, the export statement,
 * or one entry's statement, body, leaf or receipt. The whole archive is refused; `entry` names the first bad entry
 * (undefined for an archive-wide check).
 *
 * @example new HistoryArchiveTamperedError({ archiveId, entry: 3, check: 'body', detail: 'body does not match the signed bodyHash' })
 */
export class HistoryArchiveTamperedError extends VerificationError {
  override name = 'HistoryArchiveTamperedError' as const
  readonly entry: number | undefined
  readonly check: string
  constructor({
    archiveId,
    entry,
    check,
    detail,
  }: {
    archiveId: string
    entry?: number | undefined
    check: string
    detail: string
  }) {
    super('The history archive fails verification; nothing of it was imported.', {
      metaMessages: [
        `Archive: ${archiveId}`,
        ...(entry === undefined ? [] : [`Entry: ${entry}`]),
        `Check: ${check}`,
        `Detail: ${detail}`,
      ],
      code: 'SEALPOST_HISTORY_ARCHIVE_TAMPERED',
    })
    this.entry = entry
    this.check = check
  }
}
