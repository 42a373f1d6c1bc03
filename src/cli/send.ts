/** `sealpost send <peer> <text>`: seal, sign and send one message; follow it to the state asked for. */
import { parseArgs } from 'node:util'
import { getAddress, type Hex, isAddress } from 'viem'
import type { Client } from '../client/Client.js'
import { UsageError } from '../errors.js'
import type { MessageState } from '../store/deviceStore.js'
import type { CliContext } from './context.js'
import { openLiveClient, resolveRelay } from './session.js'

const order: MessageState[] = ['queued', 'accepted', 'delivered', 'anchored', 'final']

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
    throw new UsageError('Usage: sealpost send <peer address> <text>', {
      code: 'SEALPOST_BAD_ARGUMENT',
      name: 'ArgumentError',
    })
  const target = values.wait as MessageState
  if (!order.includes(target))
    throw new UsageError(`--wait must be one of ${order.join(', ')}.`, {
      code: 'SEALPOST_BAD_ARGUMENT',
      name: 'ArgumentError',
    })
  const client = await openLiveClient(ctx, { device: values.device, relay: resolveRelay(values.relay) })
  try {
    const opened = ctx.out.step(`Opening the conversation with ${getAddress(peer)}`)
    const conversation = await client.conversations.open(getAddress(peer))
    opened(conversation.id)
    const sending = ctx.out.step('Sending (sealed with MLS, statement signed with the device key)')
    const sent = await conversation.send(text)
    sending(`accepted by the relay as #${sent.cursor}`)
    let state: MessageState = client.store.getMessage(sent.id)?.state ?? 'accepted'
    while (order.indexOf(state) < order.indexOf(target)) {
      const next = order[order.indexOf(state) + 1] as MessageState
      const step = ctx.out.step(`Waiting until the message is ${next}`)
      state = await waitForState(client, sent.id, order.indexOf(state) + 1, Number(values.timeout) * 1000)
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

/** Resolves with the message's state once its rank is at least `rank`; rejects with a timeout error. */
function waitForState(client: Client, id: Hex, rank: number, timeoutMs: number): Promise<MessageState> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const state = client.store.getMessage(id)?.state
      if (state && order.indexOf(state) >= rank) {
        cleanup()
        resolve(state)
      }
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(
        new UsageError(`The message did not become ${order[rank]} in time.`, {
          code: 'SEALPOST_TIMEOUT',
          name: 'TimeoutError',
          metaMessages: [`Last state: ${client.store.getMessage(id)?.state}`],
        }),
      )
    }, timeoutMs)
    const cleanup = () => {
      clearTimeout(timer)
      client.events.off('state', check)
    }
    client.events.on('state', check)
    check()
  })
}
