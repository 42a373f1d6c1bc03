import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { configuredChains, parseAddressArg } from './address.js'
import { AccountChainError, AddressArgumentError } from './errors.js'

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
    [`eip155:31337:${checksummed.slice(0, 41)}c`, /not a CAIP-10 EVM account: address checksum is wrong/],
    [`cosmos:cosmoshub-3:${checksummed}`, /not a CAIP-10 EVM account: namespace cosmos is not eip155/],
    ['eip155:031337:0x70997970c51812dc3a010c7d01b50e0d17dc79c8', /without leading zeros/],
  ])('%s is refused with the reason', (value, reason) => {
    expect(() => parseAddressArg(value, 'PEER', [31337])).toThrow(AddressArgumentError)
    expect(() => parseAddressArg(value, 'PEER', [31337])).toThrow(reason)
  })

  test('accepts a CAIP-10 account of a configured chain, and refuses one of another chain (typed)', () => {
    expect(parseAddressArg(`eip155:31337:${checksummed}`, 'PEER', [31337])).toBe(checksummed)
    expect(parseAddressArg(`eip155:31338:${checksummed.toLowerCase()}`, 'PEER', [31337, 31338])).toBe(
      checksummed,
    )
    const e = (() => {
      try {
        parseAddressArg(`eip155:31338:${checksummed}`, 'PEER', [31337])
      } catch (err) {
        return err
      }
    })()
    expect(e).toBeInstanceOf(AccountChainError)
    expect((e as AccountChainError).code).toBe('SEALPOST_ACCOUNT_CHAIN')
    expect((e as Error).message).toMatchInlineSnapshot(`
      "PEER eip155:31338:0x70997970C51812dc3A010C7d01b50e0d17dc79C8 is on a chain this command is not configured for.

      Configured chains: eip155:31337 (the pinned deployment)
      Pin a deployment of that chain (--deployment FILE), or name an account of a configured chain."
    `)
    // A flag that names a contract, not an account, passes no chains: CAIP-10 is refused there.
    expect(() => parseAddressArg(`eip155:31337:${checksummed}`, '--verifier')).toThrow(
      /Configured chains: none/,
    )
  })
})

describe('configuredChains', () => {
  test("is the pinned deployment's chain, or none", () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-address-'))
    try {
      const file = join(dir, 'deployment.json')
      expect(configuredChains({ deploymentFile: file })).toEqual([])
      writeFileSync(
        file,
        JSON.stringify({
          chainId: 31338,
          keyRegistry: checksummed,
          messageAnchor: checksummed,
          deployBlock: '1',
        }),
      )
      expect(configuredChains({ deploymentFile: file })).toEqual([31338])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
