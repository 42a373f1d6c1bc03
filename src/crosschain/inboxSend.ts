/** Origin side of `send --via hyperlane`: SealpostInbox.send dispatches an envelope's bytes through the Mailbox. */
import { type Address, bytesToHex, type Hex, parseEventLogs } from 'viem'
import { sealpostInboxAbi } from '../../contracts/artifacts/SealpostInbox.js'
import { ChainRequestError } from '../chain/errors.js'
import { sendAndWait, type WriteClient, type WriteResult } from '../chain/sendAndWait.js'
import { mailboxAbi } from './hyperlaneAbi.js'

/**
 * A confirmed envelope dispatch: the write's result (gas included), the Hyperlane message id and message bytes.
 *
 * @example
 * const { messageId, gasUsed }: InboxDispatch = await sendEnvelopeViaHyperlane(walletA, { inbox, destination: 31338, envelope })
 */
export type InboxDispatch = WriteResult & { messageId: Hex; message: Hex }

/** The inbox's ABI with the Mailbox's events, so a Dispatch log of the receipt decodes. */
const sendAbi = [...sealpostInboxAbi, ...mailboxAbi.filter((item) => item.type === 'event')] as const

/**
 * Dispatches `envelope` (envelope v1 bytes, exactly as a relay would carry them) from the SealpostInbox `inbox` on
 * the wallet's chain to the inbox it enrolled for `destination`. Reverts surface as `ContractRevertError`
 * (`UnknownDestination`, `MalformedEnvelope`).
 *
 * @example
 * const { messageId } = await sendEnvelopeViaHyperlane(walletA, { inbox: pair.a.inbox, destination: 31338, envelope: encodeEnvelope(sent.envelope) })
 */
export async function sendEnvelopeViaHyperlane(
  wallet: WriteClient,
  { inbox, destination, envelope }: { inbox: Address; destination: number; envelope: Uint8Array },
): Promise<InboxDispatch> {
  const result = await sendAndWait(
    wallet,
    { address: inbox, abi: sendAbi, functionName: 'send', args: [destination, bytesToHex(envelope)] },
    undefined,
  )
  const [log] = parseEventLogs({ abi: mailboxAbi, eventName: 'Dispatch', logs: result.receipt.logs })
  const [id] = parseEventLogs({ abi: mailboxAbi, eventName: 'DispatchId', logs: result.receipt.logs })
  if (!log || !id) throw new ChainRequestError({ cause: new Error(`No Dispatch log in ${result.hash}.`) })
  return { ...result, messageId: id.args.messageId, message: log.args.message }
}
