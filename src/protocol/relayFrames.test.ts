import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { getAddress, type Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import {
  CLIENT_FRAME_TYPES_WITH_REQ_ID,
  type ClientFrame,
  decodeClientFrame,
  decodeRelayFrame,
  encodeClientFrame,
  encodeRelayFrame,
  isRelayErrorCode,
  peekReqId,
  RELAY_ERROR_CODES,
  RETIRED_CLIENT_FRAME_TYPES,
  type RelayFrame,
  RelayFrameError,
  RelayFrameFieldError,
  relayAuthMessage,
  relayFrameTypes,
} from './relayFrames.js'
import { type TopicPreimage, topicOf } from './topics.js'

const hexN = (n: number) =>
  fc.uint8Array({ minLength: n, maxLength: n }).map((b) => `0x${Buffer.from(b).toString('hex')}` as Hex)
const address = hexN(20).map((h) => getAddress(h))
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
const safe = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
const bytes = fc.uint8Array({ maxLength: 300 })
const code = fc.oneof(
  fc.constantFrom(...RELAY_ERROR_CODES),
  fc.string({
    maxLength: 255,
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  }),
)

const chainId = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })
const preimage: fc.Arbitrary<TopicPreimage> = fc.oneof(
  fc.record({ kind: fc.constant('inbox' as const), deviceId: hexN(32) }),
  fc.record({ kind: fc.constant('welcome-tree' as const), welcomeDigest: hexN(32) }),
  fc.record({ kind: fc.constant('group' as const), chainId, registry: address, nonce: hexN(32) }),
  fc
    .record({
      chainId,
      registry: address,
      pair: fc.uniqueArray(address, { minLength: 2, maxLength: 2 }),
      nonce: hexN(32),
    })
    .map(({ pair, ...rest }) => {
      const [a, b] = pair.sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1)) as [Hex, Hex]
      return { kind: 'direct' as const, ...rest, a, b }
    }),
)

const clientFrame: fc.Arbitrary<ClientFrame> = fc.oneof(
  fc.record({
    type: fc.constant('auth' as const),
    account: address,
    deviceId: hexN(32),
    signature: hexN(64),
  }),
  fc.record({ type: fc.constant('publish' as const), reqId: u32, envelope: bytes }),
  fc.record({ type: fc.constant('subscribe' as const), reqId: u32, topic: hexN(32), after: u64, preimage }),
  fc.record({ type: fc.constant('unsubscribe' as const), reqId: u32, topic: hexN(32) }),
  fc.record({ type: fc.constant('ack' as const), topic: hexN(32), seq: u64 }),
  fc.record({
    type: fc.constant('kp-put' as const),
    reqId: u32,
    envelopes: fc.array(bytes, { maxLength: 5 }),
  }),
  fc.record({ type: fc.constant('kp-take' as const), reqId: u32, deviceId: hexN(32) }),
  fc.record({ type: fc.constant('kp-count' as const), reqId: u32, deviceId: hexN(32) }),
  fc.record({ type: fc.constant('leaf' as const), reqId: u32, topic: hexN(32), leaf: hexN(32) }),
)

const relayFrame: fc.Arbitrary<RelayFrame> = fc.oneof(
  fc.record({
    type: fc.constant('challenge' as const),
    challenge: hexN(32),
    expiresAt: safe,
    chainId: safe,
    registry: address,
  }),
  fc.record({ type: fc.constant('auth-ok' as const), account: address, deviceId: hexN(32) }),
  fc.record({ type: fc.constant('ok' as const), reqId: u32, value: u64 }),
  fc.record({ type: fc.constant('error' as const), reqId: u32, code }),
  fc.record({ type: fc.constant('deliver' as const), topic: hexN(32), seq: u64, envelope: bytes }),
  fc.record({ type: fc.constant('kp' as const), reqId: u32, envelope: fc.option(bytes, { nil: undefined }) }),
  fc.record({
    type: fc.constant('acks' as const),
    topic: hexN(32),
    acks: fc.array(fc.record({ deviceId: hexN(32), seq: u64 }), { maxLength: 6 }),
  }),
  fc.record({
    type: fc.constant('expired' as const),
    topic: hexN(32),
    seq: u64,
    id: hexN(32),
    expiredAt: safe,
    recipients: fc.array(hexN(32), { maxLength: 6 }),
  }),
)

/** Compares byte fields by content (decoded ones are views into the frame). */
const plain = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value, (_, v) =>
      typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
    ),
  )

const expectOnlyFrameErrors = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(RelayFrameError)
    expect((err as RelayFrameError).code).toBe('SEALPOST_RELAY_FRAME_MALFORMED')
  }
}

describe('round trips', () => {
  test('every client frame type', () => {
    fc.assert(
      fc.property(clientFrame, (frame) => {
        expect(plain(decodeClientFrame(encodeClientFrame(frame)))).toEqual(plain(frame))
      }),
      { numRuns: 500 },
    )
  })

  test('every relay frame type', () => {
    fc.assert(
      fc.property(relayFrame, (frame) => {
        expect(plain(decodeRelayFrame(encodeRelayFrame(frame)))).toEqual(plain(frame))
      }),
      { numRuns: 500 },
    )
  })

  test('fixed encodings', () => {
    const topic: Hex = `0x${'ab'.repeat(32)}`
    const deviceId: Hex = `0x${'cd'.repeat(32)}`
    const subscribe = {
      type: 'subscribe',
      reqId: 7,
      topic,
      after: 3n,
      preimage: { kind: 'inbox', deviceId },
    } as const
    expect(Buffer.from(encodeClientFrame(subscribe)).toString('hex')).toBe(
      `0a00000007${'ab'.repeat(32)}000000000000000301${'cd'.repeat(32)}`,
    )
    expect(
      Buffer.from(encodeRelayFrame({ type: 'error', reqId: 1, code: 'RELAY_FORBIDDEN' })).toString('hex'),
    ).toBe(`84000000010f${Buffer.from('RELAY_FORBIDDEN').toString('hex')}`)
    expect(Buffer.from(encodeRelayFrame({ type: 'kp', reqId: 2, envelope: undefined })).toString('hex')).toBe(
      '860000000200',
    )
    expect(
      Buffer.from(encodeClientFrame({ type: 'kp-put', reqId: 1, envelopes: [Uint8Array.of(9, 9)] })).toString(
        'hex',
      ),
    ).toBe('06000000010001000000020909')
  })
})

describe('decoding untrusted bytes', () => {
  test('random bytes only ever throw RelayFrameError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
        expectOnlyFrameErrors(() => decodeClientFrame(input))
        expectOnlyFrameErrors(() => decodeRelayFrame(input))
      }),
      { numRuns: 2000 },
    )
  })

  test('random bytes behind every known type byte only ever throw RelayFrameError', () => {
    const types = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0a, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88]
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 200 }), (type, body) => {
        const input = Uint8Array.of(type, ...body)
        expectOnlyFrameErrors(() => decodeClientFrame(input))
        expectOnlyFrameErrors(() => decodeRelayFrame(input))
      }),
      { numRuns: 2000 },
    )
  })

  test('truncation at every offset throws RelayFrameError (except frames ending in a free-length tail)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          clientFrame.map((f) => ['c', f] as const),
          relayFrame.map((f) => ['r', f] as const),
        ),
        ([side, frame]) => {
          const full =
            side === 'c' ? encodeClientFrame(frame as ClientFrame) : encodeRelayFrame(frame as RelayFrame)
          const decode = side === 'c' ? decodeClientFrame : decodeRelayFrame
          // PUBLISH, DELIVER and a present KP end in "rest of frame": any cut after their header still parses.
          const tail =
            frame.type === 'publish'
              ? 5
              : frame.type === 'deliver'
                ? 41
                : frame.type === 'kp' && frame.envelope
                  ? 6
                  : undefined
          for (let cut = 0; cut < full.length; cut++) {
            const prefix = full.subarray(0, cut)
            if (tail !== undefined && cut >= tail) {
              expect(() => decode(prefix)).not.toThrow()
              continue
            }
            expect(() => decode(prefix)).toThrow(RelayFrameError)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  test('trailing bytes, unknown types and bad fields are rejected', () => {
    const topic: Hex = `0x${'11'.repeat(32)}`
    const ack = encodeClientFrame({ type: 'ack', topic, seq: 1n })
    expect(() => decodeClientFrame(Uint8Array.of(...ack, 0))).toThrowErrorMatchingInlineSnapshot(`
      [RelayFrameError: Relay frame is malformed.

      Frame type: 0x05
      Reason: trailing bytes]
    `)
    expect(() => decodeClientFrame(Uint8Array.of(0x42))).toThrow(/unknown client frame type/)
    expect(() => decodeClientFrame(Uint8Array.of(0x81))).toThrow(RelayFrameError) // relay frame sent by a client
    expect(() => decodeRelayFrame(Uint8Array.of(0x01))).toThrow(RelayFrameError)
    expect(() => decodeClientFrame(new Uint8Array())).toThrow(/empty frame/)
    expect(() => decodeRelayFrame(Uint8Array.of(0x86, 0, 0, 0, 1, 2))).toThrow(/present flag/)
    expect(() => decodeRelayFrame(Uint8Array.of(0x84, 0, 0, 0, 1, 1, 0x0a))).toThrow(/printable/)
    const challenge = encodeRelayFrame({
      type: 'challenge',
      challenge: topic,
      expiresAt: 1,
      chainId: 1,
      registry: `0x${'22'.repeat(20)}`,
    })
    challenge.fill(0xff, 33, 41) // expiresAt = 2^64 - 1
    expect(() => decodeRelayFrame(challenge)).toThrow(/expiresAt is above/)
    expect(() => decodeClientFrame('nope' as unknown as Uint8Array)).toThrow(RelayFrameError)
  })

  test('a KP_PUT entry length past the end is truncated, not an allocation', () => {
    const frame = Uint8Array.of(0x06, 0, 0, 0, 1, 0, 1, 0xff, 0xff, 0xff, 0xff, 1, 2)
    expect(() => decodeClientFrame(frame)).toThrow(/truncated/)
  })
})

describe('encoding', () => {
  test('bad fields throw RelayFrameFieldError', () => {
    const topic: Hex = `0x${'11'.repeat(32)}`
    const preimage = { kind: 'inbox', deviceId: topic } as const
    const subscribe = { type: 'subscribe', reqId: 1, topic, after: 0n, preimage } as const
    expect(() => encodeClientFrame({ ...subscribe, reqId: -1 })).toThrow(RelayFrameFieldError)
    expect(() => encodeClientFrame({ ...subscribe, reqId: 2 ** 32 })).toThrow(RelayFrameFieldError)
    expect(() => encodeClientFrame({ ...subscribe, topic: '0x11' })).toThrow(RelayFrameFieldError)
    expect(() => encodeClientFrame({ ...subscribe, preimage: { kind: 'inbox', deviceId: '0x11' } })).toThrow(
      /deviceId must be 32 bytes/,
    )
    expect(() =>
      encodeClientFrame({ ...subscribe, preimage: { kind: 'x' } as unknown as TopicPreimage }),
    ).toThrow(RelayFrameFieldError)
    expect(() => encodeClientFrame({ type: 'ack', topic, seq: 2n ** 64n })).toThrow(RelayFrameFieldError)
    expect(() => encodeRelayFrame({ type: 'error', reqId: 0, code: 'é' })).toThrow(RelayFrameFieldError)
    expect(() => encodeRelayFrame({ type: 'error', reqId: 0, code: 'A'.repeat(256) })).toThrow(
      RelayFrameFieldError,
    )
    expect(() => encodeClientFrame({ type: 'nope' } as unknown as ClientFrame)).toThrow(RelayFrameFieldError)
  })
})

describe('relayAuthMessage', () => {
  test('is label || 0x00 || challenge || account || deviceId', () => {
    const challenge: Hex = `0x${'01'.repeat(32)}`
    const account = getAddress(`0x${'02'.repeat(20)}`)
    const deviceId: Hex = `0x${'03'.repeat(32)}`
    const message = relayAuthMessage({ challenge, account, deviceId })
    expect(message.length).toBe(22 + 1 + 32 + 20 + 32)
    expect(Buffer.from(message).toString('hex')).toBe(
      `${Buffer.from('sealpost/v1/relay-auth').toString('hex')}00${'01'.repeat(32)}${'02'.repeat(20)}${'03'.repeat(32)}`,
    )
    expect(() => relayAuthMessage({ challenge: '0x01', account, deviceId })).toThrow(RelayFrameFieldError)
  })

  test('error code list', () => {
    expect(RELAY_ERROR_CODES).toHaveLength(17)
    expect(isRelayErrorCode('RELAY_QUARANTINED')).toBe(true) // a device held by the IDS response policy
    expect(isRelayErrorCode('RELAY_UNAVAILABLE')).toBe(true) // a cluster relay without its store
    expect(isRelayErrorCode('RELAY_LOOKUP_LIMITED')).toBe(true)
    expect(isRelayErrorCode('RELAY_TOPIC_MISMATCH')).toBe(true)
    expect(isRelayErrorCode('RELAY_FRAME_OUTDATED')).toBe(true)
    expect(isRelayErrorCode('RELAY_TOPIC_UNVERIFIED')).toBe(false) // retired with SUBSCRIBE v1
    expect(isRelayErrorCode('RELAY_QUEUE_FULL')).toBe(true)
    expect(isRelayErrorCode('SOMETHING_ELSE')).toBe(false)
  })
})

describe('peekReqId', () => {
  test('reads the reqId of every client frame type that carries one, without decoding the rest', () => {
    fc.assert(
      fc.property(clientFrame, (frame) => {
        const bytes = encodeClientFrame(frame)
        expect(peekReqId(bytes)).toBe('reqId' in frame ? frame.reqId : 0)
        // The rest of the frame does not matter: a truncated or oversized body still names its request.
        expect(peekReqId(Uint8Array.of(...bytes.subarray(0, 5), 0xff))).toBe(
          'reqId' in frame ? frame.reqId : 0,
        )
      }),
      { numRuns: 300 },
    )
  })

  test('is 0 for AUTH, ACK, relay frames, unknown types and frames too short to hold a reqId', () => {
    expect(peekReqId(new Uint8Array())).toBe(0)
    expect(peekReqId(Uint8Array.of(relayFrameTypes.publish, 0, 0, 1))).toBe(0)
    expect(peekReqId(Uint8Array.of(relayFrameTypes.publish, 0, 0, 1, 2))).toBe(258)
    expect(peekReqId(Uint8Array.of(relayFrameTypes.ack, 0, 0, 1, 2))).toBe(0)
    expect(peekReqId(Uint8Array.of(relayFrameTypes.auth, 0, 0, 1, 2))).toBe(0)
    expect(peekReqId(Uint8Array.of(relayFrameTypes.ok, 0, 0, 1, 2))).toBe(0)
    expect(peekReqId(Uint8Array.of(0x42, 0, 0, 1, 2))).toBe(0)
    // A view into a larger buffer reads from its own offset.
    expect(peekReqId(Uint8Array.of(9, 9, relayFrameTypes.leaf, 0xff, 0xff, 0xff, 0xff).subarray(2))).toBe(
      0xffffffff,
    )
  })

  test('names exactly the client frames with a reqId field', () => {
    // 0x03 is SUBSCRIBE v1: retired, but its reqId is still read to answer RELAY_FRAME_OUTDATED.
    expect([...CLIENT_FRAME_TYPES_WITH_REQ_ID].sort((a, b) => a - b)).toEqual([2, 3, 4, 6, 7, 8, 9, 10])
  })
})

// ---------------------------------------------------------------------------------------------------------
// Frozen vectors

type VectorFrame = Record<string, unknown>
type Vector = { frame: VectorFrame; encoded: Hex }
const vectorFile = JSON.parse(
  readFileSync(new URL('../../test/vectors/relay-frames-v1.json', import.meta.url), 'utf8'),
) as { client: Vector[]; relay: Vector[] }

const fromHex = (hex: unknown) => Uint8Array.from(Buffer.from(String(hex).slice(2), 'hex'))
const toHex = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString('hex')}`

/** The JSON form of a vector (u64 as decimal strings, bytes as hex) as a frame. */
function frameOf(json: VectorFrame): ClientFrame & RelayFrame {
  const frame: Record<string, unknown> = { ...json }
  for (const key of ['after', 'seq', 'value']) if (key in frame) frame[key] = BigInt(String(frame[key]))
  if ('envelope' in frame) frame.envelope = fromHex(frame.envelope)
  if (frame.type === 'kp' && !('envelope' in frame)) frame.envelope = undefined
  if (Array.isArray(frame.envelopes)) frame.envelopes = frame.envelopes.map(fromHex)
  if (Array.isArray(frame.acks))
    frame.acks = (frame.acks as { deviceId: Hex; seq: string }[]).map((a) => ({
      deviceId: a.deviceId,
      seq: BigInt(a.seq),
    }))
  return frame as ClientFrame & RelayFrame
}

describe('frozen vectors test/vectors/relay-frames-v1.json', () => {
  test('cover every client and relay frame type', () => {
    const clientTypes = new Set(vectorFile.client.map((v) => v.frame.type))
    const relayTypes = new Set(vectorFile.relay.map((v) => v.frame.type))
    expect([...clientTypes].sort()).toEqual(
      ['ack', 'auth', 'kp-count', 'kp-put', 'kp-take', 'leaf', 'publish', 'subscribe', 'unsubscribe'].sort(),
    )
    expect([...relayTypes].sort()).toEqual(
      ['acks', 'auth-ok', 'challenge', 'deliver', 'error', 'kp', 'ok'].sort(),
    )
  })

  test('the SUBSCRIBE v1 vector no longer decodes (retired); its reqId is still read for the answer', () => {
    const v1 = vectorFile.client.find((v) => v.frame.type === 'subscribe')!
    const bytes = fromHex(v1.encoded)
    expect(bytes[0]).toBe(RETIRED_CLIENT_FRAME_TYPES.subscribeV1)
    expect(() => decodeClientFrame(bytes)).toThrow(/unknown client frame type/)
    expect(peekReqId(bytes)).toBe(v1.frame.reqId)
  })

  test.each(
    vectorFile.client.filter((v) => v.frame.type !== 'subscribe').map((v) => [v.frame.type, v] as const),
  )('client %s: encodes and decodes byte for byte', (_, v) => {
    const frame = frameOf(v.frame)
    expect(toHex(encodeClientFrame(frame))).toBe(v.encoded)
    const decoded = decodeClientFrame(fromHex(v.encoded))
    expect(plain(decoded)).toEqual(plain(frame))
    expect(toHex(encodeClientFrame(decoded))).toBe(v.encoded)
  })

  test.each(vectorFile.relay.map((v) => [v.frame.type, v] as const))(
    'relay %s: encodes and decodes byte for byte',
    (_, v) => {
      const frame = frameOf(v.frame)
      expect(toHex(encodeRelayFrame(frame))).toBe(v.encoded)
      const decoded = decodeRelayFrame(fromHex(v.encoded))
      expect(plain(decoded)).toEqual(plain(frame))
      expect(toHex(encodeRelayFrame(decoded))).toBe(v.encoded)
    },
  )
})

// ---------------------------------------------------------------------------------------------------------
// Frames added after v1 (each with its own frozen file; v1 clients ignore frame types they do not know)

const expiredVectors = JSON.parse(
  readFileSync(new URL('../../test/vectors/relay-frames-expired.json', import.meta.url), 'utf8'),
) as { relay: Vector[] }

describe('frozen vectors test/vectors/relay-frames-expired.json', () => {
  test.each(expiredVectors.relay.map((v, i) => [i, v] as const))(
    'EXPIRED vector %i: encodes and decodes byte for byte',
    (_, v) => {
      const frame = frameOf(v.frame)
      expect(toHex(encodeRelayFrame(frame))).toBe(v.encoded)
      const decoded = decodeRelayFrame(fromHex(v.encoded))
      expect(plain(decoded)).toEqual(plain(frame))
    },
  )

  test('an EXPIRED frame with a truncated recipient list, or an expiredAt above 2^53 - 1, is malformed', () => {
    const v = fromHex(expiredVectors.relay[0]!.encoded)
    expect(() => decodeRelayFrame(v.subarray(0, v.length - 1))).toThrow(RelayFrameError)
    const big = new Uint8Array(v)
    big.fill(0xff, 1 + 32 + 8 + 32, 1 + 32 + 8 + 32 + 8)
    expect(() => decodeRelayFrame(big)).toThrow(RelayFrameError)
  })
})

const subscribeVectors = JSON.parse(
  readFileSync(new URL('../../test/vectors/relay-frames-subscribe-v2.json', import.meta.url), 'utf8'),
) as { client: (Vector & { label: string })[] }

describe('frozen vectors test/vectors/relay-frames-subscribe-v2.json', () => {
  test('one per topic kind, each topic the hash of its preimage', () => {
    const kinds = subscribeVectors.client.map((v) => (v.frame.preimage as TopicPreimage).kind)
    expect(kinds).toEqual(['inbox', 'direct', 'group', 'welcome-tree'])
    for (const v of subscribeVectors.client)
      expect(topicOf(v.frame.preimage as TopicPreimage)).toBe(v.frame.topic)
  })

  test.each(subscribeVectors.client.map((v) => [(v.frame.preimage as TopicPreimage).kind, v] as const))(
    'SUBSCRIBE v2 %s: encodes and decodes byte for byte',
    (_, v) => {
      const frame = frameOf(v.frame)
      expect(toHex(encodeClientFrame(frame))).toBe(v.encoded)
      const decoded = decodeClientFrame(fromHex(v.encoded))
      expect(plain(decoded)).toEqual(plain(frame))
    },
  )

  test('a preimage of the wrong length, an unknown kind, or unsorted direct accounts is malformed', () => {
    const [inbox, direct] = subscribeVectors.client.map((v) => fromHex(v.encoded)) as [Uint8Array, Uint8Array]
    expect(() => decodeClientFrame(Uint8Array.of(...inbox, 0))).toThrow(
      /preimage: the preimage of kind inbox is 32 bytes/,
    )
    const unknown = new Uint8Array(inbox)
    unknown[45] = 9
    expect(() => decodeClientFrame(unknown)).toThrow(/preimage: unknown kind 9/)
    const swapped = new Uint8Array(direct)
    swapped.set(direct.subarray(46 + 28, 46 + 48), 46 + 48)
    swapped.set(direct.subarray(46 + 48, 46 + 68), 46 + 28)
    expect(() => decodeClientFrame(swapped)).toThrow(/ascending/)
    const zeroChain = new Uint8Array(direct)
    zeroChain.fill(0, 46, 54)
    expect(() => decodeClientFrame(zeroChain)).toThrow(/chain id/)
  })
})
