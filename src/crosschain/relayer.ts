/**
 * A Hyperlane relayer in TypeScript: finds messages dispatched on the origin for the destination, collects a quorum
 * of validator signatures ordered as MessageIdMultisigIsm requires, and calls Mailbox.process on the destination.
 */
import { type Address, type Client, getAddress, type Hex, isAddressEqual } from 'viem'
import { getBlockNumber, getContractEvents, readContract } from 'viem/actions'
import { sealpostInboxAbi } from '../../contracts/artifacts/SealpostInbox.js'
import { sealpostMirrorAbi } from '../../contracts/artifacts/SealpostMirror.js'
import { ContractRevertError, withChainErrors } from '../chain/errors.js'
import { sendAndWait, type WriteClient } from '../chain/sendAndWait.js'
import {
  type Checkpoint,
  checkpointDigest,
  checkpointSigner,
  encodeMessageIdMultisigMetadata,
} from './checkpoint.js'
import type { CheckpointStore } from './checkpointStore.js'
import { QuorumNotReachedError } from './errors.js'
import { mailboxAbi, multisigIsmAbi } from './hyperlaneAbi.js'
import { decodeHyperlaneMessage, hyperlaneMessageId } from './message.js'
import { PollLoop } from './pollLoop.js'

/**
 * A quorum ready to submit: the checkpoint the signers agree on and `threshold` signatures in validator order.
 *
 * @example
 * const { checkpoint, signatures, signers }: Quorum = await collectQuorum(client, { mailbox, message, stores })
 */
export type Quorum = { checkpoint: Checkpoint; signatures: Hex[]; signers: Address[]; threshold: number }

/**
 * Reads the recipient's ISM on the destination (its validator list and threshold for this message), recovers the
 * signer of every signature the stores hold for the message, keeps those of listed validators over a checkpoint of
 * this very message (id and origin), and returns `threshold` of them over one checkpoint, ordered by the validators'
 * positions in the list (AbstractMultisigIsm.verify walks the list once). Throws {@link QuorumNotReachedError}
 * below the threshold, before anything is submitted.
 *
 * @example
 * const quorum = await collectQuorum(clientB, { mailbox: coreB.mailbox, message, stores })
 */
export async function collectQuorum(
  client: Client,
  { mailbox, message, stores }: { mailbox: Address; message: Hex; stores: readonly CheckpointStore[] },
): Promise<Quorum> {
  const decoded = decodeHyperlaneMessage(message)
  const messageId = hyperlaneMessageId(message)
  const recipient = getAddress(`0x${decoded.recipient.slice(-40)}`)
  const ism = await withChainErrors(() =>
    readContract(client, {
      address: mailbox,
      abi: mailboxAbi,
      functionName: 'recipientIsm',
      args: [recipient],
    }),
  )
  const [validators, threshold] = await withChainErrors(() =>
    readContract(client, {
      address: ism,
      abi: multisigIsmAbi,
      functionName: 'validatorsAndThreshold',
      args: [message],
    }),
  )
  // digest -> (validator position -> signature)
  const groups = new Map<Hex, { checkpoint: Checkpoint; byPosition: Map<number, Hex> }>()
  for (const store of stores) {
    const signed = store.get(messageId)
    if (!signed || signed.checkpoint.messageId.toLowerCase() !== messageId) continue
    if (signed.checkpoint.origin !== decoded.origin) continue
    let signer: Address
    try {
      signer = await checkpointSigner(signed)
    } catch {
      continue // malformed signature
    }
    const position = validators.findIndex((v) => isAddressEqual(v, signer))
    if (position < 0) continue // not a validator of this ISM
    const digest = checkpointDigest(signed.checkpoint)
    const group = groups.get(digest) ?? { checkpoint: signed.checkpoint, byPosition: new Map() }
    group.byPosition.set(position, signed.signature)
    groups.set(digest, group)
  }
  let best: { checkpoint: Checkpoint; byPosition: Map<number, Hex> } | undefined
  for (const group of groups.values()) {
    if (!best || group.byPosition.size > best.byPosition.size) best = group
  }
  const have = best?.byPosition.size ?? 0
  if (!best || have < threshold) throw new QuorumNotReachedError({ messageId, have, threshold })
  const positions = [...best.byPosition.keys()].sort((a, b) => a - b).slice(0, threshold)
  return {
    checkpoint: best.checkpoint,
    signatures: positions.map((p) => best.byPosition.get(p)!),
    signers: positions.map((p) => validators[p]!),
    threshold,
  }
}

/** The custom errors of Sealpost's two recipients, SealpostMirror and SealpostInbox, each signature once. */
const recipientErrors = (() => {
  const errors = [...sealpostMirrorAbi, ...sealpostInboxAbi].filter((item) => item.type === 'error')
  const signature = (e: (typeof errors)[number]) => `${e.name}(${e.inputs.map((i) => i.type).join(',')})`
  return errors.filter((e, i) => errors.findIndex((f) => signature(f) === signature(e)) === i)
})()

/**
 * Mailbox ABI plus the recipients' custom errors, so a refusal by the mirror (`UnexpectedSender`, …) or the inbox
 * (`EnvelopeReplayed`, `MalformedEnvelope`, …) decodes by name.
 */
const processAbi = [...mailboxAbi, ...recipientErrors] as const

/**
 * Submits `Mailbox.process(metadata, message)` on the destination and waits for it. Reverts surface as
 * `ContractRevertError` (`errorName` `Error` with the Mailbox's reason, or the custom error of a SealpostMirror or
 * SealpostInbox recipient).
 *
 * @example
 * await processMessage(walletB, { mailbox, metadata, message })
 */
export function processMessage(
  wallet: WriteClient,
  { mailbox, metadata, message }: { mailbox: Address; metadata: Hex; message: Hex },
) {
  return sendAndWait(
    wallet,
    { address: mailbox, abi: processAbi, functionName: 'process', args: [metadata, message] },
    undefined,
  )
}

/**
 * Parameters of a {@link Relayer}.
 *
 * @example
 * const p: RelayerParameters = { origin: { client: clientA, mailbox: coreA.mailbox, fromBlock: 0n }, destination: { client: clientB, wallet: walletB, mailbox: coreB.mailbox, domain: 31338 }, stores }
 */
export type RelayerParameters = {
  origin: { client: Client; mailbox: Address; fromBlock: bigint }
  destination: { client: Client; wallet: WriteClient; mailbox: Address; domain: number }
  /** One checkpoint store per validator the relayer reads. */
  stores: readonly CheckpointStore[]
}

/**
 * What happened to one message in a {@link Relayer.poll} pass.
 *
 * @example
 * for (const r of await relayer.poll()) if (r.status === 'waiting') console.log(r.messageId, r.error.shortMessage)
 */
export type RelayOutcome =
  | { status: 'delivered'; messageId: Hex; hash: Hex; gasUsed: bigint }
  | { status: 'waiting'; messageId: Hex; error: QuorumNotReachedError }
  | { status: 'refused'; messageId: Hex; error: ContractRevertError }

/**
 * A relayer for one (origin, destination) pair: {@link Relayer.poll} reads new Dispatch logs for the destination,
 * and tries every undelivered message: with a quorum it processes it, without one it keeps it pending (mirroring
 * stalls) and tries again on the next pass. A message already delivered (by anyone) is dropped, and so is one whose
 * delivery reverts (`refused`: the ISM or the recipient refuses it, e.g. a mirror refusing an unexpected sender), so
 * one poisoned message does not hold up the others.
 *
 * @example
 * const relayer = new Relayer({ origin, destination, stores })
 * const outcomes = await relayer.poll()
 */
export class Relayer {
  private readonly p: RelayerParameters
  private next: bigint
  private readonly pending = new Map<Hex, Hex>()
  private loop: PollLoop<RelayOutcome[]> | undefined
  private readonly counts = { delivered: 0, refused: 0 }

  constructor(parameters: RelayerParameters) {
    this.p = parameters
    this.next = parameters.origin.fromBlock
  }

  /** Message ids seen and not delivered yet, in dispatch order. @example relayer.pendingIds */
  get pendingIds(): Hex[] {
    return [...this.pending.keys()]
  }

  /**
   * Messages delivered and refused by this relayer so far, and the ones pending (seen, not delivered yet).
   *
   * @example
   * const { delivered, pending } = relayer.stats()
   */
  stats(): { delivered: number; refused: number; pending: number } {
    return { ...this.counts, pending: this.pending.size }
  }

  /**
   * Polls every `intervalMs` until {@link Relayer.stop}: each pass's outcomes go to `onOutcomes`, a failed pass (an
   * RPC down, say) to `onError`, and the next pass retries.
   *
   * @example
   * relayer.start(500, { onOutcomes: (o) => console.log(o), onError: (e) => console.error(e) })
   */
  start(
    intervalMs: number,
    {
      onOutcomes,
      onError,
    }: {
      onOutcomes?: ((outcomes: RelayOutcome[]) => void) | undefined
      onError?: ((err: unknown) => void) | undefined
    } = {},
  ): void {
    if (this.loop?.active) return
    this.loop = new PollLoop(() => this.poll(), intervalMs, onError, onOutcomes)
    this.loop.start()
  }

  /** Stops polling and waits for a pass in progress. @example await relayer.stop() */
  async stop(): Promise<void> {
    await this.loop?.stop()
  }

  /**
   * One pass (see the class). Other errors (RPC, an unexpected revert) propagate; the message stays pending.
   *
   * @example
   * const outcomes = await relayer.poll()
   */
  async poll(): Promise<RelayOutcome[]> {
    const { origin, destination } = this.p
    const head = await withChainErrors(() => getBlockNumber(origin.client, { cacheTime: 0 }))
    if (head >= this.next) {
      const logs = await withChainErrors(() =>
        getContractEvents(origin.client, {
          address: origin.mailbox,
          abi: mailboxAbi,
          eventName: 'Dispatch',
          args: { destination: destination.domain },
          fromBlock: this.next,
          toBlock: head,
          strict: true,
        }),
      )
      for (const log of logs) this.pending.set(hyperlaneMessageId(log.args.message), log.args.message)
      this.next = head + 1n
    }
    const outcomes: RelayOutcome[] = []
    for (const [messageId, message] of [...this.pending]) {
      const done = await withChainErrors(() =>
        readContract(destination.client, {
          address: destination.mailbox,
          abi: mailboxAbi,
          functionName: 'delivered',
          args: [messageId],
        }),
      )
      if (done) {
        this.pending.delete(messageId)
        continue
      }
      let quorum: Quorum
      try {
        quorum = await collectQuorum(destination.client, {
          mailbox: destination.mailbox,
          message,
          stores: this.p.stores,
        })
      } catch (e) {
        if (e instanceof QuorumNotReachedError) {
          outcomes.push({ status: 'waiting', messageId, error: e })
          continue
        }
        throw e
      }
      const metadata = encodeMessageIdMultisigMetadata(quorum)
      try {
        const { hash, gasUsed } = await processMessage(destination.wallet, {
          mailbox: destination.mailbox,
          metadata,
          message,
        })
        outcomes.push({ status: 'delivered', messageId, hash, gasUsed })
        this.counts.delivered++
      } catch (e) {
        if (!(e instanceof ContractRevertError)) throw e
        outcomes.push({ status: 'refused', messageId, error: e })
        this.counts.refused++
      }
      this.pending.delete(messageId)
    }
    return outcomes
  }
}
