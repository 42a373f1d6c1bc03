/** What `RelayTransport.connect()` takes, and the states a relay connection goes through. */
import type { Address, Hex } from 'viem'
import type { BackoffBounds, SubscribeRetryBounds } from './backoff.js'
import type { ExpectedDeployment } from './relayHandshake.js'

/**
 * Parameters of `RelayTransport.connect()`.
 *
 * @example const p: RelayTransportParameters = { url, account, deviceId, sign: (m) => key.sign(m), expect: { chainId, registry } }
 */
export type RelayTransportParameters = {
  /**
   * `ws://` or `wss://` URL of the relay, or the URLs of several relays of one cluster (an array or a comma-separated
   * list): the first is tried first, and after a disconnect the transport moves on to the next (see
   * `nextRelayIndex`), resuming every topic from its cursor there.
   */
  url: string | readonly string[]
  account: Address
  deviceId: Hex
  /** Signs the relay's challenge with the device's P-256 key (`DeviceSigningKey.sign`). */
  sign: (message: Uint8Array) => Uint8Array
  /**
   * The deployment this client trusts (required). The relay announces its chain and KeyRegistry in the CHALLENGE;
   * a relay for another deployment is refused (`RelayAuthError`, wire code `WRONG_DEPLOYMENT`) before anything is
   * signed.
   */
  expect: ExpectedDeployment
  /** How long the first connection may take before `connect()` gives up. Default 10 s. */
  connectTimeoutMs?: number | undefined
  /** Reconnect backoff bounds. Default 100 ms to 5 s, doubling, with jitter. */
  backoff?: BackoffBounds | undefined
  /** Retry of a SUBSCRIBE refused transiently (e.g. `RELAY_RATE_LIMITED`). Default `DEFAULT_SUBSCRIBE_RETRY`. */
  subscribeRetry?: SubscribeRetryBounds | undefined
  /** How long a replay (`pull`) may wait for the relay to finish sending a topic. Default 5 s. */
  replayTimeoutMs?: number | undefined
  /** Called on every connection state change (for progress output and the dashboard). */
  onState?: ((state: RelayConnectionState) => void) | undefined
}

/** Connection state of a `RelayTransport`. @example transport.state === 'ready' */
export type RelayConnectionState = 'connecting' | 'authenticating' | 'ready' | 'disconnected' | 'closed'
