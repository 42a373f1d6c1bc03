/** The client's verification errors: why a message, a receipt, a conversation change or a transcript was refused. */
import { VerificationError } from '../errors.js'

type Meta = { messageId?: string | undefined }
const idLine = ({ messageId }: Meta) => (messageId ? [`Message: ${messageId}`] : [])

/** The statement's P-256 signature does not match the device key registered on chain. */
export class StatementSignatureError extends VerificationError {
  override name = 'StatementSignatureError' as const
  constructor(p: Meta & { deviceId: string }) {
    super('Statement signature does not match the registered device key.', {
      metaMessages: [...idLine(p), `Device: ${p.deviceId}`],
      code: 'SEALPOST_BAD_SIGNATURE',
    })
  }
}

/** The sending device is not registered for the sending account. */
export class UnknownSenderError extends VerificationError {
  override name = 'UnknownSenderError' as const
  constructor(p: Meta & { account: string; deviceId: string }) {
    super('Sender device is not registered for the sending account.', {
      metaMessages: [...idLine(p), `Account: ${p.account}`, `Device: ${p.deviceId}`],
      code: 'SEALPOST_UNKNOWN_SENDER',
    })
  }
}

/** The sending device was revoked at or before the block the statement references. */
export class KeyRevokedError extends VerificationError {
  override name = 'KeyRevokedError' as const
  constructor(p: Meta & { deviceId: string; revokedAt: bigint; block: bigint }) {
    super('Sender device key was revoked before this message was signed.', {
      metaMessages: [
        ...idLine(p),
        `Device: ${p.deviceId}`,
        `Revoked at block ${p.revokedAt}, statement references block ${p.block}`,
      ],
      code: 'SEALPOST_KEY_REVOKED',
    })
  }
}

/** The sending device was registered only after the block the statement references. */
export class KeyNotYetValidError extends VerificationError {
  override name = 'KeyNotYetValidError' as const
  constructor(p: Meta & { deviceId: string; addedAt: bigint; block: bigint }) {
    super('Sender device key was not yet registered at the referenced block.', {
      metaMessages: [
        ...idLine(p),
        `Device: ${p.deviceId}`,
        `Added at block ${p.addedAt}, statement references block ${p.block}`,
      ],
      code: 'SEALPOST_KEY_NOT_YET_VALID',
    })
  }
}

/** The statement references a block this chain does not have (wrong hash, or a future block). */
export class BlockReferenceError extends VerificationError {
  override name = 'BlockReferenceError' as const
  constructor(p: Meta & { block: bigint; reason: string }) {
    super('Statement references a block that is not on this chain.', {
      metaMessages: [...idLine(p), `Block: ${p.block}`, `Reason: ${p.reason}`],
      code: 'SEALPOST_BAD_BLOCK_REFERENCE',
    })
  }
}

/** The statement was made for another chain. */
export class StatementChainError extends VerificationError {
  override name = 'StatementChainError' as const
  constructor(p: Meta & { expected: number; actual: number }) {
    super('Statement was made for another chain.', {
      metaMessages: [...idLine(p), `Expected chain id ${p.expected}, got ${p.actual}`],
      code: 'SEALPOST_STATEMENT_WRONG_CHAIN',
    })
  }
}

/** A message whose sequence number is not above the last one seen from that device: a replay or a stale resend. */
export class StaleSequenceError extends VerificationError {
  override name = 'StaleSequenceError' as const
  constructor(p: Meta & { seq: bigint; last: bigint }) {
    super('Stale or replayed sequence number.', {
      metaMessages: [...idLine(p), `Got seq ${p.seq}; last accepted from this device is ${p.last}`],
      code: 'SEALPOST_STALE_SEQ',
    })
  }
}

/** The same envelope was already processed. */
export class ReplayError extends VerificationError {
  override name = 'ReplayError' as const
  constructor(p: Meta & { verdict: string }) {
    super('Envelope was already processed (replay).', {
      metaMessages: [...idLine(p), `Earlier verdict: ${p.verdict}`],
      code: 'SEALPOST_REPLAY',
    })
  }
}

/** The body does not hash to the statement's bodyHash. */
export class BodyHashMismatchError extends VerificationError {
  override name = 'BodyHashMismatchError' as const
  constructor(p: Meta) {
    super('Message body does not match the signed body hash.', {
      metaMessages: idLine(p),
      code: 'SEALPOST_BODY_HASH_MISMATCH',
    })
  }
}

/** `sentAt` is too far in the future, or too far from the referenced block's time. */
export class ClockSkewError extends VerificationError {
  override name = 'ClockSkewError' as const
  constructor(p: Meta & { reason: string }) {
    super('Statement time is outside the allowed clock-skew bounds.', {
      metaMessages: [...idLine(p), `Reason: ${p.reason}`],
      code: 'SEALPOST_CLOCK_SKEW',
    })
  }
}

/** The MLS sender of the message is not the device named in its statement, or the conversation differs. */
export class SenderBindingError extends VerificationError {
  override name = 'SenderBindingError' as const
  constructor(p: Meta & { reason: string }) {
    super('MLS sender does not match the signed statement.', {
      metaMessages: [...idLine(p), `Reason: ${p.reason}`],
      code: 'SEALPOST_SENDER_MISMATCH',
    })
  }
}

/** MLS refused the message: it does not decrypt, its signature fails, or the epoch is gone. */
export class MlsRejectedError extends VerificationError {
  override name = 'MlsRejectedError' as const
  /** Why, in a line (e.g. `this device was removed from the conversation`). */
  readonly reason: string
  constructor(p: Meta & { reason: string; cause?: unknown }) {
    super('MLS rejected the message.', {
      metaMessages: [...idLine(p), `Reason: ${p.reason}`],
      code: 'SEALPOST_MLS_REJECTED',
      cause: p.cause,
    })
    this.reason = p.reason
  }
}

/** A key package failed its checks against the registry (unregistered, revoked, or a different MLS key). */
export class KeyPackageRejectedError extends VerificationError {
  override name = 'KeyPackageRejectedError' as const
  constructor(p: { deviceId: string; reason: string }) {
    super('Key package does not match the registry.', {
      metaMessages: [`Device: ${p.deviceId}`, `Reason: ${p.reason}`],
      code: 'SEALPOST_KEY_PACKAGE_REJECTED',
    })
  }
}

/**
 * Evidence (a transcript or a receipt) names another chain or other contracts than the deployment the verifier
 * pinned: it proves nothing about that deployment.
 *
 * @example new DeploymentMismatchError({ field: 'keyRegistry', claimed: '0xabc…', trusted: '0xdef…' })
 */
export class DeploymentMismatchError extends VerificationError {
  override name = 'DeploymentMismatchError' as const
  readonly field: 'chainId' | 'keyRegistry' | 'messageAnchor'
  constructor({
    field,
    claimed,
    trusted,
  }: { field: 'chainId' | 'keyRegistry' | 'messageAnchor'; claimed: string; trusted: string }) {
    super('Evidence names another deployment than the trusted one.', {
      metaMessages: [`Field: ${field}`, `Evidence names: ${claimed}`, `Trusted: ${trusted}`],
      code: 'SEALPOST_DEPLOYMENT_MISMATCH',
    })
    this.field = field
  }
}

/**
 * A transcript failed verification: `check` and `entry` name the first failing check, `failed` counts them all.
 *
 * @example new TranscriptVerificationError({ check: 'signature', entry: 3, failed: 2, detail: 'signature does not verify' })
 */
export class TranscriptVerificationError extends VerificationError {
  override name = 'TranscriptVerificationError' as const
  readonly check: string
  readonly entry: number | null
  readonly failed: number
  constructor({
    check,
    entry,
    failed,
    detail,
  }: { check: string; entry: number | null; failed: number; detail: string }) {
    super('Transcript does not verify.', {
      metaMessages: [
        `First failure: ${entry === null ? 'transcript' : `entry ${entry}`} ${check}: ${detail}`,
        `${failed} check${failed === 1 ? '' : 's'} failed`,
      ],
      code: 'SEALPOST_TRANSCRIPT_INVALID',
    })
    this.check = check
    this.entry = entry
    this.failed = failed
  }
}

/**
 * A Welcome or a commit breaks Sealpost's conversation policy (docs/protocol.md §3.4): `rule` names the broken rule,
 * e.g. `context-missing`, `foreign-member`, `not-a-member-account`, `bad-group-id`, `context-changed`,
 * `committer-not-allowed`, `leaf-identity-changed`, `forbidden-proposal`. Nothing of it is stored.
 */
export class ConversationPolicyError extends VerificationError {
  override name = 'ConversationPolicyError' as const
  readonly rule: string
  /** What broke the rule, e.g. `leaf 2 is device 0x… of 0x…` or `0x… is not an admin of the group`. */
  readonly detail: string
  constructor(p: Meta & { rule: string; groupId: string; epoch: bigint; detail: string }) {
    super(`Conversation refused: ${p.rule}.`, {
      metaMessages: [
        ...idLine(p),
        `Rule: ${p.rule}`,
        `Group: ${p.groupId}`,
        `Epoch: ${p.epoch}`,
        `Detail: ${p.detail}`,
      ],
      code: 'SEALPOST_CONVERSATION_POLICY',
    })
    this.rule = p.rule
    this.detail = p.detail
  }
}

/** A delivery receipt that names no message of the conversation this device holds (protocol §4.5). */
export class DeliveryReceiptUnknownError extends VerificationError {
  override name = 'DeliveryReceiptUnknownError' as const
  constructor(p: Meta & { conversation: string; leaves: number }) {
    super('The delivery receipt confirms no message of this conversation.', {
      metaMessages: [...idLine(p), `Conversation: ${p.conversation}`, `Leaves listed: ${p.leaves}`],
      code: 'SEALPOST_DELIVERY_RECEIPT_UNKNOWN',
    })
  }
}

/** An MLS message sealed in an earlier epoch by a device that is no longer a member of the group. */
export class SenderRemovedError extends VerificationError {
  override name = 'SenderRemovedError' as const
  /** The removed device that sealed the message. */
  readonly deviceId: string
  constructor(p: Meta & { deviceId: string; messageEpoch: bigint; currentEpoch: bigint }) {
    super('The sender was removed from the conversation after the epoch this message was sealed in.', {
      metaMessages: [
        ...idLine(p),
        `Device: ${p.deviceId}`,
        `Message epoch ${p.messageEpoch}, current epoch ${p.currentEpoch}`,
      ],
      code: 'SEALPOST_SENDER_REMOVED',
    })
    this.deviceId = p.deviceId
  }
}

/** A received message carries a version-1 statement, which names no recipients: live receipt refuses it. */
export class StatementV1RefusedError extends VerificationError {
  override name = 'StatementV1RefusedError' as const
  constructor(p: Meta) {
    super('Statement v1 names no recipients; received messages must carry statement v2.', {
      metaMessages: idLine(p),
      code: 'SEALPOST_STATEMENT_V1_REFUSED',
    })
  }
}

/** The statement names another KeyRegistry than the verifier's deployment. */
export class StatementRegistryError extends VerificationError {
  override name = 'StatementRegistryError' as const
  constructor(p: Meta & { expected: string; actual: string }) {
    super('Statement was made for another KeyRegistry.', {
      metaMessages: [...idLine(p), `Expected registry ${p.expected}, statement names ${p.actual}`],
      code: 'SEALPOST_STATEMENT_WRONG_REGISTRY',
    })
  }
}

/** The statement's MLS epoch is not the epoch the message was sealed in. */
export class StatementEpochError extends VerificationError {
  override name = 'StatementEpochError' as const
  constructor(p: Meta & { expected: bigint; actual: bigint }) {
    super('Statement names another MLS epoch than the message was sealed in.', {
      metaMessages: [...idLine(p), `Sealed in epoch ${p.expected}, statement names epoch ${p.actual}`],
      code: 'SEALPOST_STATEMENT_EPOCH',
    })
  }
}

/** The statement's recipients root is not the conversation's member accounts at the message's epoch (or the reader is not one of them). */
export class RecipientsMismatchError extends VerificationError {
  override name = 'RecipientsMismatchError' as const
  constructor(p: Meta & { reason: string }) {
    super('Statement was not addressed to these recipients.', {
      metaMessages: [...idLine(p), `Reason: ${p.reason}`],
      code: 'SEALPOST_RECIPIENTS_MISMATCH',
    })
  }
}

/** A text body is not valid UTF-8: it is refused rather than decoded with replacement characters. */
export class BodyNotUtf8Error extends VerificationError {
  override name = 'BodyNotUtf8Error' as const
  constructor(p: Meta) {
    super('Text body is not valid UTF-8.', { metaMessages: idLine(p), code: 'SEALPOST_BODY_NOT_UTF8' })
  }
}

/** Two valid heads signed by the same device for its log disagree: the log was rewritten (both are the evidence). */
export class LogEquivocationError extends VerificationError {
  override name = 'LogEquivocationError' as const
  readonly evidence: readonly { statement: string; signature: string }[]
  constructor(p: { deviceId: string; reason: string; evidence: { statement: string; signature: string }[] }) {
    super('The device signed two log heads that disagree.', {
      metaMessages: [
        `Device: ${p.deviceId}`,
        `Reason: ${p.reason}`,
        ...p.evidence.map((e, i) => `Evidence ${i + 1}: statement ${e.statement} signature ${e.signature}`),
      ],
      code: 'SEALPOST_LOG_EQUIVOCATION',
    })
    this.evidence = p.evidence
  }
}

/** A statement's anchor is not within the anchor window after its referenced block (or it never got one in time). */
export class AnchorWindowError extends VerificationError {
  override name = 'AnchorWindowError' as const
  constructor(p: Meta & { block: bigint; reason: string }) {
    super('The statement was not anchored within the anchor window after its referenced block.', {
      metaMessages: [...idLine(p), `Referenced block ${p.block}`, `Reason: ${p.reason}`],
      code: 'SEALPOST_ANCHOR_WINDOW',
    })
  }
}

/** The sending device was revoked at or before the block that anchors the statement. */
export class RevokedBeforeAnchorError extends VerificationError {
  override name = 'RevokedBeforeAnchorError' as const
  constructor(p: Meta & { deviceId: string; revokedAt: bigint; anchorBlock: bigint }) {
    super('The sender device was revoked before this message was anchored.', {
      metaMessages: [
        ...idLine(p),
        `Device: ${p.deviceId}`,
        `Revoked at block ${p.revokedAt}, anchored in block ${p.anchorBlock}`,
      ],
      code: 'SEALPOST_REVOKED_BEFORE_ANCHOR',
    })
  }
}

/** A live delivery references a block whose successor is older than the live window: it was not made recently. */
export class StaleBlockReferenceError extends VerificationError {
  override name = 'StaleBlockReferenceError' as const
  constructor(p: Meta & { block: bigint; ageMs: number; windowMs: number }) {
    super('The statement references a block that is too old for a live delivery.', {
      metaMessages: [
        ...idLine(p),
        `Referenced block ${p.block}; the block after it is ${Math.round(p.ageMs / 1000)} s old, window ${Math.round(p.windowMs / 1000)} s`,
      ],
      code: 'SEALPOST_STALE_BLOCK_REFERENCE',
    })
  }
}
