/** A recipient's verification of one message, as the inspector shows it: every step, the statement, MLS, the key. */
import type { Address, Hex } from 'viem'
import type { ReceivedMessage } from '../../client/Client.js'
import type { VerificationReport } from '../../client/verifyStatement.js'
import type { VerificationEvent } from '../events.js'

/**
 * The `verification` event for message `id` checked by `by`: from the report (and the message, when it was
 * accepted), or from the error that refused it before any step ran.
 *
 * @example hub.emit(verificationEvent(m.id, client.account, m.report, m))
 */
export function verificationEvent(
  id: Hex,
  by: Address,
  report: VerificationReport | undefined,
  message?: ReceivedMessage,
  error?: { name: string; code: string; shortMessage: string },
): VerificationEvent {
  const statement = message?.statement
  return {
    type: 'verification',
    at: Date.now(),
    id,
    by,
    ok: report?.ok ?? false,
    steps: (report?.steps ?? [{ name: 'mls', ok: false, detail: error?.shortMessage ?? 'refused' }]).map(
      (s) => ({ name: s.name, ok: s.ok, detail: s.detail.slice(0, 500) }),
    ),
    ...(report?.failedStep ? { failedStep: report.failedStep } : error ? { failedStep: 'mls' } : {}),
    ...(report?.error
      ? {
          error: {
            name: report.error.name,
            code: report.error.code,
            message: report.error.message.slice(0, 250),
          },
        }
      : error
        ? { error: { name: error.name, code: error.code, message: error.shortMessage.slice(0, 250) } }
        : {}),
    ...(statement
      ? {
          statement: {
            from: statement.from,
            device: statement.device,
            conversation: statement.conversation,
            seq: statement.seq.toString(),
            sentAt: statement.sentAt,
            blockNumber: statement.block.number.toString(),
            blockHash: statement.block.hash,
            bodyHash: statement.bodyHash,
          },
          signature: message.signature,
        }
      : {}),
    ...(report?.mls
      ? {
          mls: {
            epoch: report.mls.epoch.toString(),
            ciphersuite: report.mls.ciphersuite,
            senderLeaf: report.mls.senderLeaf,
          },
        }
      : {}),
    ...(report?.key
      ? {
          key: {
            deviceId: report.key.deviceId,
            p256X: report.key.p256X,
            p256Y: report.key.p256Y,
            addedAt: report.key.addedAt.toString(),
            ...(report.key.revokedAt !== undefined ? { revokedAt: report.key.revokedAt.toString() } : {}),
          },
        }
      : {}),
  }
}
