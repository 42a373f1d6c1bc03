import { describe, expect, test } from 'vitest'
import { RelayUrlError } from './errors.js'
import { DEFAULT_RELAY, resolveRelay, resolveRelays } from './session.js'

describe('resolveRelays', () => {
  test('--relay, then SEALPOST_RELAY, then the default; a comma-separated list gives every relay in order', () => {
    expect(resolveRelays('ws://a:1,wss://b.example', { SEALPOST_RELAY: 'ws://c:3' })).toEqual([
      'ws://a:1',
      'wss://b.example',
    ])
    expect(resolveRelays(undefined, { SEALPOST_RELAY: 'ws://c:3, ws://d:4' })).toEqual([
      'ws://c:3',
      'ws://d:4',
    ])
    expect(resolveRelays(undefined, {})).toEqual([DEFAULT_RELAY])
    expect(resolveRelay(undefined, { SEALPOST_RELAY: 'ws://c:3,ws://d:4' })).toBe('ws://c:3')
  })

  test('one entry that is not ws:// or wss:// is refused, named with where it came from; so is an empty list', () => {
    const err = (() => {
      try {
        resolveRelays(undefined, { SEALPOST_RELAY: 'ws://c:3,http://d:4' })
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(RelayUrlError)
    expect((err as RelayUrlError).shortMessage).toBe(
      'SEALPOST_RELAY "http://d:4" is not a relay URL: use ws:// or wss://.',
    )
    expect(() => resolveRelays(' , ', {})).toThrow(RelayUrlError)
  })
})
