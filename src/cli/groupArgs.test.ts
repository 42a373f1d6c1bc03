import { describe, expect, test } from 'vitest'
import { AddressArgumentError, ArgumentError } from './errors.js'
import { parseAccountList } from './groupArgs.js'

const bob = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const carol = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'

describe('account lists on the command line', () => {
  test('comma-separated and separate arguments both work, checksummed', () => {
    expect(parseAccountList([`${bob.toLowerCase()},${carol}`], 'MEMBER')).toEqual([bob, carol])
    expect(parseAccountList([bob, `${carol},`], 'ACCOUNT')).toEqual([bob, carol])
  })

  test('an empty list and a bad address are typed errors', () => {
    expect(() => parseAccountList([','], 'MEMBER')).toThrow(ArgumentError)
    expect(() => parseAccountList([`${bob},0x12`], 'MEMBER')).toThrow(AddressArgumentError)
  })
})
