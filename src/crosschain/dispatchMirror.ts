/** Origin-side writes: SealpostMirrorSender.mirrorDevices / mirrorAnchors, returning the Hyperlane message id. */
import { type Address, type Hex, parseEventLogs } from 'viem'
import { sealpostMirrorSenderAbi } from '../../contracts/artifacts/SealpostMirrorSender.js'
import { ChainRequestError } from '../chain/errors.js'
import { sendAndWait, type WriteClient, type WriteResult } from '../chain/sendAndWait.js'
import { mailboxAbi } from './hyperlaneAbi.js'
import { addressToBytes32 } from './message.js'

/**
 * Where a mirror payload goes: the SealpostMirrorSender on the origin, the destination domain and its mirror.
 *
 * @example
 * const route: MirrorRoute = { sender, destination: 31338, mirror }
 */
export type MirrorRoute = { sender: Address; destination: number; mirror: Address }

/**
 * A confirmed dispatch: the write's result, the Hyperlane message id and the dispatched message bytes.
 *
 * @example
 * const { messageId, gasUsed }: MirrorDispatch = await mirrorDevices(walletA, route, devices)
 */
export type MirrorDispatch = WriteResult & { messageId: Hex; message: Hex }

function dispatched(result: WriteResult): MirrorDispatch {
  const [log] = parseEventLogs({ abi: mailboxAbi, eventName: 'Dispatch', logs: result.receipt.logs })
  if (!log) throw new ChainRequestError({ cause: new Error(`No Dispatch log in ${result.hash}.`) })
  const [id] = parseEventLogs({ abi: mailboxAbi, eventName: 'DispatchId', logs: result.receipt.logs })
  return { ...result, messageId: id!.args.messageId, message: log.args.message }
}

/**
 * Dispatches the current KeyRegistry records of `devices` (one message, the sender reads the records itself).
 * Reverts `UnknownDevice` for a device that is not the named account's.
 *
 * @example
 * const { messageId } = await mirrorDevices(walletA, route, [{ account, deviceId }])
 */
export async function mirrorDevices(
  wallet: WriteClient,
  route: MirrorRoute,
  devices: readonly { account: Address; deviceId: Hex }[],
): Promise<MirrorDispatch> {
  const result = await sendAndWait(
    wallet,
    {
      address: route.sender,
      abi: sealpostMirrorSenderAbi,
      functionName: 'mirrorDevices',
      args: [
        route.destination,
        addressToBytes32(route.mirror),
        devices.map((d) => d.account),
        devices.map((d) => d.deviceId),
      ],
    },
    undefined,
  )
  return dispatched(result)
}

/**
 * Dispatches the MessageAnchor anchors of `anchors` (one message). Reverts `NotAnchored` for one that does not exist.
 *
 * @example
 * const { messageId } = await mirrorAnchors(walletA, route, [{ submitter, root }])
 */
export async function mirrorAnchors(
  wallet: WriteClient,
  route: MirrorRoute,
  anchors: readonly { submitter: Address; root: Hex }[],
): Promise<MirrorDispatch> {
  const result = await sendAndWait(
    wallet,
    {
      address: route.sender,
      abi: sealpostMirrorSenderAbi,
      functionName: 'mirrorAnchors',
      args: [
        route.destination,
        addressToBytes32(route.mirror),
        anchors.map((a) => a.submitter),
        anchors.map((a) => a.root),
      ],
    },
    undefined,
  )
  return dispatched(result)
}
