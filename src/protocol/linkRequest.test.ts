import { getAddress, type Hex } from 'viem'
import { expect, test } from 'vitest'
import { DeviceSigningKey } from '../crypto/p256.js'
import { proveDeviceKeys, signMlsPop } from '../crypto/pop.js'
import {
  checkLinkRequest,
  decodeLinkRequest,
  encodeLinkRequest,
  keyFingerprint,
  LINK_URI_PREFIX,
  type LinkRequest,
  LinkRequestCodecError,
  linkRequestFingerprints,
  linkRequestFromText,
  linkRequestSigningInput,
  linkRequestToUri,
} from './linkRequest.js'

const hex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`
// RFC 8032 test 1's secret key: any 32 bytes are an Ed25519 key.
const mlsSecret = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')
const mlsKey: Hex = '0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'

function makeRequest(overrides: Partial<LinkRequest> = {}): { request: LinkRequest; key: DeviceSigningKey } {
  const key = DeviceSigningKey.generate()
  const context = {
    chainId: 31337,
    registry: getAddress('0x5fbdb2315678afecb367f032d93f642f64180aa3'),
    account: getAddress('0x70997970c51812dc3a010c7d01b50e0d17dc79c8'),
    p256X: key.p256X,
    p256Y: key.p256Y,
    mlsKey,
  }
  const unsigned = {
    ...context,
    expiresAt: 1_900_000_000,
    nonce: `0x${'ab'.repeat(16)}` as Hex,
    name: 'laptop',
    ...proveDeviceKeys({ ...context, signingKey: key, mlsSignKey: mlsSecret }),
    ...overrides,
  }
  return { request: { ...unsigned, signature: hex(key.sign(linkRequestSigningInput(unsigned))) }, key }
}

test('a request round-trips through bytes and the URI, and every check passes (proofs made by crypto/pop.ts)', () => {
  const { request } = makeRequest()
  const bytes = encodeLinkRequest(request)
  // 1+8+20+20+8+16+1+6 name+32·4+2+32+2+64 + 64 signature
  expect(bytes.length).toBe(372)
  expect(decodeLinkRequest(bytes)).toEqual(request)
  const uri = linkRequestToUri(request)
  expect(uri.startsWith(LINK_URI_PREFIX)).toBe(true)
  expect(uri.length).toBe(LINK_URI_PREFIX.length + 496)
  expect(linkRequestFromText(uri)).toEqual(request)
  expect(linkRequestFromText(`  ${uri.slice(LINK_URI_PREFIX.length, 100)}\n${uri.slice(100)} `)).toEqual(
    request,
  )
  expect(checkLinkRequest(request)).toEqual({ signature: true, p256Pop: true, mlsPop: true })
})

test('flipping a byte of any field breaks the decoding or the signature', () => {
  const { request } = makeRequest()
  const bytes = encodeLinkRequest(request)
  // The first and last byte of every field (offsets of protocol §2.4 for a 6-character name and a 32-byte MLS key).
  const starts = [0, 1, 9, 29, 49, 57, 73, 74, 80, 112, 144, 176, 208, 210, 242, 244, 308, 372]
  const flips = starts.slice(0, -1).flatMap((start, i) => [start, (starts[i + 1] as number) - 1])
  for (const i of flips) {
    const altered = bytes.slice()
    altered[i] = (altered[i] as number) ^ 0x01
    let decoded: LinkRequest
    try {
      decoded = decodeLinkRequest(altered)
    } catch (err) {
      expect(err).toBeInstanceOf(LinkRequestCodecError)
      continue
    }
    expect(checkLinkRequest(decoded).signature, `byte ${i}`).toBe(false)
  }
})

test('proofs of possession are checked for this account and chain, not only the signature', () => {
  const other = getAddress('0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc')
  // A device that re-signs the request for another account keeps proofs made for the first one.
  const { request, key } = makeRequest()
  const moved = { ...request, account: other }
  const resigned = { ...moved, signature: hex(key.sign(linkRequestSigningInput(moved))) }
  expect(checkLinkRequest(resigned)).toEqual({ signature: true, p256Pop: false, mlsPop: false })
  const wrongMls = makeRequest({ mlsPop: signMlsPop(mlsSecret, { ...request, chainId: 1 }) }).request
  expect(checkLinkRequest(wrongMls)).toEqual({ signature: true, p256Pop: true, mlsPop: false })
})

test('malformed input is a LinkRequestCodecError naming the reason', () => {
  const { request } = makeRequest()
  const bytes = encodeLinkRequest(request)
  const reason = (input: Uint8Array | string) => {
    try {
      if (typeof input === 'string') linkRequestFromText(input)
      else decodeLinkRequest(input)
    } catch (err) {
      expect(err).toBeInstanceOf(LinkRequestCodecError)
      return (err as LinkRequestCodecError).metaMessages[0]
    }
    return 'accepted'
  }
  expect(reason(bytes.slice(0, 100))).toBe('Reason: truncated at p256X')
  expect(reason(Uint8Array.from([...bytes, 0]))).toBe('Reason: trailing bytes')
  expect(reason(Uint8Array.from([2, ...bytes.slice(1)]))).toBe('Reason: unknown version 2')
  expect(reason('sealpost:link?v=2&r=AQ')).toBe('Reason: expected a URI starting with sealpost:link?v=1&r=')
  expect(reason('not base64!')).toBe('Reason: not base64url')
  expect(() => encodeLinkRequest({ ...request, name: 'two words' })).toThrow(LinkRequestCodecError)
})

test('fingerprints: eight groups of four hex digits of SHA-256(key); the device id is keccak256(x ‖ y)', () => {
  expect(keyFingerprint(new Uint8Array(0))).toBe('e3b0 c442 98fc 1c14 9afb f4c8 996f b924')
  const { request, key } = makeRequest()
  const fingerprints = linkRequestFingerprints(request)
  expect(fingerprints.p256).toBe(keyFingerprint(key.publicKey))
  expect(fingerprints.mls).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/)
  expect(fingerprints.deviceId).toMatch(/^0x[0-9a-f]{64}$/)
})
