import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { bytesToHex } from 'viem'
import { describe, expect, test } from 'vitest'
import { ByReferenceError, decodeReference, encodeReference } from './byReference.js'
import { decodeClientFrame, encodeClientFrame } from './relayFrames.js'
import { type TopicPreimage, topicOf } from './topics.js'

const digest = bytesToHex(randomBytes(32))

describe('references to bytes sent in chunks', () => {
  test('a commit and a welcome reference round-trip; an MLSMessage is not a reference', () => {
    const commit = encodeReference({ kind: 'commit', digest, total: 12_300_000 })
    expect(commit).toHaveLength(40)
    expect(decodeReference(commit, 'commit')).toEqual({ kind: 'commit', digest, total: 12_300_000 })
    const welcome = Uint8Array.of(0, 1, 0, 3, 7)
    const reference = encodeReference({ kind: 'welcome', digest, total: 200_000, welcome })
    expect(decodeReference(reference, 'welcome')).toEqual({
      kind: 'welcome',
      digest,
      total: 200_000,
      welcome,
    })
    expect(decodeReference(welcome, 'welcome')).toBeUndefined() // mls10 starts 0x00 0x01
  })

  test('malformed references, or one of the other kind, are ByReferenceError', () => {
    const commit = encodeReference({ kind: 'commit', digest, total: 10 })
    const cases = [
      commit.slice(0, 39),
      Uint8Array.of(...commit.subarray(0, 2), 2, ...commit.subarray(3)),
      Uint8Array.of(...commit, 0),
      Uint8Array.of(...commit.subarray(0, 36), 0, 0, 0, 0),
    ]
    for (const bad of cases) expect(() => decodeReference(bad, 'commit')).toThrow(ByReferenceError)
    expect(() => decodeReference(commit, 'welcome')).toThrow(/not a welcome reference/)
    expect(() => encodeReference({ kind: 'commit', digest, total: 0 })).toThrow(ByReferenceError)
  })
})

describe('frozen vector test/vectors/relay-frames-subscribe-v2-blob.json', () => {
  const file = JSON.parse(
    readFileSync(new URL('../../test/vectors/relay-frames-subscribe-v2-blob.json', import.meta.url), 'utf8'),
  ) as { client: { label: string; frame: Record<string, unknown>; encoded: string }[] }

  test('SUBSCRIBE v2 of a blob topic (kind 5): the topic is the labelled hash of its digest, byte for byte', () => {
    const [v] = file.client
    if (!v) throw new Error('no vector')
    const preimage = v.frame.preimage as TopicPreimage & { kind: 'blob' }
    const topic = createHash('sha256')
      .update(
        Buffer.concat([Buffer.from(v.label), Buffer.of(0), Buffer.from(preimage.digest.slice(2), 'hex')]),
      )
      .digest('hex')
    expect(v.frame.topic).toBe(`0x${topic}`)
    expect(topicOf(preimage)).toBe(v.frame.topic)
    const frame = { ...v.frame, after: BigInt(String(v.frame.after)) } as Parameters<
      typeof encodeClientFrame
    >[0]
    expect(bytesToHex(encodeClientFrame(frame))).toBe(v.encoded)
    expect(decodeClientFrame(Buffer.from(v.encoded.slice(2), 'hex'))).toEqual(frame)
  })
})
