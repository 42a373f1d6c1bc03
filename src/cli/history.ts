/** `sealpost history send --to-device 0xID [--conversation 0xC,…]`: this device's past conversations, sealed to a new device of the account. */
import type { Hex } from 'viem'
import { historySendSpec } from './commands.js'
import { type CliContext, parseBytes32 } from './context.js'
import { ArgumentError } from './errors.js'
import { parseCommandArgs } from './options.js'
import { openLiveClient, resolveRelays } from './session.js'

/**
 * Runs `history send`: seals this device's log export of the chosen conversations (default all) with their messages to
 * the new device's key package and publishes it to that device's inbox, which verifies and imports it by itself
 * (protocol §12.8, docs/key-management.md §5).
 *
 * @example await historyCommand(ctx, ['send', '--to-device', laptopId, '--wait', '60'])
 */
export async function historyCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv
  if (sub !== 'send')
    throw new ArgumentError(`Unknown command "history ${sub ?? ''}".`, {
      metaMessages: ['Run `sealpost history --help` for its commands.'],
    })
  const { values } = parseCommandArgs(historySendSpec, rest)
  if (values['to-device'] === undefined)
    throw new ArgumentError('Name the new device.', {
      metaMessages: ['Usage: sealpost history send --to-device 0xDEVICEID [--conversation 0xID[,0xID…]]'],
    })
  const toDevice = parseBytes32(values['to-device'], 'The device id')
  const conversations = parseConversations(values.conversation)
  const wait = Number(values.wait)
  if (!Number.isFinite(wait) || wait < 0)
    throw new ArgumentError('--wait must be a number of seconds, 0 or more.')
  const client = await openLiveClient(ctx, { device: values.device, relay: resolveRelays(values.relay) })
  try {
    const sending = ctx.out.step(`Sealing the history to device ${toDevice.slice(0, 10)}…`)
    const sent = await client.history.send({ toDevice, conversations, waitForKeyPackageMs: wait * 1000 })
    sending(
      sent.chunks === 0
        ? 'the log is empty: nothing sent'
        : `${sent.messages} messages, ${sent.bytes} bytes in ${sent.chunks} chunk${sent.chunks === 1 ? '' : 's'}`,
    )
    ctx.out.info(`archive  ${sent.archiveId}`)
    ctx.out.result({ ok: true, ...sent, toDevice })
  } finally {
    await client.close()
  }
}

function parseConversations(value: string | undefined): Hex[] | undefined {
  if (value === undefined) return undefined
  return value.split(',').map((id) => parseBytes32(id.trim(), 'A conversation id'))
}
