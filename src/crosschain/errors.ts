/** Typed Sealpost errors of the cross-chain layer (Hyperlane artifacts, validator, relayer). */
import type { Hex } from 'viem'
import { CodecError, InternalError, UsageError, VerificationError } from '../errors.js'

/**
 * The installed `@hyperlane-xyz/core` package is missing or its files do not have the expected layout.
 *
 * @example
 * throw new HyperlaneArtifactError({ reason: 'package @hyperlane-xyz/core is not installed' })
 */
export class HyperlaneArtifactError extends InternalError {
  override name = 'HyperlaneArtifactError' as const
  constructor({ reason, cause }: { reason: string; cause?: unknown }) {
    super('Cannot read the Hyperlane contract artifacts.', {
      metaMessages: [`Reason: ${reason}`],
      cause,
      code: 'SEALPOST_CROSSCHAIN_ARTIFACT',
      name: 'HyperlaneArtifactError',
    })
  }
}

/**
 * Bytes that are not a Hyperlane message (version 3 header of 77 bytes, then the body).
 *
 * @example
 * throw new HyperlaneMessageMalformedError({ length: 12 })
 */
export class HyperlaneMessageMalformedError extends CodecError {
  override name = 'HyperlaneMessageMalformedError' as const
  constructor({ length }: { length: number }) {
    super('Not a Hyperlane message.', {
      metaMessages: [`Length: ${length} bytes (header: 77)`],
      code: 'SEALPOST_CROSSCHAIN_MALFORMED_MESSAGE',
      name: 'HyperlaneMessageMalformedError',
    })
  }
}

/**
 * The relayer holds fewer valid validator signatures over one checkpoint of the message than the ISM's threshold.
 * It refuses before submitting: the ISM would revert, without a reason, on too-short metadata.
 *
 * @example
 * if (e instanceof QuorumNotReachedError) console.log(e.have, 'of', e.threshold)
 */
export class QuorumNotReachedError extends VerificationError {
  override name = 'QuorumNotReachedError' as const
  readonly messageId: Hex
  readonly have: number
  readonly threshold: number
  constructor({ messageId, have, threshold }: { messageId: Hex; have: number; threshold: number }) {
    super('Not enough validator signatures to deliver the message.', {
      metaMessages: [`Message: ${messageId}`, `Valid signatures: ${have}, threshold: ${threshold}`],
      code: 'SEALPOST_CROSSCHAIN_QUORUM',
      name: 'QuorumNotReachedError',
    })
    this.messageId = messageId
    this.have = have
    this.threshold = threshold
  }
}

/**
 * The validator's own Merkle tree, rebuilt from the hook's InsertedIntoTree logs, disagrees with the hook's root on
 * chain (a missed or extra log): the validator stops rather than sign a wrong checkpoint.
 *
 * @example
 * throw new CheckpointRootMismatchError({ index: 3, detail: 'local root 0x…, on-chain root 0x…' })
 */
export class CheckpointRootMismatchError extends InternalError {
  override name = 'CheckpointRootMismatchError' as const
  constructor({ index, detail }: { index: number; detail: string }) {
    super("The validator's Merkle tree disagrees with the origin hook.", {
      metaMessages: [`Index: ${index}`, detail],
      code: 'SEALPOST_CROSSCHAIN_ROOT_MISMATCH',
      name: 'CheckpointRootMismatchError',
    })
  }
}

/**
 * A Hyperlane message body that is not a mirror payload (unknown kind, or not the kind's ABI encoding).
 *
 * @example
 * throw new MirrorPayloadMalformedError({ reason: 'unknown kind 7' })
 */
export class MirrorPayloadMalformedError extends CodecError {
  override name = 'MirrorPayloadMalformedError' as const
  constructor({ reason, cause }: { reason: string; cause?: unknown }) {
    super('Not a Sealpost mirror payload.', {
      metaMessages: [`Reason: ${reason}`],
      cause,
      code: 'SEALPOST_CROSSCHAIN_MALFORMED_PAYLOAD',
      name: 'MirrorPayloadMalformedError',
    })
  }
}

/**
 * A Hyperlane relayer configuration (`sealpost relay --hyperlane-relayer FILE`) that cannot be used: unreadable, not
 * the documented JSON, or naming a key variable that does not hold a key.
 *
 * @example
 * throw new HyperlaneRelayerConfigError({ path: 'relayer.json', reason: 'origin.mailbox is not an address' })
 */
export class HyperlaneRelayerConfigError extends UsageError {
  override name = 'HyperlaneRelayerConfigError' as const
  constructor({ path, reason, cause }: { path: string; reason: string; cause?: unknown }) {
    super('The Hyperlane relayer configuration cannot be used.', {
      metaMessages: [`File: ${path}`, `Reason: ${reason}`],
      cause,
      code: 'SEALPOST_CROSSCHAIN_RELAYER_CONFIG',
      name: 'HyperlaneRelayerConfigError',
    })
  }
}
