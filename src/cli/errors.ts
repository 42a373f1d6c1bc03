/** Errors of the command line itself: a bad argument, a wait that ran out of time. */
import { InternalError, UsageError } from '../errors.js'

/**
 * An unknown command, or a missing or malformed argument.
 *
 * @example throw new ArgumentError('--port must be a non-negative integer.')
 */
export class ArgumentError extends UsageError {
  override name = 'ArgumentError' as const
  constructor(
    shortMessage: string,
    { metaMessages, cause }: { metaMessages?: string[]; cause?: unknown } = {},
  ) {
    super(shortMessage, {
      code: 'SEALPOST_BAD_ARGUMENT',
      ...(metaMessages ? { metaMessages } : {}),
      ...(cause !== undefined ? { cause } : {}),
    })
  }
}

/**
 * `sealpost send --wait` gave up before the message reached the state asked for.
 *
 * @example throw new TimeoutError({ what: 'The message did not become anchored in time.', last: 'accepted' })
 */
export class TimeoutError extends UsageError {
  override name = 'TimeoutError' as const
  constructor({ what, last, cause }: { what: string; last?: string | undefined; cause?: unknown }) {
    super(what, {
      code: 'SEALPOST_TIMEOUT',
      metaMessages: [`Last state: ${last ?? 'unknown'}`],
      ...(cause !== undefined ? { cause } : {}),
    })
  }
}

/**
 * A command-line argument that should be an account address is not one: not 0x + 40 hex digits, or its mixed-case
 * EIP-55 checksum does not match (a typo).
 *
 * @example throw new AddressArgumentError({ what: 'PEER', value: '0x12', reason: 'not 0x followed by 40 hex digits' })
 */
export class AddressArgumentError extends UsageError {
  override name = 'AddressArgumentError' as const
  constructor({ what, value, reason }: { what: string; value: string; reason: string }) {
    super(`${what} "${value.length > 50 ? `${value.slice(0, 47)}…` : value}" is not an address: ${reason}.`, {
      code: 'SEALPOST_BAD_ADDRESS',
      metaMessages: [
        'An account address is 0x and 40 hex digits, e.g. the `account` line of `sealpost id show`',
      ],
    })
  }
}

/**
 * A CAIP-10 account argument names a chain this command is not configured for (its registry is not pinned here).
 *
 * @example throw new AccountChainError({ what: 'PEER', account: 'eip155:31338:0x…', chains: [31337] })
 */
export class AccountChainError extends UsageError {
  override name = 'AccountChainError' as const
  constructor({ what, account, chains }: { what: string; account: string; chains: readonly number[] }) {
    super(`${what} ${account} is on a chain this command is not configured for.`, {
      code: 'SEALPOST_ACCOUNT_CHAIN',
      metaMessages: [
        chains.length === 0
          ? 'Configured chains: none (no pinned deployment)'
          : `Configured chains: ${chains.map((c) => `eip155:${c}`).join(', ')} (the pinned deployment)`,
        'Pin a deployment of that chain (--deployment FILE), or name an account of a configured chain.',
      ],
    })
  }
}

/**
 * `sealpost send` to the sender's own account: a conversation needs another account.
 *
 * @example throw new SelfMessageError({ account: '0xAlice…' })
 */
export class SelfMessageError extends UsageError {
  override name = 'SelfMessageError' as const
  constructor({ account }: { account: string }) {
    super(`${account} is this home's own account; send to another account.`, {
      code: 'SEALPOST_SEND_TO_SELF',
      metaMessages: [
        'Your other devices get what you send to others; there is no conversation with yourself',
      ],
    })
  }
}

/**
 * The relay URL (--relay or SEALPOST_RELAY) is not a ws:// or wss:// URL.
 *
 * @example throw new RelayUrlError({ url: 'http://127.0.0.1:8787', source: 'SEALPOST_RELAY' })
 */
export class RelayUrlError extends UsageError {
  override name = 'RelayUrlError' as const
  constructor({ url, source }: { url: string; source: string }) {
    super(`${source} "${url}" is not a relay URL: use ws:// or wss://.`, {
      code: 'SEALPOST_BAD_RELAY_URL',
      metaMessages: ['`sealpost up` prints its relay, e.g. ws://127.0.0.1:8787'],
    })
  }
}

/**
 * A group named on the command line (by name or id) is not among the groups this device holds, or several share
 * the name.
 *
 * @example throw new UnknownGroupError({ group: 'ops', known: ['dev'] })
 */
export class UnknownGroupError extends UsageError {
  override name = 'UnknownGroupError' as const
  constructor({ group, known, ambiguous = [] }: { group: string; known: string[]; ambiguous?: string[] }) {
    super(
      ambiguous.length > 0
        ? `Several groups are named "${group}"; name one by its id.`
        : `This device holds no group "${group}".`,
      {
        code: 'SEALPOST_UNKNOWN_GROUP',
        metaMessages:
          ambiguous.length > 0
            ? [`Ids: ${ambiguous.join(', ')}`]
            : [
                known.length > 0 ? `Groups here: ${known.join(', ')}` : 'This device is in no group yet',
                '`sealpost group list` lists them; a group you were added to arrives with `sealpost inbox`',
              ],
      },
    )
  }
}

/**
 * `sealpost up --cluster` needs Debian's `nats-server` binary and did not find it.
 *
 * @example throw new NatsServerMissingError({ path: '/usr/sbin/nats-server' })
 */
export class NatsServerMissingError extends UsageError {
  override name = 'NatsServerMissingError' as const
  constructor({ path }: { path: string }) {
    super(`nats-server was not found at ${path}.`, {
      code: 'SEALPOST_NATS_SERVER_MISSING',
      metaMessages: [
        'Install it with: sudo apt-get install -y nats-server',
        'or name another binary with SEALPOST_NATS_SERVER=/path/to/nats-server',
      ],
    })
  }
}

/**
 * The local NATS cluster of `sealpost up --cluster` did not start: a node exited, or JetStream elected no leader.
 *
 * @example throw new NatsClusterStartError({ reason: 'node n1 exited with code 1' })
 */
export class NatsClusterStartError extends InternalError {
  override name = 'NatsClusterStartError' as const
  /** A node exited (rather than JetStream being slow to elect a leader). */
  readonly nodeExited: boolean
  constructor({
    reason,
    cause,
    nodeExited = false,
  }: { reason: string; cause?: unknown; nodeExited?: boolean }) {
    super('The local NATS cluster did not start.', {
      code: 'SEALPOST_NATS_CLUSTER_START',
      metaMessages: [reason],
      cause,
    })
    this.nodeExited = nodeExited
  }
}
