import { expect, test } from 'vitest'
import { RelayStoreError, RelayStoreUnavailableError } from '../store/relayStore.js'
import { RelayUnavailableError } from './errors.js'
import { storeErrorCode } from './storeErrorCode.js'

test('an unreachable store (also as a cause) maps to RELAY_UNAVAILABLE, anything else to RELAY_INTERNAL', () => {
  const unavailable = new RelayStoreUnavailableError({ operation: 'subscribe' })
  expect(storeErrorCode(unavailable)).toBe('RELAY_UNAVAILABLE')
  expect(storeErrorCode(new RelayUnavailableError({ cause: unavailable }))).toBe('RELAY_UNAVAILABLE')
  expect(storeErrorCode(new RelayStoreError({ operation: 'append', cause: new Error('disk') }))).toBe(
    'RELAY_INTERNAL',
  )
  expect(storeErrorCode(new Error('boom'))).toBe('RELAY_INTERNAL')
  expect(storeErrorCode(undefined)).toBe('RELAY_INTERNAL')
})
