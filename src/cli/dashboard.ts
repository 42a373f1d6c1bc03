/** Dashboard wiring for the CLI: `up` and `relay` serve it; `sealpost dashboard` shows a device on a real network. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Hex } from 'viem'
import { connectClient } from '../client/connect.js'
import {
  attachClient,
  attachRelay,
  attachWatcher,
  type Collector,
  createCollector,
} from '../dashboard/collect.js'
import { type DemoTraffic, startDemoTraffic } from '../dashboard/demoTraffic.js'
import { DashboardHub, type DashboardServer, startDashboardServer } from '../dashboard/server.js'
import type { CliContext } from './context.js'
import { resolveRelay } from './session.js'
import { type Stack, untilSignal } from './up.js'

/** A dashboard attached to a running stack. */
export type StackDashboard = {
  server: DashboardServer
  collector: Collector
  demo?: DemoTraffic | undefined
  stop(): Promise<void>
}

/**
 * Serves the dashboard for `stack` and, with `demo`, runs the scripted multi-party exchange on it.
 *
 * @example const dashboard = await serveStackDashboard(ctx, stack, { port: 8788, demo: true })
 */
export async function serveStackDashboard(
  ctx: CliContext,
  stack: Stack,
  { port, host, demo, token }: { port: number; host: string; demo: boolean; token?: string | undefined },
): Promise<StackDashboard> {
  const hub = new DashboardHub()
  const collector = createCollector(hub)
  hub.emit({
    type: 'hello',
    at: Date.now(),
    chainId: stack.deployment.chainId,
    rpc: stack.rpc,
    relay: stack.relay.url,
    keyRegistry: stack.deployment.keyRegistry,
    messageAnchor: stack.deployment.messageAnchor,
    demo,
  })
  const detach = attachRelay(collector, stack.relay)
  const server = await startDashboardServer({ hub, port, host, token })
  let traffic: DemoTraffic | undefined
  let dir: string | undefined
  if (demo) {
    if (!stack.anvil) throw new Error('--demo needs the local chain')
    const done = ctx.out.step('Registering the demo parties and opening their conversations')
    dir = mkdtempSync(join(tmpdir(), 'sealpost-up-demo-'))
    traffic = await startDemoTraffic({
      rpc: stack.rpc,
      deployment: stack.deployment,
      relay: stack.relay.url,
      collector,
      dir,
      keys: stack.anvil.accounts.slice(1, 7) as Hex[],
      onError: (err) => ctx.out.debug && console.error(err),
    })
    done('Alice, Bob, Carol; Mallory tampers, Rita replays, a revoked phone is forwarded')
  }
  return {
    server,
    collector,
    demo: traffic,
    async stop() {
      await traffic?.stop()
      detach()
      collector.stop()
      await server.stop()
      if (dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

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
  const relay = resolveRelay(values.relay)
  const hub = new DashboardHub()
  const collector = createCollector(hub)
  hub.emit({
    type: 'hello',
    at: Date.now(),
    chainId: deployment.chainId,
    rpc: ctx.rpc,
    relay,
    keyRegistry: deployment.keyRegistry,
    messageAnchor: deployment.messageAnchor,
    demo: false,
  })
  const connected = ctx.out.step(`Connecting device "${values.device}" to ${relay}`)
  const client = await connectClient({
    account,
    home: ctx.home,
    rpc: ctx.rpc,
    deployment,
    relay,
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
