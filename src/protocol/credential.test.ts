import fc from 'fast-check'
import { bytesToHex, getAddress, type Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { CodecError } from '../errors.js'
import {
  CREDENTIAL_IDENTITY_BYTES,
  CREDENTIAL_VERSION,
  CredentialIdentityError,
  type DeviceIdentity,
  decodeDeviceIdentity,
  encodeDeviceIdentity,
} from './credential.js'

const identity: DeviceIdentity = {
  chainId: 31337,
  account: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  deviceId: `0x${'a1'.repeat(32)}`,
}

const identityArb: fc.Arbitrary<DeviceIdentity> = fc.record({
  chainId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  account: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(bytesToHex(b))),
  deviceId: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b): Hex => bytesToHex(b)),
})

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}

function expectMalformed(bytes: unknown, reason: string) {
  const err = thrown(() => decodeDeviceIdentity(bytes as Uint8Array))
  expect(err).toBeInstanceOf(CredentialIdentityError)
  expect(err).toBeInstanceOf(CodecError)
  expect((err as CredentialIdentityError).code).toBe('SEALPOST_CREDENTIAL_MALFORMED')
  expect((err as CredentialIdentityError).metaMessages).toEqual([`Reason: ${reason}`])
}

describe('device identity encoding', () => {
  test('known encoding: version | chainId u64 BE | account | deviceId', () => {
    const bytes = encodeDeviceIdentity(identity)
    expect(bytes.length).toBe(CREDENTIAL_IDENTITY_BYTES)
    expect(bytes[0]).toBe(CREDENTIAL_VERSION)
    expect(bytesToHex(bytes)).toMatchInlineSnapshot(
      `"0x010000000000007a69f39fd6e51aad88f6f4ce6ab8827279cfffb92266a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"`,
    )
    expect(decodeDeviceIdentity(bytes)).toEqual(identity)
  })

  test('decode(encode(x)) equals x', () => {
    fc.assert(
      fc.property(identityArb, (x) => {
        const bytes = encodeDeviceIdentity(x)
        expect(bytes.length).toBe(CREDENTIAL_IDENTITY_BYTES)
        expect(decodeDeviceIdentity(bytes)).toEqual(x)
      }),
    )
  })

  test('a lower-case account decodes checksummed; the deviceId decodes lower-case', () => {
    const upper = `0x${'AB'.repeat(32)}` as Hex
    const decoded = decodeDeviceIdentity(
      encodeDeviceIdentity({ ...identity, account: identity.account.toLowerCase() as Hex, deviceId: upper }),
    )
    expect(decoded.account).toBe(identity.account)
    expect(decoded.deviceId).toBe(upper.toLowerCase())
  })

  test('decodes from a subarray with a non-zero byteOffset', () => {
    const inner = encodeDeviceIdentity(identity)
    const outer = new Uint8Array(inner.length + 7)
    outer.set(inner, 7)
    expect(decodeDeviceIdentity(outer.subarray(7))).toEqual(identity)
  })

  test('encoding a deviceId that is not 32 bytes -> CredentialIdentityError', () => {
    for (const deviceId of [`0x${'11'.repeat(31)}`, `0x${'11'.repeat(33)}`, '0x'] as Hex[]) {
      const err = thrown(() => encodeDeviceIdentity({ ...identity, deviceId }))
      expect(err).toBeInstanceOf(CredentialIdentityError)
      expect((err as CredentialIdentityError).metaMessages).toEqual(['Reason: deviceId must be 32 bytes'])
    }
  })
})

describe('malformed identities', () => {
  test.each([0, 1, 60, 62, 200])('wrong length %i -> CredentialIdentityError', (length) => {
    expectMalformed(new Uint8Array(length), 'expected 61 bytes')
  })

  test('not a Uint8Array -> CredentialIdentityError', () => {
    expectMalformed('0x01', 'expected 61 bytes')
    expectMalformed(Array.from(encodeDeviceIdentity(identity)), 'expected 61 bytes')
  })

  test.each([0, 2, 0xff])('version %i -> CredentialIdentityError', (version) => {
    const bytes = encodeDeviceIdentity(identity)
    bytes[0] = version
    expectMalformed(bytes, 'unknown version')
  })

  test('chain id 0 -> CredentialIdentityError', () => {
    const bytes = encodeDeviceIdentity(identity)
    bytes.fill(0, 1, 9)
    expectMalformed(bytes, 'chain id out of range')
  })

  test('chain id above 2^53 - 1 -> CredentialIdentityError; exactly 2^53 - 1 decodes', () => {
    const bytes = encodeDeviceIdentity(identity)
    const view = new DataView(bytes.buffer)
    view.setBigUint64(1, BigInt(Number.MAX_SAFE_INTEGER))
    expect(decodeDeviceIdentity(bytes).chainId).toBe(Number.MAX_SAFE_INTEGER)
    view.setBigUint64(1, BigInt(Number.MAX_SAFE_INTEGER) + 1n)
    expectMalformed(bytes, 'chain id out of range')
    view.setBigUint64(1, 2n ** 64n - 1n)
    expectMalformed(bytes, 'chain id out of range')
  })

  test('error message names the reason and nothing from the input', () => {
    const err = thrown(() => decodeDeviceIdentity(new Uint8Array(3)))
    expect((err as Error).message).toMatchInlineSnapshot(`
      "MLS credential identity is not a Sealpost device identity.

      Reason: expected 61 bytes"
    `)
  })

  test('random bytes never throw anything but a CodecError subclass', () => {
    const anyBytes = fc.oneof(
      fc.uint8Array({ maxLength: 128 }),
      fc.uint8Array({ minLength: 61, maxLength: 61 }),
      // Mostly well-formed: a valid header, random rest.
      fc.uint8Array({ minLength: 60, maxLength: 60 }).map((rest) => Uint8Array.from([1, ...rest])),
    )
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        try {
          const decoded = decodeDeviceIdentity(bytes)
          // Whatever decodes re-encodes to the same bytes.
          expect(encodeDeviceIdentity(decoded)).toEqual(bytes)
        } catch (e) {
          expect(e).toBeInstanceOf(CredentialIdentityError)
        }
      }),
    )
  })
})
