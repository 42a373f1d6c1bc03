/** `sealpost send <peer> <text>`: seal, sign and send one message; follow it to the state asked for. */
import { parseArgs } from 'node:util'
import { getAddress, isAddress } from 'viem'
import { MessageStateTimeoutError } from '../client/errors.js'
import { isAtLeast, type MessageState, OUTGOING_STATES } from '../protocol/messageState.js'
import type { CliContext } from './context.js'
import { ArgumentError, TimeoutError } from './errors.js'
import { openLiveClient, resolveRelay } from './session.js'

/**
 * Sends `text` to `peer` and waits until the message reaches `--wait` (accepted, delivered, anchored or final).
 *
 * @example await sendCommand(ctx, ['0xBob…', 'hello', '--wait', 'anchored'])
 */
export async function sendCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      relay: { type: 'string' },
      device: { type: 'string', default: 'default' },
      wait: { type: 'string', default: 'accepted' },
      timeout: { type: 'string', default: '120' },
    },
  })
  const [peer, ...words] = positionals
  const text = words.join(' ')
  if (!peer || !isAddress(peer) || text.length === 0)
    throw new ArgumentError('Usage: sealpost send <peer address> <text>')
  const target = values.wait
  if (!isOutgoingState(target))
    throw new ArgumentError(`--wait must be one of ${OUTGOING_STATES.join(', ')}.`)
  const timeoutMs = Number(values.timeout) * 1000
  const client = await openLiveClient(ctx, { device: values.device, relay: resolveRelay(values.relay) })
  try {
    const opened = ctx.out.step(`Opening the conversation with ${getAddress(peer)}`)
    const conversation = await client.conversations.open(getAddress(peer))
    opened(conversation.id)
    const sending = ctx.out.step('Sending (sealed with MLS, statement signed with the device key)')
    const sent = await conversation.send(text)
    sending(`accepted by the relay as #${sent.cursor}`)
    let state: MessageState = client.messages.get(sent.id)?.state ?? 'accepted'
    while (!isAtLeast(state, target)) {
      const next = OUTGOING_STATES.find((s) => !isAtLeast(state, s)) ?? target
      const step = ctx.out.step(`Waiting until the message is ${next}`)
      state = await client.waitForState(sent.id, next, { timeoutMs }).catch((err) => {
        if (!(err instanceof MessageStateTimeoutError)) throw err
        throw new TimeoutError({
          what: `The message did not become ${next} in time.`,
          last: err.lastState,
          cause: err,
        })
      })
      step(state)
    }
    ctx.out.info(`message  ${sent.id}`)
    ctx.out.info(`leaf     ${sent.leaf}`)
    ctx.out.info(`state    ${state}`)
    ctx.out.result({ ok: true, id: sent.id, leaf: sent.leaf, conversation: conversation.id, state })
  } finally {
    await client.close()
  }
}

const isOutgoingState = (value: string): value is MessageState =>
  (OUTGOING_STATES as readonly string[]).includes(value)
