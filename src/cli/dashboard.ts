/** `sealpost dashboard`: one device on a real network, live (`up` and `relay` serve the stack's own dashboard). */
import { parseArgs } from 'node:util'
import { connectClient } from '../client/connect.js'
import { attachClient } from '../dashboard/collect/client.js'
import { createCollector } from '../dashboard/collect/collector.js'
import { attachWatcher } from '../dashboard/collect/watcher.js'
import { DashboardHub, startDashboardServer } from '../dashboard/server.js'
import type { CliContext } from './context.js'
import { resolveRelays } from './session.js'
import { untilSignal } from './signals.js'

/**
 * `sealpost dashboard`: your own device on a real network, live: its conversations (with the plaintext it owns),
 * every verification, receipts and its log. Relay-wide metrics come from the dashboard `sealpost relay` serves.
 *
 * @example await dashboardCommand(ctx, ['--relay', 'wss://relay.example', '--port', '8788'])
 */
export async function dashboardCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      relay: { type: 'string' },
      device: { type: 'string', default: 'default' },
      port: { type: 'string', default: '8788' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  })
  const deployment = await ctx.deployment()
  const account = await ctx.account()
  const relays = resolveRelays(values.relay)
  const hub = new DashboardHub()
  const collector = createCollector(hub)
  hub.emit({
    type: 'hello',
    at: Date.now(),
    chainId: deployment.chainId,
    rpc: ctx.rpc,
    relay: relays[0],
    keyRegistry: deployment.keyRegistry,
    messageAnchor: deployment.messageAnchor,
    demo: false,
  })
  const connected = ctx.out.step(`Connecting device "${values.device}" to ${relays.join(' or ')}`)
  const client = await connectClient({
    account,
    home: ctx.home,
    rpc: ctx.rpc,
    deployment,
    relay: relays,
    passphrase: ctx.passphrase(),
    device: values.device,
    register: false,
  })
  connected()
  const detach = attachClient(collector, client, { name: 'this device', deviceName: values.device })
  const detachWatcher = attachWatcher(collector, client.watcher)
  const server = await startDashboardServer({ hub, port: Number(values.port), host: values.host })
  ctx.out.info(`dashboard      ${server.url}`)
  ctx.out.info('Ctrl-C stops the dashboard.')
  await untilSignal()
  detach()
  detachWatcher()
  collector.stop()
  await server.stop()
  await client.close()
}
