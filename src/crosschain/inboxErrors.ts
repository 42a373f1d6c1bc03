/** Errors of `send --via hyperlane`: the inbox pair's record missing or malformed, a delivery that did not come. */
import type { Address, Hex } from 'viem'
import { UsageError } from '../errors.js'

/**
 * There is no second-chain inbox deployment to send through: the record file is missing, or the inbox it names on
 * either chain has no code or does not enroll the other.
 *
 * @example
 * throw new InboxDeploymentMissingError({ path: '/home/me/.sealpost/hyperlane-inbox.json', reason: 'no such file' })
 */
export class InboxDeploymentMissingError extends UsageError {
  override name = 'InboxDeploymentMissingError' as const
  constructor({ path, reason }: { path: string; reason: string }) {
    super('No SealpostInbox deployment on a second chain to send through.', {
      metaMessages: [
        `Record: ${path}`,
        `Reason: ${reason}`,
        'Start the two-chain stack (sealpost up --chains 2) or deploy the inbox pair (deployInboxPair) and write the record.',
      ],
      code: 'SEALPOST_CROSSCHAIN_NO_INBOX',
    })
  }
}

/**
 * The inbox record file is not JSON of the expected shape.
 *
 * @example
 * throw new InboxDeploymentFormatError({ path, reason: 'origin.inbox: not an address' })
 */
export class InboxDeploymentFormatError extends UsageError {
  override name = 'InboxDeploymentFormatError' as const
  constructor({ path, reason }: { path: string; reason: string }) {
    super('The SealpostInbox deployment record is malformed.', {
      metaMessages: [`Record: ${path}`, `Reason: ${reason}`],
      code: 'SEALPOST_CROSSCHAIN_INBOX_RECORD',
    })
  }
}

/**
 * The destination inbox did not record the envelope in time (validators offline, no relayer running, or the
 * delivery refused).
 *
 * @example
 * throw new InboxDeliveryTimeoutError({ envelopeId, inbox, timeoutMs: 60_000 })
 */
export class InboxDeliveryTimeoutError extends UsageError {
  override name = 'InboxDeliveryTimeoutError' as const
  readonly envelopeId: Hex
  constructor({ envelopeId, inbox, timeoutMs }: { envelopeId: Hex; inbox: Address; timeoutMs: number }) {
    super('The envelope was not delivered to the destination inbox in time.', {
      metaMessages: [
        `Envelope: ${envelopeId}`,
        `Inbox:    ${inbox}`,
        `Waited:   ${timeoutMs / 1000} s`,
        'Are the validators and a relayer (sealpost relay --hyperlane-relayer) running?',
      ],
      code: 'SEALPOST_CROSSCHAIN_INBOX_TIMEOUT',
    })
    this.envelopeId = envelopeId
  }
}
