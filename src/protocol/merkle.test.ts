import { createHash } from 'node:crypto'
import fc from 'fast-check'
import type { Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import {
  buildMerkleTree,
  EMPTY_TREE_ROOT,
  hashChildren,
  hashLeaf,
  InvalidInclusionProofError,
  inclusionProof,
  MerkleIndexError,
  merkleRoot,
  rootFromInclusionProof,
  verifyInclusion,
} from './merkle.js'

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`

// Known-answer data (vector data only) from transparency-dev/merkle, the Go package behind Certificate
// Transparency's RFC 6962 trees: testonly/constants.go (LeafInputs, NodeHashes, RootHashes) and
// proof/verify_test.go (inclusionProofs; its leaf numbers are 1-based, converted to 0-based indexes here).
// https://github.com/transparency-dev/merkle/blob/main/testonly/constants.go
// https://github.com/transparency-dev/merkle/blob/main/proof/verify_test.go
const leaves = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex)

const leafHashes = [
  '0x6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  '0x96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
  '0x0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
  '0x07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
  '0xbc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  '0x4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
  '0xb08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
  '0x46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
]

const rootsBySize: Hex[] = [
  '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '0x6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  '0xfac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  '0xaeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  '0xd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '0x4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '0x76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  '0xddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '0x5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
]

const proofs: { index: number; size: number; path: Hex[] }[] = [
  { index: 0, size: 1, path: [] },
  {
    index: 0,
    size: 8,
    path: [
      '0x96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '0x5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '0x6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    path: [
      '0xbc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      '0xca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      '0xd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, path: ['0xfac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    path: [
      '0x6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '0x5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '0xbc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
]

const SOME_HASH: Hex = '0xabacaba000000000000000000000000000000000000000000060061e00123456'

describe('RFC 6962 known answers (transparency-dev/merkle)', () => {
  test('leaf hashes', () => {
    expect(leaves.map((l) => toHex(hashLeaf(l)))).toEqual(leafHashes)
  })

  test('roots for sizes 0..8', () => {
    for (let n = 0; n <= 8; n++) expect(merkleRoot(leaves.slice(0, n)), `size ${n}`).toBe(rootsBySize[n])
    expect(EMPTY_TREE_ROOT).toBe(rootsBySize[0])
  })

  test('interior nodes of the 8-leaf tree (NodeHashes)', () => {
    const tree = buildMerkleTree(leaves)
    expect(tree.levels.map((level) => level.length / 32)).toEqual([8, 4, 2, 1])
    expect(toHex(tree.levels[1]!.subarray(0, 32))).toBe(
      '0xfac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    )
    expect(toHex(tree.levels[2]!.subarray(32, 64))).toBe(
      '0x6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    )
  })

  test.each(proofs)('inclusion proof of leaf $index in a tree of $size', ({ index, size, path }) => {
    const tree = buildMerkleTree(leaves.slice(0, size))
    expect(inclusionProof(tree, index)).toEqual(path)
    const root = rootsBySize[size]!
    const leaf = leaves[index]!
    expect(rootFromInclusionProof({ leaf, index, treeSize: size, path })).toBe(root)
    expect(verifyInclusion({ leaf, index, treeSize: size, path, root })).toBe(true)

    // The corruptions verify_test.go probes: none may verify.
    const flip = (h: Hex) => toHex(hex(h.slice(2)).map((b, i) => (i === 0 ? b ^ 8 : b)))
    const probes: { name: string; index: number; size: number; leaf: Uint8Array; path: Hex[]; root: Hex }[] =
      [
        { name: 'index - 1', index: index - 1, size, leaf, path, root },
        { name: 'index + 1', index: index + 1, size, leaf, path, root },
        { name: 'index ^ 2', index: index ^ 2, size, leaf, path, root },
        { name: 'size * 2', index, size: size * 2, leaf, path, root },
        { name: 'size / 2', index, size: Math.floor(size / 2), leaf, path, root },
        { name: 'wrong leaf', index, size, leaf: new TextEncoder().encode('WrongLeaf'), path, root },
        { name: 'empty root', index, size, leaf, path, root: EMPTY_TREE_ROOT },
        { name: 'random root', index, size, leaf, path, root: SOME_HASH },
        { name: 'trailing root', index, size, leaf, path: [...path, root], root },
        { name: 'preceding root', index, size, leaf, path: [root, ...path], root },
        ...path.map((_, i) => ({
          name: `flipped path[${i}]`,
          index,
          size,
          leaf,
          path: path.map((p, j) => (i === j ? flip(p) : p)),
          root,
        })),
        ...(path.length > 0
          ? [{ name: 'removed component', index, size, leaf, path: path.slice(0, -1), root }]
          : []),
        ...(path.length > 1
          ? [
              {
                name: 'inserted component',
                index,
                size,
                leaf,
                path: [path[0]!, SOME_HASH, ...path.slice(1)],
                root,
              },
            ]
          : []),
      ]
    for (const p of probes)
      expect(
        verifyInclusion({ leaf: p.leaf, index: p.index, treeSize: p.size, path: p.path, root: p.root }),
        p.name,
      ).toBe(false)
  })

  test('single-entry and degenerate trees (TestVerifyInclusion probes)', () => {
    const data = new TextEncoder().encode('data')
    const root = toHex(hashLeaf(data))
    expect(verifyInclusion({ leaf: data, index: 0, treeSize: 1, path: [], root })).toBe(true)
    for (const [index, treeSize] of [
      [0, 0],
      [1, 0],
      [2, 1],
    ] as const) {
      expect(verifyInclusion({ leaf: data, index, treeSize, path: [], root })).toBe(false)
      expect(verifyInclusion({ leaf: data, index, treeSize, path: [], root: EMPTY_TREE_ROOT })).toBe(false)
    }
  })
})

describe('shape errors', () => {
  const tree = buildMerkleTree(leaves)
  const path = inclusionProof(tree, 3)
  const ok = { leaf: leaves[3]!, index: 3, treeSize: 8, path, root: tree.root }

  test('verifyInclusion returns false, never throws, on malformed input', () => {
    expect(verifyInclusion(ok)).toBe(true)
    expect(verifyInclusion({ ...ok, index: 3n, treeSize: 8n })).toBe(true)
    const bad: unknown[] = [
      { ...ok, index: -1 },
      { ...ok, index: 1.5 },
      { ...ok, index: Number.NaN },
      { ...ok, treeSize: 2 ** 60 },
      { ...ok, treeSize: -8n },
      { ...ok, path: [...path.slice(0, 2), '0x1234'] },
      { ...ok, path: [...path.slice(0, 2), new Uint8Array(31)] },
      { ...ok, path: 'nope' },
      { ...ok, path: [...path.slice(0, 2), 42] },
      { ...ok, root: '0x00' },
      { ...ok, root: undefined },
      { ...ok, leaf: 'not hex' },
      { ...ok, leaf: undefined },
      null,
      undefined,
    ]
    for (const p of bad) expect(verifyInclusion(p as never)).toBe(false)
  })

  test('rootFromInclusionProof throws typed errors', () => {
    expect(() => rootFromInclusionProof({ ...ok, path: [...path, path[0]!] })).toThrow(
      InvalidInclusionProofError,
    )
    expect(() => rootFromInclusionProof({ ...ok, index: 8 })).toThrowErrorMatchingInlineSnapshot(`
      [InvalidInclusionProofError: Merkle inclusion proof is malformed.

      Reason: index is not below the tree size]
    `)
    try {
      rootFromInclusionProof({ ...ok, path: path.slice(1) })
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidInclusionProofError)
      expect((err as InvalidInclusionProofError).code).toBe('SEALPOST_MERKLE_INVALID_PROOF')
    }
  })

  test('inclusionProof rejects out-of-range indexes', () => {
    expect(() => inclusionProof(tree, 8)).toThrowErrorMatchingInlineSnapshot(`
      [MerkleIndexError: Merkle leaf index is out of range.

      Index: 8
      Tree size: 8]
    `)
    expect(() => inclusionProof(buildMerkleTree([]), 0)).toThrow(MerkleIndexError)
    expect(() => inclusionProof(tree, -1)).toThrow(MerkleIndexError)
  })

  test('hex leaves are their bytes', () => {
    expect(merkleRoot(['0x', '0x00', '0x10'])).toBe(rootsBySize[3])
    expect(verifyInclusion({ ...ok, leaf: '0x2021' })).toBe(true)
  })
})

// Reference implementation written straight from the RFC 6962 §2.1 definitions (recursive split at the
// largest power of two k < n), used only to cross-check the level-by-level builder.
function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}
function referenceMth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256()
  if (d.length === 1) return sha256(Uint8Array.of(0), d[0]!)
  const k = splitPoint(d.length)
  return sha256(Uint8Array.of(1), referenceMth(d.slice(0, k)), referenceMth(d.slice(k)))
}
function referencePath(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return []
  const k = splitPoint(d.length)
  return m < k
    ? [...referencePath(m, d.slice(0, k)), referenceMth(d.slice(k))]
    : [...referencePath(m - k, d.slice(k)), referenceMth(d.slice(0, k))]
}

describe('properties', () => {
  const leavesArb = fc.array(fc.uint8Array({ maxLength: 12 }), { minLength: 1, maxLength: 300 })

  test('root and proofs match the recursive RFC 6962 definition', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 6 }), { maxLength: 40 }), (d) => {
        const tree = buildMerkleTree(d)
        expect(tree.root).toBe(toHex(referenceMth(d)))
        for (let m = 0; m < d.length; m++)
          expect(inclusionProof(tree, m)).toEqual(referencePath(m, d).map(toHex))
      }),
      { numRuns: 60 },
    )
  })

  test('every inclusion proof verifies; a changed leaf, index or path entry does not', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), (d, seedA, seedB) => {
        const tree = buildMerkleTree(d)
        const n = d.length
        for (let index = 0; index < n; index++) {
          const path = inclusionProof(tree, index)
          expect(verifyInclusion({ leaf: d[index]!, index, treeSize: n, path, root: tree.root })).toBe(true)
        }
        const index = seedA % n
        const leaf = d[index]!
        const path = inclusionProof(tree, index)
        const mutated = Uint8Array.from([...leaf, 1])
        expect(verifyInclusion({ leaf: mutated, index, treeSize: n, path, root: tree.root })).toBe(false)
        if (n > 1) {
          const other = (index + 1 + (seedB % (n - 1))) % n
          // Only distinct leaf contents make a different index a real forgery.
          if (toHex(d[other]!) !== toHex(leaf))
            expect(verifyInclusion({ leaf, index: other, treeSize: n, path, root: tree.root })).toBe(false)
          const i = seedB % path.length
          const bad = path.map((p, j) =>
            j === i ? toHex(hex(p.slice(2)).map((b, k) => (k === 31 ? b ^ 1 : b))) : p,
          )
          expect(verifyInclusion({ leaf, index, treeSize: n, path: bad, root: tree.root })).toBe(false)
        }
      }),
      { numRuns: 40 },
    )
  })

  test('hashChildren is SHA-256(0x01 || l || r)', () => {
    const l = hashLeaf(leaves[0]!)
    const r = hashLeaf(leaves[1]!)
    expect(toHex(hashChildren(l, r))).toBe(rootsBySize[2])
  })
})

test('100k leaves build and prove quickly', () => {
  const d = Array.from({ length: 100_000 }, (_, i) => {
    const b = new Uint8Array(32)
    new DataView(b.buffer).setUint32(0, i)
    return b
  })
  const t0 = performance.now()
  const tree = buildMerkleTree(d)
  const built = performance.now() - t0
  const t1 = performance.now()
  for (let i = 0; i < 1000; i++) {
    const index = (i * 9973) % d.length
    const path = inclusionProof(tree, index)
    if (!verifyInclusion({ leaf: d[index]!, index, treeSize: d.length, path, root: tree.root }))
      throw new Error('proof failed')
  }
  const proved = performance.now() - t1
  expect(inclusionProof(tree, 0)).toHaveLength(17)
  // 100000 = 65536 + 32768 + 1024 + 512 + 128 + 32: the last leaf sits in a 32-leaf subtree (5 hashes)
  // whose 5 left neighbours are whole subtrees.
  expect(inclusionProof(tree, 99_999)).toHaveLength(10)
  expect(built).toBeLessThan(3000)
  expect(proved).toBeLessThan(3000)
})
