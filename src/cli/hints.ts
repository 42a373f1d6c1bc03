/** What to do next, in the CLI's own terms, for errors raised below the CLI (which knows no flags). */
import { BaseError } from '../errors.js'

const START = 'start a local stack with `sealpost up`'
const SPONSOR_RELAY = 'a relay whose sponsor pays (--relay, env SEALPOST_RELAY; `sealpost up` runs one)'
const PAY_ITSELF = 'fund the account so that it pays for itself'
/** The error's own meta lines except its generic hint (the CLI gives its own). */
const facts = (err: BaseError) => err.metaMessages.filter((m) => !m.startsWith('Hint:'))

/** Hint lines by error code; they replace the error's own meta lines when printed by the CLI. */
const HINTS: Readonly<Record<string, (err: BaseError) => string[]>> = {
  SEALPOST_MISSING_PASSPHRASE: () => [
    'Set SEALPOST_PASSPHRASE, or name another variable holding it with --passphrase-env VAR',
  ],
  SEALPOST_RPC_UNREACHABLE: (err) => [
    ...err.metaMessages,
    `Is the chain running? ${START}, or point --rpc (env SEALPOST_RPC) at a running node`,
  ],
  SEALPOST_RELAY_UNREACHABLE: (err) => [
    ...err.metaMessages,
    `Is the relay running? ${START}, or point --relay (env SEALPOST_RELAY) at a running relay`,
  ],
  SEALPOST_RELAY_AUTH_REFUSED: (err) => {
    const wire = (err as BaseError & { wireCode?: string }).wireCode
    const hint =
      wire === 'RELAY_DEVICE_REVOKED'
        ? 'This device is revoked on chain and can no longer send or receive: use another with --device NAME (`sealpost id show` lists them), or register a new one with `sealpost id add-device --device NAME`'
        : wire === 'RELAY_UNKNOWN_DEVICE'
          ? 'This device is not registered on the chain the relay follows: run `sealpost id add-device`, with SEALPOST_RPC and SEALPOST_DEPLOYMENT from the same `sealpost up` join line as --relay'
          : 'Check that --relay (env SEALPOST_RELAY) serves the deployment you registered on'
    return [...err.metaMessages, hint]
  },
  SEALPOST_INSUFFICIENT_FUNDS: (err) => [
    ...facts(err),
    `The account has too little ether: ${PAY_ITSELF}, or register and revoke devices through ${SPONSOR_RELAY}`,
  ],
  SEALPOST_SPONSOR_UNREACHABLE: (err) => [
    ...err.metaMessages,
    `Is the relay running? ${START}, point --relay (env SEALPOST_RELAY) at a relay with a sponsor, or ${PAY_ITSELF}`,
  ],
  SEALPOST_SPONSOR_NOT_OFFERED: () => [`This relay sponsors nothing: use ${SPONSOR_RELAY}, or ${PAY_ITSELF}`],
  SEALPOST_SPONSOR_RATE_LIMITED: (err) => [
    ...err.metaMessages,
    `The relay's sponsor limits operations per account and per IP: try again then, or ${PAY_ITSELF}`,
  ],
  SEALPOST_SPONSOR_BUDGET_EXHAUSTED: () => [
    `The relay's sponsor spent its daily budget: try tomorrow, use another relay (--relay), or ${PAY_ITSELF}`,
  ],
  SEALPOST_SPONSOR_GAS_CAP: () => [`The operation costs more gas than the relay sponsors: ${PAY_ITSELF}`],
  SEALPOST_SPONSOR_WRONG_REGISTRY: () => [
    'The relay serves another deployment: take SEALPOST_RELAY and SEALPOST_DEPLOYMENT from the same `sealpost up` join line',
  ],
  SEALPOST_SPONSOR_REVERTED: (err) => [
    ...err.metaMessages,
    'The registry itself refuses the operation (nothing was sent): `sealpost id show` lists the devices and their status',
  ],
  SEALPOST_SPONSOR_BAD_REQUEST: (err) => [
    ...err.metaMessages,
    'The relay could not read the request: use a relay of the same sealpost version (`sealpost --version`)',
  ],
  SEALPOST_NOT_GROUP_ADMIN: (err) => [
    ...facts(err).filter((m) => !m.startsWith('Ask an admin')),
    'Only an admin can add or remove accounts, rename the group or change its admins; ask an admin or leave (`sealpost group leave NAME`)',
  ],
  SEALPOST_GROUP_CHANGE: (err) => [
    ...err.metaMessages,
    '`sealpost group show NAME` lists its members and admins; to take your own account out, `sealpost group leave NAME`',
  ],
  SEALPOST_COMMIT_CONTENTION: (err) => [
    ...facts(err).filter((m) => !m.startsWith('Try again')),
    'Other admins were changing the group at the same time: run the command again',
  ],
  SEALPOST_NOT_A_GROUP: (err) => [
    ...err.metaMessages,
    'That id is a direct conversation: send to the peer with `sealpost send PEER TEXT…`',
  ],
  SEALPOST_SPONSOR_FAILED: (err) => [
    ...err.metaMessages,
    "The relay's transaction failed: `sealpost id show` tells whether it went through; if not, run the command again",
  ],
}

/**
 * The meta lines the CLI prints for `err`: a CLI hint where one exists, else the error's own.
 *
 * @example cliMetaMessages(new MissingPassphraseError()) // ['Set SEALPOST_PASSPHRASE, or …']
 */
export function cliMetaMessages(err: BaseError): string[] {
  return HINTS[err.code]?.(err) ?? err.metaMessages
}

/**
 * A copy of `err` for printing whose meta lines are the CLI's hints (name, code, message and cause unchanged).
 *
 * @example printError(withCliHints(err), { json, debug })
 */
export function withCliHints(err: unknown): unknown {
  if (!(err instanceof BaseError) || HINTS[err.code] === undefined) return err
  const meta = cliMetaMessages(err)
  return Object.assign(Object.create(Object.getPrototypeOf(err)), err, { metaMessages: meta })
}
