/** Errors of linking a device: a link request that is altered, expired, replayed, for another account or chain, or not confirmed. */
import { UsageError, ValidationError, VerificationError } from '../errors.js'

/**
 * The request's signature does not verify under the P-256 key it carries: it was altered in transit.
 *
 * @example if (err instanceof LinkRequestSignatureError) console.error(err.metaMessages)
 */
export class LinkRequestSignatureError extends VerificationError {
  override name = 'LinkRequestSignatureError' as const
  constructor({ fingerprints }: { fingerprints: { p256: string; mls: string } }) {
    super('The link request was altered in transit: its signature does not match the keys it carries.', {
      metaMessages: [
        `P-256 fingerprint in the request: ${fingerprints.p256}`,
        `MLS fingerprint in the request:   ${fingerprints.mls}`,
        'Ask the new device for a fresh request; do not approve this one.',
      ],
      code: 'SEALPOST_LINK_REQUEST_ALTERED',
    })
  }
}

/**
 * The fingerprint the new device shows is not the one of the key in the request (a request substituted in transit).
 *
 * @example await approveLinkRequest({ ..., expectedFingerprint }).catch((e) => e instanceof LinkRequestFingerprintMismatchError)
 */
export class LinkRequestFingerprintMismatchError extends VerificationError {
  override name = 'LinkRequestFingerprintMismatchError' as const
  constructor({ expected, actual }: { expected: string; actual: string }) {
    super('The link request carries another key than the new device shows.', {
      metaMessages: [`Shown on the new device: ${expected}`, `In this request:         ${actual}`],
      code: 'SEALPOST_LINK_FINGERPRINT_MISMATCH',
    })
  }
}

/**
 * A proof of possession in the request does not verify: the device does not hold the keys it wants registered.
 *
 * @example if (err instanceof LinkRequestProofError) console.error(err.shortMessage)
 */
export class LinkRequestProofError extends VerificationError {
  override name = 'LinkRequestProofError' as const
  constructor({ failed }: { failed: ('p256' | 'mls')[] }) {
    super('A proof of possession in the link request does not verify.', {
      metaMessages: [`Failed: ${failed.join(', ')}`],
      code: 'SEALPOST_LINK_REQUEST_BAD_PROOF',
    })
  }
}

/**
 * The request has expired (its expiry is in the past by the approver's clock).
 *
 * @example if (err instanceof LinkRequestExpiredError) console.error('ask for a new request')
 */
export class LinkRequestExpiredError extends ValidationError {
  override name = 'LinkRequestExpiredError' as const
  constructor({ expiresAt }: { expiresAt: number }) {
    super('The link request has expired.', {
      metaMessages: [
        `Expired: ${new Date(expiresAt * 1000).toISOString()}`,
        'Run `sealpost id link` on the new device again.',
      ],
      code: 'SEALPOST_LINK_REQUEST_EXPIRED',
    })
  }
}

/**
 * The request's device is already registered: the request was approved before (a replay).
 *
 * @example if (err instanceof LinkRequestReplayedError) console.log('already linked')
 */
export class LinkRequestReplayedError extends ValidationError {
  override name = 'LinkRequestReplayedError' as const
  constructor({ deviceId }: { deviceId: string }) {
    super('The link request was already used: its device is registered.', {
      metaMessages: [`Device: ${deviceId}`],
      code: 'SEALPOST_LINK_REQUEST_REPLAYED',
    })
  }
}

/**
 * The request names another account than the approver's: nobody may approve a device for another account.
 *
 * @example if (err instanceof LinkRequestWrongAccountError) console.error(err.metaMessages)
 */
export class LinkRequestWrongAccountError extends ValidationError {
  override name = 'LinkRequestWrongAccountError' as const
  constructor({ requested, approver }: { requested: string; approver: string }) {
    super('The link request is for another account.', {
      metaMessages: [`Request is for: ${requested}`, `This account:    ${approver}`],
      code: 'SEALPOST_LINK_REQUEST_WRONG_ACCOUNT',
    })
  }
}

/**
 * The request names another chain or KeyRegistry than the approver's deployment.
 *
 * @example if (err instanceof LinkRequestWrongDeploymentError) console.error(err.metaMessages)
 */
export class LinkRequestWrongDeploymentError extends ValidationError {
  override name = 'LinkRequestWrongDeploymentError' as const
  constructor({ requested, expected }: { requested: string; expected: string }) {
    super('The link request is for another chain or registry.', {
      metaMessages: [`Request is for: ${requested}`, `This deployment: ${expected}`],
      code: 'SEALPOST_LINK_REQUEST_WRONG_DEPLOYMENT',
    })
  }
}

/**
 * The approver declined, or could not be asked (no terminal and no `--yes`).
 *
 * @example if (err instanceof LinkApprovalDeclinedError) process.exitCode = 1
 */
export class LinkApprovalDeclinedError extends UsageError {
  override name = 'LinkApprovalDeclinedError' as const
  constructor({ reason }: { reason: 'declined' | 'no-terminal' }) {
    super(
      reason === 'declined'
        ? 'Approval declined; nothing was signed.'
        : 'Approval needs a confirmation, and there is no terminal to ask on.',
      {
        metaMessages:
          reason === 'declined' ? [] : ['Check the fingerprints, then run it again with --yes to approve.'],
        code: 'SEALPOST_LINK_APPROVAL_DECLINED',
      },
    )
  }
}
