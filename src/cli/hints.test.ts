import { describe, expect, test } from 'vitest'
import {
  InsufficientFundsError,
  RpcUnreachableError,
  type SponsorRefusalReason,
  SponsorRefusedError,
  SponsorUnreachableError,
  sponsorRefusalCodes,
} from '../chain/errors.js'
import { RelayAuthError } from '../client/errors.js'
import { GroupChangeError, NotGroupAdminError } from '../client/groupErrors.js'
import { formatError } from '../errors.js'
import { MissingPassphraseError } from '../store/keystore.js'
import { COMMANDS, GLOBAL_OPTIONS } from './commands.js'
import { ArgumentError } from './errors.js'
import { cliMetaMessages, withCliHints } from './hints.js'

describe('CLI hints for errors from below the CLI', () => {
  test('a missing passphrase names what exists: SEALPOST_PASSPHRASE and --passphrase-env', () => {
    const line = formatError(withCliHints(new MissingPassphraseError()))
    expect(line).toMatch(/^MissingPassphraseError \[SEALPOST_MISSING_PASSPHRASE\]: /)
    expect(line).toContain('SEALPOST_PASSPHRASE')
    expect(line).toContain('--passphrase-env VAR')
    expect(line).not.toMatch(/--passphrase\b(?!-)/)
  })

  test('group errors say who may change a group and where to look', () => {
    const groupId = `0x${'ab'.repeat(32)}`
    const admin = formatError(withCliHints(new NotGroupAdminError({ groupId, account: '0xCarol' })))
    expect(admin).toBe(
      `NotGroupAdminError [SEALPOST_NOT_GROUP_ADMIN]: Only an admin of the group can change its members, admins or name. (Group: ${groupId}; Account: 0xCarol; Only an admin can add or remove accounts, rename the group or change its admins; ask an admin or leave (\`sealpost group leave NAME\`))`,
    )
    const change = formatError(
      withCliHints(new GroupChangeError({ groupId, reason: '0xDave is not a member' })),
    )
    expect(change).toMatch(/Reason: 0xDave is not a member; `sealpost group show NAME` lists its members/)
  })

  test('an unreachable chain keeps its URL and says what to start', () => {
    const err = withCliHints(new RpcUnreachableError({ url: 'http://127.0.0.1:9' }))
    expect(err).toBeInstanceOf(RpcUnreachableError)
    expect(formatError(err)).toMatch(/URL: http:\/\/127\.0\.0\.1:9; .*`sealpost up`.*--rpc/)
  })

  test('other errors are printed as they are', () => {
    const err = new ArgumentError('x')
    expect(withCliHints(err)).toBe(err)
  })
})

describe('CLI hints for the sponsor and for lack of funds', () => {
  /** Every flag a hint names is a real option of some command, or a global one. */
  const known = new Set([
    ...Object.keys(GLOBAL_OPTIONS),
    ...COMMANDS.flatMap((c) => [c, ...(c.subcommands ?? [])]).flatMap((c) => Object.keys(c.options)),
  ])
  const flagsIn = (line: string) => [...line.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1] as string)

  test('every sponsor refusal has a hint of its own, naming only flags that exist', () => {
    const lines = new Set<string>()
    for (const reason of Object.keys(sponsorRefusalCodes) as SponsorRefusalReason[]) {
      const err = new SponsorRefusedError({
        reason,
        retryAfterMs: reason === 'rate-limited' ? 30_000 : undefined,
      })
      const line = formatError(withCliHints(err))
      expect(line).toMatch(new RegExp(`^SponsorRefusedError \\[${sponsorRefusalCodes[reason]}\\]: `))
      expect(cliMetaMessages(err).length, reason).toBeGreaterThan(err.metaMessages.length)
      for (const flag of flagsIn(line)) expect(known, `${reason}: --${flag}`).toContain(flag)
      lines.add(cliMetaMessages(err).at(-1) as string)
    }
    // One hint per reason, not one text for all.
    expect(lines.size).toBe(Object.keys(sponsorRefusalCodes).length)
    const limited = formatError(
      withCliHints(new SponsorRefusedError({ reason: 'rate-limited', retryAfterMs: 30_000 })),
    )
    expect(limited).toContain('Retry after: 30 s')
    const down = formatError(
      withCliHints(new SponsorUnreachableError({ url: 'http://127.0.0.1:9/v1/sponsor' })),
    )
    expect(down).toMatch(/URL: http:\/\/127\.0\.0\.1:9\/v1\/sponsor; .*`sealpost up`.*--relay/)
  })

  test('lack of funds says so, keeps the account, and names the sponsor and funding, not the SDK', () => {
    const account = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
    const line = formatError(withCliHints(new InsufficientFundsError({ account })))
    expect(line).toMatch(/^InsufficientFundsError \[SEALPOST_INSUFFICIENT_FUNDS\]: .*too little ether/)
    expect(line).toContain(`Account: ${account}`)
    expect(line).toContain('--relay')
    expect(line).toContain('fund the account')
    expect(line).not.toContain('connectClient')
    for (const flag of flagsIn(line)) expect(known).toContain(flag)
  })

  test('a relay refusing a revoked or unknown device says which, and what to use instead', () => {
    const revoked = formatError(
      withCliHints(new RelayAuthError({ wireCode: 'RELAY_DEVICE_REVOKED', url: 'ws://127.0.0.1:8787' })),
    )
    expect(revoked).toMatch(
      /^RelayAuthError \[SEALPOST_RELAY_AUTH_REFUSED\]: .*RELAY_DEVICE_REVOKED.*revoked on chain/,
    )
    expect(revoked).toContain('--device NAME')
    const unknown = formatError(
      withCliHints(new RelayAuthError({ wireCode: 'RELAY_UNKNOWN_DEVICE', url: 'ws://127.0.0.1:8787' })),
    )
    expect(unknown).toContain('`sealpost id add-device`')
    for (const line of [revoked, unknown]) for (const flag of flagsIn(line)) expect(known).toContain(flag)
  })
})
