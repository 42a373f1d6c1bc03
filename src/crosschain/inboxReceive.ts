/**
 * Destination side of `send --via hyperlane`: reads SealpostInbox `EnvelopeReceived` logs for the topics a client
 * follows and hands each envelope's bytes to the client's normal receive path.
 */
import { type Address, type Client, type Hex, hexToBytes } from 'viem'
import { getBlockNumber, getContractEvents, readContract } from 'viem/actions'
import { sealpostInboxAbi } from '../../contracts/artifacts/SealpostInbox.js'
import { withChainErrors } from '../chain/errors.js'
import { BaseError, CodecError, VerificationError } from '../errors.js'
import { InboxDeliveryTimeoutError } from './inboxErrors.js'

/**
 * One envelope a SealpostInbox emitted: its header's topic and id (as the contract read them: unverified), the
 * origin domain, the full envelope bytes, and where the log is.
 *
 * @example
 * const [first]: InboxEnvelope[] = await readInboxEnvelopes(clientB, { inbox, topics: [conversation], fromBlock })
 */
export type InboxEnvelope = {
  topic: Hex
  envelopeId: Hex
  origin: number
  envelope: Uint8Array
  blockNumber: bigint
  transactionHash: Hex
}

/**
 * The `EnvelopeReceived` logs of `inbox` whose topic is one of `topics`, from `fromBlock` to `toBlock` (default: the
 * newest block), in chain order. Nothing in them is verified: hand the bytes to a client.
 *
 * @example
 * const envelopes = await readInboxEnvelopes(clientB, { inbox, topics: [conversation, inboxTopic(deviceId)], fromBlock: 0n })
 */
export async function readInboxEnvelopes(
  client: Client,
  {
    inbox,
    topics,
    fromBlock,
    toBlock,
  }: { inbox: Address; topics: readonly Hex[]; fromBlock: bigint; toBlock?: bigint | undefined },
): Promise<InboxEnvelope[]> {
  if (topics.length === 0) return []
  const logs = await withChainErrors(() =>
    getContractEvents(client, {
      address: inbox,
      abi: sealpostInboxAbi,
      eventName: 'EnvelopeReceived',
      args: { topic: [...topics] },
      fromBlock,
      toBlock: toBlock ?? 'latest',
      strict: true,
    }),
  )
  return logs.map((log) => ({
    topic: log.args.topic,
    envelopeId: log.args.envelopeId,
    origin: log.args.origin,
    envelope: hexToBytes(log.args.envelope),
    blockNumber: log.blockNumber,
    transactionHash: log.transactionHash,
  }))
}

/**
 * What a client made of one envelope from the inbox: accepted (its receive result), a replay of one it already
 * processed (e.g. the same envelope came through the relay first), or rejected by its verification.
 *
 * @example
 * for (const o of await reader.poll()) if (o.status === 'rejected') console.log(o.envelopeId, o.error.code)
 */
export type InboxReceiveOutcome<R> =
  | { status: 'accepted'; envelopeId: Hex; blockNumber: bigint; result: R }
  | { status: 'replayed'; envelopeId: Hex; blockNumber: bigint }
  | { status: 'rejected'; envelopeId: Hex; blockNumber: bigint; error: BaseError }

/**
 * Parameters of an {@link InboxReader}: the destination chain and its inbox, where to start, the topics to follow
 * (asked again on every pass, as conversations are joined) and the client's receive function (e.g.
 * `(bytes) => client.receive(bytes)`: it decodes the envelope and verifies it as one from a relay).
 *
 * @example
 * const p: InboxReaderParameters<ReceiveResult> = { client: clientB, inbox, fromBlock, topics: () => [chat.id], receive: (b) => bob.receive(b) }
 */
export type InboxReaderParameters<R> = {
  client: Client
  inbox: Address
  fromBlock: bigint
  topics: () => readonly Hex[]
  receive: (envelope: Uint8Array) => Promise<R>
}

/**
 * Follows a SealpostInbox for a client: each {@link InboxReader.poll} reads the envelopes delivered since the last
 * pass for the client's topics and passes their bytes to `receive`, in chain order. A replay (`SEALPOST_REPLAY`) and
 * a verification or codec failure are outcomes; anything else (the chain unreachable) propagates and the same blocks
 * are read again next time.
 *
 * @example
 * const reader = new InboxReader({ client: clientB, inbox, fromBlock, topics: () => [chat.id], receive: (b) => bob.receive(b) })
 * const outcomes = await reader.poll()
 */
export class InboxReader<R> {
  private readonly p: InboxReaderParameters<R>
  private next: bigint

  constructor(parameters: InboxReaderParameters<R>) {
    this.p = parameters
    this.next = parameters.fromBlock
  }

  /** The first block not read yet. @example reader.nextBlock */
  get nextBlock(): bigint {
    return this.next
  }

  /** One pass (see the class). @example const outcomes = await reader.poll() */
  async poll(): Promise<InboxReceiveOutcome<R>[]> {
    const head = await withChainErrors(() => getBlockNumber(this.p.client, { cacheTime: 0 }))
    if (head < this.next) return []
    const found = await readInboxEnvelopes(this.p.client, {
      inbox: this.p.inbox,
      topics: this.p.topics(),
      fromBlock: this.next,
      toBlock: head,
    })
    const outcomes: InboxReceiveOutcome<R>[] = []
    for (const { envelope, envelopeId, blockNumber } of found) {
      try {
        outcomes.push({ status: 'accepted', envelopeId, blockNumber, result: await this.p.receive(envelope) })
      } catch (err) {
        if (err instanceof BaseError && err.code === 'SEALPOST_REPLAY')
          outcomes.push({ status: 'replayed', envelopeId, blockNumber })
        else if (err instanceof VerificationError || err instanceof CodecError)
          outcomes.push({ status: 'rejected', envelopeId, blockNumber, error: err })
        else throw err
      }
    }
    this.next = head + 1n
    return outcomes
  }
}

/**
 * Waits until the inbox on the destination recorded the envelope `envelopeId` (`deliveredAt` non-zero) and returns
 * that block; throws {@link InboxDeliveryTimeoutError} after `timeoutMs`.
 *
 * @example
 * const block = await waitForInboxDelivery(clientB, { inbox, envelopeId: sent.id, timeoutMs: 60_000 })
 */
export async function waitForInboxDelivery(
  client: Client,
  {
    inbox,
    envelopeId,
    timeoutMs,
    intervalMs = 250,
  }: { inbox: Address; envelopeId: Hex; timeoutMs: number; intervalMs?: number },
): Promise<bigint> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const block = await withChainErrors(() =>
      readContract(client, {
        address: inbox,
        abi: sealpostInboxAbi,
        functionName: 'deliveredAt',
        args: [envelopeId],
      }),
    )
    if (block !== 0n) return block
    if (Date.now() >= deadline) throw new InboxDeliveryTimeoutError({ envelopeId, inbox, timeoutMs })
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
