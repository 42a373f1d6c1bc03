/**
 * `sealpost send <peer> <text>` (or `--group NAME|ID <text>`): seal, sign and send one message; follow it to the state
 * asked for; with `--via hyperlane` also carry the sealed envelope through the SealpostInbox pair to the second chain.
 */
import { dirname, join } from 'node:path'
import type { Address, Hex } from 'viem'
import type { Client, SentMessage } from '../client/Client.js'
import { MessageStateTimeoutError } from '../client/errors.js'
import type { Group } from '../client/group.js'
import { readAccountAddress } from '../client/identity.js'
import { INBOX_ROUTE_FILE } from '../crosschain/inboxRoute.js'
import { isAtLeast, type MessageState, OUTGOING_STATES } from '../protocol/messageState.js'
import { configuredChains, parseAddressArg } from './address.js'
import { sendSpec } from './commands.js'
import type { CliContext } from './context.js'
import { ArgumentError, SelfMessageError, TimeoutError } from './errors.js'
import { resolveGroup } from './groupArgs.js'
import { parseCommandArgs } from './options.js'
import { checkHyperlaneRoute, sendViaHyperlane } from './sendViaHyperlane.js'
import { openLiveClient, resolveRelays } from './session.js'

/**
 * Sends `text` to `peer` (or to the --group) and waits until the message reaches `--wait` (accepted, delivered, anchored or final),
 * printing each state on the way in order.
 *
 * @example await sendCommand(ctx, ['0xBob…', 'hello', '--wait', 'anchored'])
 */
export async function sendCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(sendSpec, argv)
  const groupArg = values.group
  const [peerArg, ...words] = groupArg === undefined ? positionals : [undefined, ...positionals]
  const text = words.join(' ')
  if (groupArg !== undefined && text.length === 0)
    throw new ArgumentError('Name a text to send to the group.', {
      metaMessages: ['Usage: sealpost send --group NAME|ID TEXT…'],
    })
  if (groupArg === undefined && (peerArg === undefined || text.length === 0))
    throw new ArgumentError('Name a peer and a text.', { metaMessages: ['Usage: sealpost send PEER TEXT…'] })
  const peer = peerArg === undefined ? undefined : parseAddressArg(peerArg, 'PEER', configuredChains(ctx))
  const target = values.wait
  if (!isOutgoingState(target) || !isAtLeast(target, 'accepted'))
    throw new ArgumentError(`--wait must be one of ${OUTGOING_STATES.slice(1).join(', ')}.`)
  const seconds = Number(values.timeout)
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new ArgumentError('--timeout must be a positive number of seconds.')
  if (peer !== undefined && ownAccount(ctx.home) === peer) throw new SelfMessageError({ account: peer })
  if (values.via !== 'relay' && values.via !== 'hyperlane')
    throw new ArgumentError('--via must be relay or hyperlane.')
  const timeoutMs = seconds * 1000
  // Checked before anything is sent: a missing second-chain deployment is a typed error, not a half-sent message.
  const hyperlane =
    values.via === 'hyperlane'
      ? await checkHyperlaneRoute(
          ctx,
          values.hyperlane ?? join(dirname(ctx.deploymentFile), INBOX_ROUTE_FILE),
        )
      : undefined
  const client = await openLiveClient(ctx, { device: values.device, relay: resolveRelays(values.relay) })
  try {
    const conversation =
      peer === undefined
        ? await openGroup(ctx, client, groupArg as string)
        : await openPeer(ctx, client, peer)
    const sending = ctx.out.step('Sending (sealed with MLS, statement signed with the device key)')
    const sent = await conversation.send(text)
    sending(`accepted by the relay as #${sent.cursor}`)
    const crossed = hyperlane && (await sendViaHyperlane(ctx, hyperlane, sent.envelope, timeoutMs))
    let state: MessageState = client.messages.get(sent.id)?.state ?? 'accepted'
    // One line per state after `accepted`, in order, up to the target (a state already passed ends at once).
    for (const next of OUTGOING_STATES.filter((s) => !isAtLeast('accepted', s) && isAtLeast(target, s))) {
      const step = ctx.out.step(`Waiting until the message is ${next}`)
      if (!isAtLeast(state, next))
        state = await client.waitForState(sent.id, next, { timeoutMs }).catch((err) => {
          if (!(err instanceof MessageStateTimeoutError)) throw err
          throw new TimeoutError({
            what: `The message did not become ${next} in time.`,
            last: err.lastState,
            cause: err,
          })
        })
      step()
    }
    ctx.out.info(`message  ${sent.id}`)
    ctx.out.info(`leaf     ${sent.leaf}`)
    ctx.out.info(`state    ${state}`)
    const delivery = conversation.group?.delivery(sent.id)
    if (delivery && isAtLeast(target, 'delivered'))
      ctx.out.info(
        `receipts signed by ${delivery.delivered.length} of ${delivery.members.length} members so far`,
      )
    ctx.out.result({
      ok: true,
      id: sent.id,
      leaf: sent.leaf,
      conversation: conversation.id,
      ...(conversation.group && { group: conversation.group.info().name }),
      state,
      ...(delivery && { receipts: { delivered: delivery.delivered, members: delivery.members } }),
      ...(crossed && { hyperlane: crossed }),
    })
  } finally {
    await client.close()
  }
}

/** Something to send to: a 1:1 conversation, or a group (then with its handle, for its delivery receipts). */
type Target = { id: Hex; send(text: string): Promise<SentMessage>; group?: Group }

async function openPeer(ctx: CliContext, client: Client, peer: Address): Promise<Target> {
  const opened = ctx.out.step(`Opening the conversation with ${peer}`)
  const conversation = await client.conversations.open(peer)
  opened(conversation.id)
  return conversation
}

/** Catches up first: a group this device was added to arrives as a Welcome. */
async function openGroup(ctx: CliContext, client: Client, groupArg: string): Promise<Target> {
  const opened = ctx.out.step(`Opening the group ${groupArg}`)
  await client.sync()
  const group = resolveGroup(client, groupArg)
  const { name, members, epoch } = group.info()
  opened(`"${name}", ${members.length} members, epoch ${epoch}`)
  return { id: group.id, send: (text) => group.send(text), group }
}

/** The account under --home, if there is one (a missing identity is reported when the client opens). */
function ownAccount(home: string): string | undefined {
  try {
    return readAccountAddress(home)
  } catch {
    return undefined
  }
}

const isOutgoingState = (value: string): value is MessageState =>
  (OUTGOING_STATES as readonly string[]).includes(value)
