/** One call from keys on disk to a live client on a relay: register if needed, authenticate, start. */
import type { Address } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { sponsorUrlOf } from '../chain/sponsor.js'
import { Client, type ClientParameters } from './Client.js'
import type { Deployment } from './deployment.js'
import { openDeviceKeys } from './openDevice.js'
import { RelayTransport } from './relayTransport.js'
import { relayUrlList } from './relayUrls.js'
import type { RotateDeviceResult } from './rotateDevice.js'

/** Parameters of `connectClient()`. */
export type ConnectClientParameters = Omit<ClientParameters, 'transport' | 'account' | 'deployment'> & {
  /** The account key, or only the account's address on a device linked without it (it cannot register or rotate). */
  account: LocalAccount | Address
  deployment: Deployment
  /**
   * Relay WebSocket URL, or the URLs of several relays of one cluster: the client fails over from one to the next
   * on a disconnect and resumes from its cursors (the first one's sponsor pays for the registration).
   */
  relay: string | readonly string[]
  /** Register the device on chain first if it is not (the relay only admits registered devices). Default true. */
  register?: boolean | undefined
  /**
   * The relay's sponsor (`POST /v1/sponsor` on its port) for that registration: `auto` (default) when no
   * `submitter` is given and the account cannot pay, `always`, or `never`.
   */
  sponsor?: 'auto' | 'always' | 'never' | undefined
  /** Reconnect backoff of the relay transport. */
  backoff?: { minMs: number; maxMs: number } | undefined
  /** Called with the client before live mode starts, to attach listeners that must not miss the catch-up. */
  beforeStart?: ((client: Client) => void) | undefined
  /**
   * Rotation policy (docs/key-management.md §6): when the device's keys were registered more than this many
   * milliseconds ago (the registering block's time), rotate them before connecting.
   */
  maxKeyAge?: number | undefined
  /** Called after an automatic rotation (`maxKeyAge`). */
  onRotated?: ((result: RotateDeviceResult) => void) | undefined
}

/**
 * Opens (creating on first use) the device under `home`, registers it on chain if needed (through the relay's
 * sponsor when the account cannot pay for gas), connects it to the
 * relay with its P-256 key, and starts live mode (which also publishes key packages).
 *
 * @example const alice = await connectClient({ account, home, rpc, deployment, relay: 'ws://127.0.0.1:8787', passphrase })
 * @example const bob = await connectClient({ account, home, rpc, deployment, relay: ['wss://r1.example', 'wss://r2.example'], passphrase })
 */
export async function connectClient(parameters: ConnectClientParameters): Promise<Client> {
  const {
    relay,
    register = true,
    sponsor = 'auto',
    backoff,
    beforeStart,
    maxKeyAge,
    onRotated,
    ...rest
  } = parameters
  // Unlock the key file once (scrypt is slow on purpose) and hand the keys to both clients below.
  const accountAddress = typeof rest.account === 'string' ? rest.account : rest.account.address
  let keys = await openDeviceKeys({ ...rest, accountAddress })
  if (register || maxKeyAge !== undefined) {
    const sponsorOption =
      sponsor === 'never'
        ? {}
        : { sponsor: { url: sponsorUrlOf(relayUrlList(relay)[0] ?? ''), always: sponsor === 'always' } }
    const offline = await Client.create({ ...rest, keys })
    try {
      if (register) await offline.register({ keyPackages: 0, ...sponsorOption })
      const age = maxKeyAge === undefined ? undefined : await offline.keyAge()
      if (maxKeyAge !== undefined && age !== undefined && age > maxKeyAge) {
        const rotated = await offline.rotateDevice({ passphrase: rest.passphrase, ...sponsorOption })
        keys = rotated.keys
        onRotated?.(rotated)
      }
    } finally {
      await offline.close()
    }
  }
  const transport = await RelayTransport.connect({
    url: relay,
    account: accountAddress,
    deviceId: keys.deviceId,
    sign: (m) => keys.signingKey.sign(m),
    expect: { chainId: rest.deployment.chainId, registry: rest.deployment.keyRegistry },
    ...(backoff ? { backoff } : {}),
  })
  const client = await Client.create({ ...rest, keys, transport })
  beforeStart?.(client)
  try {
    await client.start()
  } catch (err) {
    await client.close()
    throw err
  }
  return client
}
