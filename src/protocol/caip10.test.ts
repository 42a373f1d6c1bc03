import fc from 'fast-check'
import { type Address, getAddress, toHex } from 'viem'
import { describe, expect, test } from 'vitest'
import { InvalidCaip10Error, parseCaip10, splitCaip10, toCaip10 } from './caip10.js'

// Test cases of CAIP-10 (ChainAgnostic/CAIPs, CAIPs/caip-10.md, "Test Cases"): valid account ids of several
// namespaces, including the maximum length.
const specVectors = [
  [
    'eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb',
    'eip155',
    '1',
    '0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb',
  ],
  [
    'bip122:000000000019d6689c085ae165831e93:128Lkh3S7CkDTBZ8W7BbpsN3YYizJMp8p6',
    'bip122',
    '000000000019d6689c085ae165831e93',
    '128Lkh3S7CkDTBZ8W7BbpsN3YYizJMp8p6',
  ],
  [
    'cosmos:cosmoshub-3:cosmos1t2uflqwqe0fsj0shcfkrvpukewcw40yjj6hdc0',
    'cosmos',
    'cosmoshub-3',
    'cosmos1t2uflqwqe0fsj0shcfkrvpukewcw40yjj6hdc0',
  ],
  [
    'polkadot:b0a8d493285c2df73290dfb7e61f870f:5hmuyxw9xdgbpptgypokw4thfyoe3ryenebr381z9iaegmfy',
    'polkadot',
    'b0a8d493285c2df73290dfb7e61f870f',
    '5hmuyxw9xdgbpptgypokw4thfyoe3ryenebr381z9iaegmfy',
  ],
  [
    'starknet:SN_GOERLI:0x02dd1b492765c064eac4039e3841aa5f382773b598097a40073bd8b48170ab57',
    'starknet',
    'SN_GOERLI',
    '0x02dd1b492765c064eac4039e3841aa5f382773b598097a40073bd8b48170ab57',
  ],
  [
    'chainstd:8c3444cf8970a9e41a706fab93e7a6c4:6d9b0b4b9994e8a6afbd3dc3ed983cd51c755afb27cd1dc7825ef59c134a39f7',
    'chainstd',
    '8c3444cf8970a9e41a706fab93e7a6c4',
    '6d9b0b4b9994e8a6afbd3dc3ed983cd51c755afb27cd1dc7825ef59c134a39f7',
  ],
  ['hedera:mainnet:0.0.1234567890-zbhlt', 'hedera', 'mainnet', '0.0.1234567890-zbhlt'],
] as const

// Test cases of the eip155 namespace's CAIP-10 profile (ChainAgnostic/namespaces, eip155/caip10.md): the checksummed
// forms validate, the all-lower and all-upper forms "will not validate in EIP155-conformant systems".
const eip155Valid = [
  ['eip155:1:0x22227A31dd842196A246d8f3b775998560eAa61d', 1],
  ['eip155:137:0x0495766cD136138Fc492Dd499B8DC87A92D6685b', 137],
] as const
const eip155NotChecksummed = [
  'eip155:1:0x22227a31dd842196a246d8f3b775998560eaa61d',
  'eip155:137:0x0495766CD136138FC492DD499B8DC87A92D6685B',
]

describe('CAIP-10 syntax', () => {
  test.each(specVectors)('%s splits into its parts', (id, namespace, reference, address) => {
    expect(splitCaip10(id)).toEqual({ namespace, reference, address })
  })

  test('the spec vector of another namespace is valid CAIP-10 but not an EVM account', () => {
    expect(() => parseCaip10(specVectors[1][0])).toThrow(/namespace bip122 is not eip155/)
  })

  test.each([
    '',
    'eip155:1',
    'e:1:0x22227A31dd842196A246d8f3b775998560eAa61d', // namespace shorter than 3
    'EIP155:1:0x22227A31dd842196A246d8f3b775998560eAa61d', // namespace is lower case
    `eip155:${'1'.repeat(33)}:0x22227A31dd842196A246d8f3b775998560eAa61d`, // reference longer than 32
    `chainstd:1:${'a'.repeat(129)}`, // address longer than 128
    'eip155:1:0x22227A31dd842196A246d8f3b775998560eAa61d ',
    'eip155:1:0x22227A31:dd842196A246d8f3b775998560eAa61d',
  ])('%j is not CAIP-10', (id) => {
    expect(() => splitCaip10(id)).toThrow(InvalidCaip10Error)
  })
})

describe('EVM accounts (eip155)', () => {
  test.each(eip155Valid)('%s parses, also strictly, and formats back', (id, chainId) => {
    const address = id.slice(id.lastIndexOf(':') + 1) as Address
    expect(parseCaip10(id, { strict: true })).toEqual({ chainId, address })
    expect(toCaip10({ chainId, address })).toBe(id)
  })

  test.each(eip155NotChecksummed)('%s: refused strictly, read as the checksummed account otherwise', (id) => {
    expect(() => parseCaip10(id, { strict: true })).toThrow(/checksum is wrong/)
    const parsed = parseCaip10(id)
    expect(toCaip10(parsed)).toBe(eip155Valid.find(([v]) => v.toLowerCase() === id.toLowerCase())![0])
  })

  test('the CAIP-10 spec vector formats as its checksummed form', () => {
    const { chainId, address } = parseCaip10(specVectors[0][0], { strict: true })
    expect(toCaip10({ chainId, address })).toBe(specVectors[0][0])
  })

  test.each([
    ['eip155:01:0x22227A31dd842196A246d8f3b775998560eAa61d', /without leading zeros/],
    ['eip155:0:0x22227A31dd842196A246d8f3b775998560eAa61d', /without leading zeros/],
    ['eip155:mainnet:0x22227A31dd842196A246d8f3b775998560eAa61d', /decimal number/],
    ['eip155:99999999999999999:0x22227A31dd842196A246d8f3b775998560eAa61d', /too large|without leading/],
    ['eip155:1:0x22227A31dd842196A246d8f3b775998560eAa61', /0x-address/],
    ['eip155:1:0x22227A31dd842196A246d8f3b775998560eAa61D', /checksum is wrong/],
    ['eip155:1:22227A31dd842196A246d8f3b775998560eAa61d00', /0x-address/],
  ])('%s is refused: %s', (id, reason) => {
    expect(() => parseCaip10(id)).toThrow(InvalidCaip10Error)
    expect(() => parseCaip10(id)).toThrow(reason)
  })

  test('format then parse gives the account back (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        (chainId, raw) => {
          const address = getAddress(toHex(raw))
          expect(parseCaip10(toCaip10({ chainId, address }), { strict: true })).toEqual({ chainId, address })
        },
      ),
    )
  })
})
