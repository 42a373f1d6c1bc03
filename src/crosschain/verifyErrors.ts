/** Typed errors of verification through a mirror (a verifier that reads only chain B). */
import type { Address } from 'viem'
import { UsageError, VerificationError } from '../errors.js'

/**
 * The mirror on chain B follows another origin than the deployment the verifier pinned: another chain id (its fixed
 * `originDomain`) or another SealpostMirrorSender (its fixed `originSender`).
 *
 * @example throw new MirrorOriginMismatchError({ mirror, expected: 'domain 31337', actual: 'domain 99' })
 */
export class MirrorOriginMismatchError extends VerificationError {
  override name = 'MirrorOriginMismatchError' as const
  constructor({ mirror, expected, actual }: { mirror: Address; expected: string; actual: string }) {
    super('The mirror does not follow the pinned origin deployment.', {
      metaMessages: [`Mirror: ${mirror}`, `Pinned: ${expected}`, `Mirror follows: ${actual}`],
      code: 'SEALPOST_CROSSCHAIN_MIRROR_ORIGIN',
    })
  }
}

/**
 * A mirror pin file (`sealpost verify --mirror FILE`) that cannot be used: unreadable, not strict JSON, or not
 * `{ rpcUrl, chainId, mirror[, sender] }`.
 *
 * @example throw new MirrorPinFormatError({ path: 'mirror.json', reason: 'mirror is not an address' })
 */
export class MirrorPinFormatError extends UsageError {
  override name = 'MirrorPinFormatError' as const
  constructor({ path, reason }: { path: string; reason: string }) {
    super('The mirror pin file cannot be used.', {
      metaMessages: [
        `File: ${path}`,
        `Reason: ${reason}`,
        'Expected: { "rpcUrl": "http://…", "chainId": 31338, "mirror": "0x…", "sender": "0x…" (optional) }',
      ],
      code: 'SEALPOST_CROSSCHAIN_MIRROR_PIN',
    })
  }
}
