/** `sealpost inbox [--follow]`: everything that arrived while away, then (with --follow) live messages. */
import { parseArgs } from 'node:util'
import type { ReceivedMessage } from '../client/Client.js'
import type { CliContext } from './context.js'
import { openLiveClient, resolveRelay } from './session.js'
import { untilSignal } from './signals.js'

/**
 * Prints received messages with their verification verdicts; `--follow` keeps streaming until Ctrl-C.
 *
 * @example await inboxCommand(ctx, ['--follow'])
 */
export async function inboxCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      relay: { type: 'string' },
      device: { type: 'string', default: 'default' },
      follow: { type: 'boolean', default: false },
    },
  })
  const print = (m: ReceivedMessage) => {
    const time = new Date(m.sentAt).toISOString()
    ctx.out.info(`${time}  ${m.from}  ${m.report.ok ? '✓ verified' : '✗'}  ${m.text}`)
    if (ctx.out.json)
      process.stdout.write(
        `${JSON.stringify({ id: m.id, conversation: m.conversation, from: m.from, device: m.device, seq: m.seq.toString(), sentAt: m.sentAt, text: m.text, verified: m.report.ok })}\n`,
      )
  }
  // Listen before live mode starts: its catch-up delivers what arrived while away.
  const client = await openLiveClient(ctx, {
    device: values.device,
    relay: resolveRelay(values.relay),
    beforeStart: (c) => {
      c.events.on('message', print)
      c.events.on('rejected', (r) =>
        ctx.out.info(`rejected ${r.envelopeId}: ${r.error.name} [${r.error.code}] ${r.error.shortMessage}`),
      )
    },
  })
  try {
    // Pull anything after the stored cursors that live mode has not delivered yet.
    const done = ctx.out.step('Catching up with the relay')
    const { received } = await client.sync()
    done(`${received.length} new`)
    if (!values.follow) return
    ctx.out.info('Following; Ctrl-C to stop.')
    await untilSignal()
  } finally {
    await client.close()
  }
}
