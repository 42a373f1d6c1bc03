/** `send --via hyperlane`: the sealed envelope through the SealpostInbox pair, dispatch → signatures → delivery. */
import type { Client } from 'viem'
import { directoryCheckpointStore } from '../crosschain/checkpointStore.js'
import { InboxDeliveryTimeoutError, InboxDeploymentMissingError } from '../crosschain/inboxErrors.js'
import { waitForInboxDelivery } from '../crosschain/inboxReceive.js'
import { checkInboxRoute, type InboxRoute, readInboxRoute } from '../crosschain/inboxRoute.js'
import { sendEnvelopeViaHyperlane } from '../crosschain/inboxSend.js'
import { type Envelope, encodeEnvelope } from '../protocol/envelope.js'
import { type CliContext, publicFor, walletFor } from './context.js'

/**
 * A checked inbox route: the record, where it was read from, and a client of each chain.
 *
 * @example const checked: CheckedHyperlaneRoute = await checkHyperlaneRoute(ctx, path)
 */
export type CheckedHyperlaneRoute = { route: InboxRoute; path: string; origin: Client; destination: Client }

/**
 * Reads the inbox record at `path` and checks that its origin is the deployment's chain and that both inboxes exist
 * and enroll each other. Throws `InboxDeploymentMissingError` (no record, no inbox on the second chain, not
 * enrolled, another origin chain) or `InboxDeploymentFormatError`.
 *
 * @example const checked = await checkHyperlaneRoute(ctx, join(home, 'hyperlane-inbox.json'))
 */
export async function checkHyperlaneRoute(ctx: CliContext, path: string): Promise<CheckedHyperlaneRoute> {
  const route = readInboxRoute(path)
  const deployment = await ctx.deployment()
  if (route.origin.domain !== deployment.chainId)
    throw new InboxDeploymentMissingError({
      path,
      reason: `the record's origin is domain ${route.origin.domain}, the deployment's chain is ${deployment.chainId}`,
    })
  const origin = publicFor(route.origin.rpcUrl)
  const destination = publicFor(route.destination.rpcUrl)
  await checkInboxRoute(route, { origin, destination }, path)
  return { route, path, origin, destination }
}

/**
 * What `send --via hyperlane` reports: the Hyperlane message id, the dispatch transaction and its gas on the origin,
 * the envelope size, the validators seen signing, and the destination block that recorded the envelope.
 *
 * @example const { messageId, gasUsed }: HyperlaneSendReport = await sendViaHyperlane(ctx, checked, envelope, 60_000)
 */
export type HyperlaneSendReport = {
  messageId: string
  dispatchTx: string
  gasUsed: string
  envelopeBytes: number
  origin: number
  destination: number
  signatures: number | null
  deliveredAt: string
}

/**
 * Dispatches `envelope` from the origin inbox (paid by the account key), waits for `threshold` validator checkpoints
 * in the record's store directories (skipped when it lists none), then for the destination inbox to record it,
 * printing each step. Throws `InboxDeliveryTimeoutError` after `timeoutMs`.
 *
 * @example const report = await sendViaHyperlane(ctx, checked, sent.envelope, 120_000)
 */
export async function sendViaHyperlane(
  ctx: CliContext,
  { route, destination }: CheckedHyperlaneRoute,
  envelope: Envelope,
  timeoutMs: number,
): Promise<HyperlaneSendReport> {
  const deadline = Date.now() + timeoutMs
  const bytes = encodeEnvelope(envelope)
  let done = ctx.out.step(
    `Dispatching the sealed envelope (${bytes.length} bytes) through Hyperlane, chain ${route.origin.domain} → ${route.destination.domain}`,
  )
  const wallet = walletFor(await ctx.account(), route.origin.rpcUrl)
  const dispatch = await sendEnvelopeViaHyperlane(wallet, {
    inbox: route.origin.inbox,
    destination: route.destination.domain,
    envelope: bytes,
  })
  done(`message ${dispatch.messageId}, gas ${dispatch.gasUsed} on chain ${route.origin.domain}`)
  const timedOut = () =>
    new InboxDeliveryTimeoutError({ envelopeId: envelope.id, inbox: route.destination.inbox, timeoutMs })
  let signatures: number | null = null
  if (route.validatorStores.length > 0) {
    done = ctx.out.step(
      `Waiting for validator signatures (${route.threshold} of ${route.validatorStores.length})`,
    )
    const stores = route.validatorStores.map((dir) => directoryCheckpointStore(dir))
    for (;;) {
      signatures = stores.filter((s) => s.get(dispatch.messageId) !== undefined).length
      if (signatures >= route.threshold) break
      if (Date.now() >= deadline) throw timedOut()
      await new Promise((r) => setTimeout(r, 250))
    }
    done(`${signatures} checkpoint${signatures === 1 ? '' : 's'} signed`)
  }
  done = ctx.out.step(`Waiting for delivery to the inbox on chain ${route.destination.domain}`)
  const block = await waitForInboxDelivery(destination, {
    inbox: route.destination.inbox,
    envelopeId: envelope.id,
    timeoutMs: Math.max(0, deadline - Date.now()),
  })
  done(`recorded in block ${block}`)
  return {
    messageId: dispatch.messageId,
    dispatchTx: dispatch.hash,
    gasUsed: dispatch.gasUsed.toString(),
    envelopeBytes: bytes.length,
    origin: route.origin.domain,
    destination: route.destination.domain,
    signatures,
    deliveredAt: block.toString(),
  }
}
