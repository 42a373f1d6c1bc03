/** Opens the device under --home as a live client on --relay, for the messaging commands. */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Address } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import type { Client } from '../client/Client.js'
import { connectClient } from '../client/connect.js'
import { accountPath, deviceExists, IdentityNotFoundError, listDevices } from '../client/identity.js'
import { relayUrlList } from '../client/relayUrls.js'
import type { CliContext } from './context.js'
import { RelayUrlError } from './errors.js'

/**
 * Default relay URL when neither --relay nor SEALPOST_RELAY names one (what `sealpost up` listens on).
 *
 * @example resolveRelay(undefined, {}) // DEFAULT_RELAY
 */
export const DEFAULT_RELAY = 'ws://127.0.0.1:8787'

/**
 * Resolves --relay: flag, then SEALPOST_RELAY, then the default local relay. Either may list several relays of one
 * cluster, comma-separated (`ws://a:8787,ws://b:8787`): the client fails over from one to the next. Anything but
 * ws:// or wss:// URLs is a RelayUrlError naming where it came from.
 *
 * @example resolveRelays(undefined, { SEALPOST_RELAY: 'wss://r1.example,wss://r2.example' }) // ['wss://r1.example', 'wss://r2.example']
 */
export function resolveRelays(flag: string | undefined, env = process.env): string[] {
  const fromEnv = env.SEALPOST_RELAY || undefined
  const value = flag ?? fromEnv ?? DEFAULT_RELAY
  const source =
    flag !== undefined ? '--relay' : fromEnv !== undefined ? 'SEALPOST_RELAY' : 'The default relay'
  const urls = relayUrlList(value)
  if (urls.length === 0) throw new RelayUrlError({ url: value, source })
  for (const url of urls) {
    let protocol: string | undefined
    try {
      protocol = new URL(url).protocol
    } catch {
      protocol = undefined
    }
    if (protocol !== 'ws:' && protocol !== 'wss:') throw new RelayUrlError({ url, source })
  }
  return urls
}

/**
 * The one relay for commands that talk to a single relay (its sponsor, a device link): the first of
 * {@link resolveRelays}.
 *
 * @example resolveRelay(undefined, { SEALPOST_RELAY: 'wss://relay.example' }) // 'wss://relay.example'
 */
export function resolveRelay(flag: string | undefined, env = process.env): string {
  return resolveRelays(flag, env)[0] as string
}

/**
 * The account a device under --home runs as: the account key when the home holds it, else (a device linked with
 * `sealpost id link`, whose account key stays on the approving device) the account's address from the device file.
 *
 * @example const account = await deviceAccount(ctx, 'laptop')
 */
export async function deviceAccount(ctx: CliContext, device: string): Promise<LocalAccount | Address> {
  if (existsSync(accountPath(ctx.home))) return ctx.account()
  return listDevices(ctx.home).find((d) => d.name === device)?.account ?? ctx.account()
}

/**
 * Unlocks the account and device, connects to the relay (with progress), and starts live mode. `beforeStart`
 * attaches listeners that must not miss the catch-up.
 *
 * @example const client = await openLiveClient(ctx, { device: 'default', relay, beforeStart: (c) => c.events.on('message', print) })
 */
export async function openLiveClient(
  ctx: CliContext,
  {
    device,
    relay,
    beforeStart,
  }: {
    device: string
    relay: string | readonly string[]
    beforeStart?: ((client: Client) => void) | undefined
  },
): Promise<Client> {
  if (!deviceExists(ctx.home, device))
    throw new IdentityNotFoundError({ path: join(ctx.home, 'devices', device) })
  const [account, deployment] = await Promise.all([deviceAccount(ctx, device), ctx.deployment()])
  const done = ctx.out.step(`Connecting to the relay at ${relayUrlList(relay).join(' or ')}`)
  const client = await connectClient({
    account,
    home: ctx.home,
    rpc: ctx.rpc,
    deployment,
    relay,
    passphrase: ctx.passphrase(),
    device,
    register: false,
    ...(beforeStart ? { beforeStart } : {}),
    // The rotation policy (--max-key-age): keys older than that are rotated before connecting.
    maxKeyAge: ctx.maxKeyAge,
    onRotated: (r) =>
      ctx.out.info(`Rotated this device's keys (older than --max-key-age): ${r.oldDeviceId} → ${r.deviceId}`),
  })
  done('authenticated')
  return client
}
