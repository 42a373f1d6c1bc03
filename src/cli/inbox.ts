/** `sealpost inbox [--follow]`: what arrived while away (direct and group messages, contacts' key changes; with a Hyperlane inbox route, also through chain B), then (with --follow) live. */
import { join } from 'node:path'
import type { Client, KeyChangeEvent, ReceivedMessage } from '../client/Client.js'
import { type ContactSuspicion, watchSuspicion } from '../client/suspicion.js'
import { formatError } from '../errors.js'
import { inboxSpec } from './commands.js'
import type { CliContext } from './context.js'
import {
  configuredInboxRoute,
  type HyperlaneInboxFollower,
  type HyperlaneInboxPass,
  hyperlaneInboxFollower,
  isChainUnavailable,
} from './hyperlaneInbox.js'
import { parseCommandArgs } from './options.js'
import { openLiveClient, resolveRelays } from './session.js'
import { untilSignal } from './signals.js'

/**
 * Prints received messages with their verification verdicts; `--follow` keeps streaming until Ctrl-C. With a
 * Hyperlane inbox route next to the deployment (`hyperlane-inbox.json`, `up --chains 2`) it also reads the
 * SealpostInbox on chain B after the relay's catch-up: each message is printed once (whichever copy came first, the
 * other is a replay), marked `via Hyperlane` when its envelope was delivered on B.
 *
 * @example await inboxCommand(ctx, ['--follow'])
 */
export async function inboxCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(inboxSpec, argv)
  const relay = resolveRelays(values.relay)
  const route = configuredInboxRoute(ctx)
  let follower: HyperlaneInboxFollower | undefined
  // With a route, the catch-up's messages wait until chain B was read, so that each is printed with its mark.
  let held: ReceivedMessage[] | undefined = route ? [] : undefined
  let printed = 0
  let opened: Client | undefined
  let suspicion: ContactSuspicion | undefined // contacts marked suspicious (a revoked key in use; docs/ids.md §4a)
  const print = (m: ReceivedMessage) => {
    if (held) {
      held.push(m)
      return
    }
    printed++
    const hop = follower?.viaHyperlane.get(m.id.toLowerCase())
    const via =
      hop === undefined ? '' : `  via Hyperlane (chain ${follower?.route.destination.domain} block ${hop})`
    const time = new Date(m.sentAt).toISOString()
    // A group message names its group after the sender; a direct message's line is unchanged.
    const group = opened?.groups.list().find((g) => g.id.toLowerCase() === m.conversation.toLowerCase())
    const name = group?.info().name
    const where = group ? `  in group "${name}"` : ''
    const doubt = suspicion?.of(m)
    const warn = doubt ? `  ⚠ suspicious contact (${doubt.reason})` : ''
    ctx.out.info(`${time}  ${m.from}${where}  ${m.report.ok ? '✓ verified' : '✗'}${warn}${via}  ${m.text}`)
    if (ctx.out.json)
      process.stdout.write(
        `${JSON.stringify({ id: m.id, conversation: m.conversation, ...(group && { group: name }), from: m.from, device: m.device, seq: m.seq.toString(), sentAt: m.sentAt, text: m.text, verified: m.report.ok, ...(doubt && { suspicious: doubt.reason }), ...(hop !== undefined && { via: 'hyperlane', hyperlaneBlock: hop.toString() }) })}\n`,
      )
  }
  let alerts = 0
  // A contact's device set changed on chain (also while away): a line that stands out, with the new safety number.
  const alert = (c: KeyChangeEvent) => {
    alerts++
    const devices = [
      ...c.revoked.map((d) => `-${d.slice(0, 10)}…`),
      ...c.added.map((d) => `+${d.slice(0, 10)}…`),
    ].join(' ')
    ctx.out.info(
      `⚠ KEY CHANGE  ${c.account} ${c.kind} ${c.kind === 'rotated' ? 'a device' : c.deviceIds.length === 1 ? 'a device' : `${c.deviceIds.length} devices`} (${devices}) at block ${c.block}`,
    )
    ctx.out.info(`              safety number now ${c.fingerprintAfter}`)
    ctx.out.info(
      `              was ${c.fingerprintBefore}; check \`sealpost id fingerprint ${c.account}\` with them`,
    )
    if (ctx.out.json)
      process.stdout.write(
        `${JSON.stringify({ type: 'keyChange', account: c.account, kind: c.kind, deviceIds: c.deviceIds, added: c.added, revoked: c.revoked, block: c.block.toString(), txHash: c.txHash, fingerprintBefore: c.fingerprintBefore, fingerprintAfter: c.fingerprintAfter })}\n`,
      )
  }
  // Listen before live mode starts: its catch-up delivers what arrived while away.
  const client = await openLiveClient(ctx, {
    device: values.device,
    relay,
    beforeStart: (c) => {
      opened = c
      suspicion = watchSuspicion(c, { path: join(ctx.home, 'suspicion.json') })
      c.events.on('message', print)
      c.events.on('keyChange', alert)
      // History a sibling device sent (protocol §12.8): its messages, marked as history, with their verdicts.
      c.events.on('historyImported', (h) => {
        const imported = c.messages.list().filter((m) => m.history?.archive === h.archive)
        ctx.out.info(`history from device ${h.fromDevice.slice(0, 10)}…: ${h.imported} messages`)
        for (const m of imported)
          ctx.out.info(
            `${new Date(m.sentAt).toISOString()}  ${m.from}  history  ${m.verdict === 'verified' ? '✓ verified' : m.verdict === 'refused' ? '✗ refused' : '… pending'}  ${m.body}`,
          )
      })
      c.events.on('rejected', (r) =>
        ctx.out.info(`rejected ${r.envelopeId}: ${r.error.name} [${r.error.code}] ${r.error.shortMessage}`),
      )
    },
  })
  try {
    // Pull anything after the stored cursors that live mode has not delivered yet. Messages are printed as they are
    // processed (live mode's catch-up or this pull), so count what was printed, not what the pull found.
    const done = ctx.out.step('Catching up with the relay')
    await client.sync()
    done(
      `${held?.length ?? printed} new${alerts > 0 ? `, ${alerts} key change${alerts === 1 ? '' : 's'}` : ''}`,
    )
    if (route) {
      follower = hyperlaneInboxFollower(client, route)
      const reading = ctx.out.step(
        `Reading the SealpostInbox ${route.destination.inbox} on chain ${route.destination.domain}`,
      )
      const pass = await readChainB(follower)
      reading(pass ? passSummary(pass) : 'chain B not read')
      const caughtUp = [...(held ?? []), ...(pass?.messages ?? [])].sort((a, b) => a.sentAt - b.sentAt)
      held = undefined
      for (const m of caughtUp) print(m)
    }
    if (!values.follow) return
    ctx.out.info('Following; Ctrl-C to stop.')
    const chainB = follower && followChainB(follower)
    await untilSignal()
    await chainB?.stop()
  } finally {
    await client.close()
  }

  /** One pass over chain B's inbox; its refusals printed, chain B unreachable a warning (undefined). */
  async function readChainB(f: HyperlaneInboxFollower): Promise<HyperlaneInboxPass | undefined> {
    try {
      const pass = await f.poll()
      for (const r of pass.rejected)
        ctx.out.info(
          `rejected ${r.envelopeId} (via Hyperlane): ${r.error.name} [${r.error.code}] ${r.error.shortMessage}`,
        )
      return pass
    } catch (err) {
      if (!isChainUnavailable(err)) throw err
      ctx.out.info(`! the inbox on chain ${f.route.destination.domain} was not read: ${formatError(err)}`)
      return undefined
    }
  }

  /** With --follow: reads chain B's inbox every second until stopped, printing what it delivered first. */
  function followChainB(f: HyperlaneInboxFollower): { stop(): Promise<void> } {
    let active = true
    const loop = (async () => {
      while (active) {
        await new Promise((r) => setTimeout(r, 1000))
        if (!active) break
        const pass = await readChainB(f).catch((err: unknown) => {
          ctx.out.info(`! the inbox on chain ${f.route.destination.domain}: ${formatError(err)}`)
          return undefined
        })
        for (const m of pass?.messages ?? []) print(m)
        for (const r of pass?.replayed ?? [])
          ctx.out.info(`  ${r.envelopeId} also arrived via Hyperlane (block ${r.blockNumber}); already shown`)
      }
    })()
    return {
      async stop() {
        active = false
        await loop
      },
    }
  }
}

/** The one-line result of a pass over chain B's inbox. */
function passSummary(pass: HyperlaneInboxPass): string {
  const parts = [`${pass.messages.length} new`]
  if (pass.replayed.length > 0) parts.push(`${pass.replayed.length} already received through the relay`)
  if (pass.rejected.length > 0) parts.push(`${pass.rejected.length} rejected`)
  return parts.join(', ')
}
