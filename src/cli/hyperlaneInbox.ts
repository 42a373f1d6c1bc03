/** `sealpost inbox` on chain B: the envelopes the SealpostInbox of `hyperlane-inbox.json` received for this device, through the client's own checks. */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createPublicClient, type Hex, http } from 'viem'
import { ChainRequestError, RpcUnreachableError } from '../chain/errors.js'
import type { Client, ReceivedMessage } from '../client/Client.js'
import type { ReceiveResult } from '../client/types.js'
import { InboxReader } from '../crosschain/inboxReceive.js'
import { INBOX_ROUTE_FILE, type InboxRoute, readInboxRoute } from '../crosschain/inboxRoute.js'
import type { BaseError } from '../errors.js'
import { inboxTopic } from '../protocol/topics.js'
import type { CliContext } from './context.js'

/**
 * What one pass over chain B's inbox found: messages it delivered first (verified, to print), envelope ids the
 * client already had from the relay (the Hyperlane copy was a replay), and envelopes the client refused.
 *
 * @example const { messages, replayed, rejected }: HyperlaneInboxPass = await follower.poll()
 */
export type HyperlaneInboxPass = {
  messages: ReceivedMessage[]
  replayed: { envelopeId: Hex; blockNumber: bigint }[]
  rejected: { envelopeId: Hex; error: BaseError }[]
}

/**
 * Reads the SealpostInbox on chain B for a client whose deployment is chain A: every envelope for its topics (its
 * direct conversations, its groups and its device inbox) goes through `client.receive`, the checks a relay delivery
 * gets. `viaHyperlane` holds the envelope ids seen on B (lower case), to mark them.
 *
 * @example const f = hyperlaneInboxFollower(client, route); const pass = await f.poll()
 */
export type HyperlaneInboxFollower = {
  route: InboxRoute
  viaHyperlane: Map<string, bigint>
  poll(): Promise<HyperlaneInboxPass>
}

/**
 * The inbox pair record next to the deployment record (`hyperlane-inbox.json`, as `up --chains 2` writes it and
 * `send --via hyperlane` reads it), or undefined when there is none. A malformed record throws
 * `InboxDeploymentFormatError`.
 *
 * @example const route = configuredInboxRoute(ctx) // undefined without `up --chains 2`
 */
export function configuredInboxRoute(ctx: Pick<CliContext, 'deploymentFile'>): InboxRoute | undefined {
  const path = join(dirname(ctx.deploymentFile), INBOX_ROUTE_FILE)
  return existsSync(path) ? readInboxRoute(path) : undefined
}

/**
 * A follower of the inbox on the route's destination chain for `client`, from B's block `fromBlock` (default 0: a
 * local chain's whole history; the client takes what it already processed as a replay).
 *
 * @example const follower = hyperlaneInboxFollower(client, route)
 */
export function hyperlaneInboxFollower(
  client: Client,
  route: InboxRoute,
  fromBlock = 0n,
): HyperlaneInboxFollower {
  const viaHyperlane = new Map<string, bigint>()
  const reader = new InboxReader<ReceiveResult>({
    client: createPublicClient({ transport: http(route.destination.rpcUrl, { retryCount: 1 }) }),
    inbox: route.destination.inbox,
    fromBlock,
    topics: () => [
      inboxTopic(client.deviceId),
      ...client.conversations.list().map((c) => c.id),
      ...client.groups.list().map((g) => g.id),
    ],
    receive: (bytes) => client.receive(bytes),
  })
  return {
    route,
    viaHyperlane,
    async poll() {
      const pass: HyperlaneInboxPass = { messages: [], replayed: [], rejected: [] }
      for (const o of await reader.poll()) {
        viaHyperlane.set(o.envelopeId.toLowerCase(), o.blockNumber)
        if (o.status === 'accepted') {
          if (o.result.type === 'message') pass.messages.push(o.result.message)
        } else if (o.status === 'replayed') {
          pass.replayed.push({ envelopeId: o.envelopeId, blockNumber: o.blockNumber })
        } else {
          pass.rejected.push({ envelopeId: o.envelopeId, error: o.error })
        }
      }
      return pass
    },
  }
}

/**
 * Whether `err` is chain B being unreachable or failing a request: `sealpost inbox` warns and goes on with the
 * relay's messages.
 *
 * @example if (isChainUnavailable(err)) ctx.out.info(`! chain B's inbox not read: ${formatError(err)}`)
 */
export function isChainUnavailable(err: unknown): boolean {
  return err instanceof RpcUnreachableError || err instanceof ChainRequestError
}
