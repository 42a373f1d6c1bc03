import { randomBytes } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import {
  decodeTreeChunk,
  encodeTreeChunks,
  reassembleTree,
  TREE_CHUNK_BYTES,
  WelcomeTreeError,
  welcomeTreeTopic,
} from './welcomeTree.js'

describe('welcome tree by reference', () => {
  test('a tree of 2.5 chunks splits, reassembles in any order, and ignores copies and planted chunks', () => {
    const tree = new Uint8Array(randomBytes(TREE_CHUNK_BYTES * 2 + 1000))
    const chunks = encodeTreeChunks(tree)
    expect(chunks.map((c) => decodeTreeChunk(c).index)).toEqual([0, 1, 2])
    const planted = encodeTreeChunks(new Uint8Array(randomBytes(2000)))[0] as Uint8Array
    const shuffled = [chunks[2], planted, chunks[0], chunks[0], chunks[1]] as Uint8Array[]
    expect(reassembleTree(shuffled)).toEqual(tree)
    expect(reassembleTree([chunks[0], chunks[2]] as Uint8Array[])).toBeUndefined()
    // A chunk whose data was changed no longer hashes to the digest the set names.
    const tampered = (chunks[1] as Uint8Array).slice()
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1
    expect(reassembleTree([chunks[0], tampered, chunks[2]] as Uint8Array[])).toBeUndefined()
  })

  test('malformed chunks are typed errors; the topic depends on the encrypted GroupInfo', () => {
    const [chunk] = encodeTreeChunks(new Uint8Array(10))
    for (const bad of [
      new Uint8Array(5),
      Uint8Array.of(2, ...(chunk as Uint8Array).subarray(1)),
      (chunk as Uint8Array).slice(0, -1),
    ])
      expect(() => decodeTreeChunk(bad)).toThrow(WelcomeTreeError)
    expect(() => encodeTreeChunks(new Uint8Array(0))).toThrow(WelcomeTreeError)
    expect(welcomeTreeTopic(Uint8Array.of(1))).not.toBe(welcomeTreeTopic(Uint8Array.of(2)))
    expect(welcomeTreeTopic(Uint8Array.of(1))).toMatch(/^0x[0-9a-f]{64}$/)
  })
})
