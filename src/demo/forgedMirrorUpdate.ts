/** The demo's forged mirror updates: a direct call to SealpostMirror.handle, and a genuine message of A from the wrong sender, each refused on chain B. */
import { type Address, createWalletClient, type Hex, http, type PublicClient, parseEventLogs } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { sealpostMirrorAbi } from '../../contracts/artifacts/SealpostMirror.js'
import { ContractRevertError } from '../chain/errors.js'
import { sendAndWait } from '../chain/sendAndWait.js'
import type { MirroringDeployment } from '../crosschain/deploy.js'
import { mailboxAbi } from '../crosschain/hyperlaneAbi.js'
import { addressToBytes32, hyperlaneMessageId } from '../crosschain/message.js'
import { encodeMirrorPayload } from '../crosschain/mirrorPayload.js'
import { readMirroredDevice } from '../crosschain/mirrorViews.js'
import type { RelayOutcome } from '../crosschain/relayer.js'
import type { DemoReport } from './report.js'
import { untilRelayed } from './waits.js'

/**
 * Parameters of {@link refuseForgedMirrorUpdates}.
 *
 * @example const p: ForgedMirrorParameters = { report, clientA, clientB, rpcA, rpcB, mirroring, forger, forgerOnB, victim, relayed, timeoutMs: 60_000 }
 */
export type ForgedMirrorParameters = {
  report: DemoReport
  clientA: PublicClient
  clientB: PublicClient
  rpcA: string
  rpcB: string
  mirroring: MirroringDeployment
  /** A funded account on A: dispatches the forged update through A's Mailbox (not through the sender). */
  forger: LocalAccount
  /** A funded account on B: calls the mirror directly. */
  forgerOnB: LocalAccount
  /** The revoked device the forgery tries to bring back. */
  victim: { account: Address; deviceId: Hex }
  /** The running relayer's outcomes, appended as it works. */
  relayed: readonly RelayOutcome[]
  timeoutMs: number
}

/**
 * Forges a device update that would make the revoked `victim` device valid again on B (revokedAt 0, a snapshot at
 * a far future origin block), and tries it two ways, recording each refusal with its revert reason: (1) a direct
 * `SealpostMirror.handle` call on B claiming origin A and the genuine sender (`NotMailbox`); (2) `forger` dispatches
 * it through A's Mailbox to the mirror: a genuine message of A that the validators sign and the ISM accepts, refused
 * by the mirror for its sender (`UnexpectedSender`), which the relayer reports as `refused` with that name. Then reads
 * the mirror: the device is still revoked.
 *
 * @example await refuseForgedMirrorUpdates({ report, clientA, clientB, rpcA, rpcB, mirroring, forger, forgerOnB, victim, relayed, timeoutMs: 60_000 })
 */
export async function refuseForgedMirrorUpdates(p: ForgedMirrorParameters): Promise<void> {
  const { report, mirroring, victim } = p
  const forgedBody = encodeMirrorPayload({
    kind: 'devices',
    originBlock: 2n ** 40n - 1n,
    items: [
      {
        account: victim.account,
        deviceId: victim.deviceId,
        addedAt: 1,
        revokedAt: 0,
        mlsKeyHash: `0x${'00'.repeat(18)}`,
      },
    ],
  })
  const genuineSender = addressToBytes32(mirroring.sender)
  const direct = await revertOf(
    sendAndWait(
      createWalletClient({ account: p.forgerOnB, transport: http(p.rpcB) }),
      {
        address: mirroring.mirror,
        abi: sealpostMirrorAbi,
        functionName: 'handle',
        args: [mirroring.origin.domain, genuineSender, forgedBody],
      },
      undefined,
    ),
  )
  report.record(
    'a forged mirror update, called directly on B, is refused',
    direct?.errorName === 'NotMailbox',
    direct ? `reverted ${direct.errorName}(${direct.args.join(', ')})` : 'accepted',
    [
      `handle(origin ${mirroring.origin.domain}, the genuine sender, "tablet ${victim.deviceId.slice(0, 18)}… not revoked") from ${p.forgerOnB.address}`,
    ],
  )

  const dispatched = await sendAndWait(
    createWalletClient({ account: p.forger, transport: http(p.rpcA) }),
    {
      address: mirroring.origin.mailbox,
      abi: mailboxAbi,
      functionName: 'dispatch',
      args: [mirroring.destination.domain, addressToBytes32(mirroring.mirror), forgedBody],
    },
    undefined,
  )
  const [log] = parseEventLogs({ abi: mailboxAbi, eventName: 'Dispatch', logs: dispatched.receipt.logs })
  const messageId = log ? hyperlaneMessageId(log.args.message) : undefined
  const outcome = messageId ? await untilRelayed(p.relayed, messageId, p.timeoutMs) : undefined
  const record = await readMirroredDevice(p.clientB, { mirror: mirroring.mirror, deviceId: victim.deviceId })
  const refusedBySender =
    outcome?.status === 'refused' && outcome.error.errorName === 'UnexpectedSender' && record.revokedAt > 0
  report.record(
    'a forged mirror update from the wrong sender on A is refused on B',
    refusedBySender,
    outcome?.status === 'refused'
      ? `Mailbox.process reverted ${outcome.error.errorName}(${outcome.error.args.join(', ')})`
      : `relayer outcome ${outcome?.status ?? 'none'}`,
    [
      `dispatched on A by ${p.forger.address} straight to the Mailbox (tx ${dispatched.hash}): a genuine message of A,`,
      'signed by the validators and accepted by the ISM; the mirror accepts only SealpostMirrorSender',
      `the tablet on B is still revoked at A block ${record.revokedAt} (snapshot of A block ${record.syncedAt})`,
    ],
  )
}

/** The revert a write ended in, or undefined if it was accepted. */
async function revertOf(write: Promise<unknown>): Promise<ContractRevertError | undefined> {
  try {
    await write
    return undefined
  } catch (err) {
    if (err instanceof ContractRevertError) return err
    throw err
  }
}
