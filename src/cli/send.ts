/** `sealpost send <peer> <text>`: seal, sign and send one message; follow it to the state asked for. */
import { MessageStateTimeoutError } from '../client/errors.js'
import { readAccountAddress } from '../client/identity.js'
import { isAtLeast, type MessageState, OUTGOING_STATES } from '../protocol/messageState.js'
import { parseAddressArg } from './address.js'
import { sendSpec } from './commands.js'
import type { CliContext } from './context.js'
import { ArgumentError, SelfMessageError, TimeoutError } from './errors.js'
import { parseCommandArgs } from './options.js'
import { openLiveClient, resolveRelay } from './session.js'

/**
 * Sends `text` to `peer` and waits until the message reaches `--wait` (accepted, delivered, anchored or final),
 * printing each state on the way in order.
 *
 * @example await sendCommand(ctx, ['0xBob…', 'hello', '--wait', 'anchored'])
 */
export async function sendCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(sendSpec, argv)
  const [peerArg, ...words] = positionals
  const text = words.join(' ')
  if (peerArg === undefined || text.length === 0)
    throw new ArgumentError('Name a peer and a text.', { metaMessages: ['Usage: sealpost send PEER TEXT…'] })
  const peer = parseAddressArg(peerArg, 'PEER')
  const target = values.wait
  if (!isOutgoingState(target) || !isAtLeast(target, 'accepted'))
    throw new ArgumentError(`--wait must be one of ${OUTGOING_STATES.slice(1).join(', ')}.`)
  const seconds = Number(values.timeout)
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new ArgumentError('--timeout must be a positive number of seconds.')
  if (ownAccount(ctx.home) === peer) throw new SelfMessageError({ account: peer })
  const timeoutMs = seconds * 1000
  const client = await openLiveClient(ctx, { device: values.device, relay: resolveRelay(values.relay) })
  try {
    const opened = ctx.out.step(`Opening the conversation with ${peer}`)
    const conversation = await client.conversations.open(peer)
    opened(conversation.id)
    const sending = ctx.out.step('Sending (sealed with MLS, statement signed with the device key)')
    const sent = await conversation.send(text)
    sending(`accepted by the relay as #${sent.cursor}`)
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
    ctx.out.result({ ok: true, id: sent.id, leaf: sent.leaf, conversation: conversation.id, state })
  } finally {
    await client.close()
  }
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
