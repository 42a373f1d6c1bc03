import { describe, expect, test } from 'vitest'
import { RpcUnreachableError } from '../chain/errors.js'
import { formatError } from '../errors.js'
import { MissingPassphraseError } from '../store/keystore.js'
import { ArgumentError } from './errors.js'
import { withCliHints } from './hints.js'

describe('CLI hints for errors from below the CLI', () => {
  test('a missing passphrase names what exists: SEALPOST_PASSPHRASE and --passphrase-env', () => {
    const line = formatError(withCliHints(new MissingPassphraseError()))
    expect(line).toMatch(/^MissingPassphraseError \[SEALPOST_MISSING_PASSPHRASE\]: /)
    expect(line).toContain('SEALPOST_PASSPHRASE')
    expect(line).toContain('--passphrase-env VAR')
    expect(line).not.toMatch(/--passphrase\b(?!-)/)
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
