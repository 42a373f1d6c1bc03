import { describe, expect, test } from 'vitest'
import { parseAddressArg } from './address.js'
import { AddressArgumentError } from './errors.js'

const checksummed = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'

describe('parseAddressArg', () => {
  test('accepts a checksummed, an all-lower and an all-upper address', () => {
    expect(parseAddressArg(checksummed, 'PEER')).toBe(checksummed)
    expect(parseAddressArg(checksummed.toLowerCase(), 'PEER')).toBe(checksummed)
    expect(parseAddressArg(`0x${checksummed.slice(2).toUpperCase()}`, 'PEER')).toBe(checksummed)
  })

  test.each([
    ['0x12', /it has 2 hex digits, not 40/],
    [checksummed.slice(2), /does not start with 0x/],
    [`${checksummed.slice(0, 41)}z`, /not hex digits/],
    [`${checksummed.slice(0, 41)}c`, /EIP-55 checksum does not match/],
  ])('%s is refused with the reason', (value, reason) => {
    expect(() => parseAddressArg(value, 'PEER')).toThrow(AddressArgumentError)
    expect(() => parseAddressArg(value, 'PEER')).toThrow(reason)
  })
})
