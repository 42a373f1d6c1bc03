/** What patches/ts-mls+1.6.4.patch changes keeps ts-mls's results: same trees, same encodings, same refusals. */
import { randomBytes } from 'node:crypto'
import {
  type ClientConfig,
  createCommit,
  createGroup,
  defaultCapabilities,
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  defaultLifetime,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  generateKeyPackage,
  type Hpke,
} from 'ts-mls'
import { validateLeafNodeCredentialAndKeyUniqueness, validateRatchetTree } from 'ts-mls/clientState.js'
import { decodeUint16, decodeUint32 } from 'ts-mls/codec/number.js'
import { mapDecoders } from 'ts-mls/codec/tlsDecoder.js'
import { encode } from 'ts-mls/codec/tlsEncoder.js'
import {
  decodeVarLenData,
  decodeVarLenType,
  varLenDataEncoder,
  varLenTypeEncoder,
} from 'ts-mls/codec/variableLength.js'
import { encryptWithLabel } from 'ts-mls/crypto/hpke.js'
import { deriveTreeSecret, expandWithLabel } from 'ts-mls/crypto/kdf.js'
import {
  encodeLeafNodeTBS,
  signLeafNodeCommit,
  verifyLeafNodeSignature,
  verifyLeafNodeSignatureKeyPackage,
} from 'ts-mls/leafNode.js'
import { verifyParentHashes } from 'ts-mls/parentHash.js'
import * as ratchetTree from 'ts-mls/ratchetTree.js'
import { consumeRatchet, createSecretTree, decodeSecretTree, secretTreeEncoder } from 'ts-mls/secretTree.js'
import { treeHashRoot } from 'ts-mls/treeHash.js'
import { expect, test } from 'vitest'
import { DEFAULT_CIPHERSUITE, getMlsCiphersuite } from './mls.js'

type Tree = ratchetTree.RatchetTree
const addLeafNodeInPlace = (
  ratchetTree as unknown as { addLeafNodeInPlace: (t: Tree, leaf: unknown, from: number) => number }
).addLeafNodeInPlace

test('a vector of 50,000 elements encodes without overflowing the stack and decodes back', () => {
  const items = Array.from({ length: 50_000 }, (_, i) => Uint8Array.of(i & 0xff, i >> 8))
  const bytes = encode(varLenTypeEncoder(varLenDataEncoder))(items)
  const decoded = decodeVarLenType(decodeVarLenData)(bytes, 0)
  expect(decoded?.[0]).toEqual(items)
  expect(decoded?.[1]).toBe(bytes.length)
})

test('integers are decoded as DataView reads them, out-of-range offsets as undefined', () => {
  const bytes = new Uint8Array(randomBytes(64))
  const inner = bytes.subarray(5, 41) // a view with an offset into its buffer, as decoded fields are
  const view = new DataView(inner.buffer, inner.byteOffset, inner.byteLength)
  for (let offset = -3; offset <= inner.length + 3; offset++) {
    const read = (get: () => number) => {
      try {
        return get()
      } catch {
        return undefined
      }
    }
    expect(decodeUint16(inner, offset)?.[0]).toBe(read(() => view.getUint16(offset)))
    expect(decodeUint32(inner, offset)?.[0]).toBe(read(() => view.getUint32(offset)))
  }
  const pair = mapDecoders([decodeUint16, decodeUint32], (a, b) => ({ a, b }))
  expect(pair(Uint8Array.of(1, 2, 0xff, 0, 0, 1), 0)).toEqual([{ a: 0x102, b: 0xff000001 }, 6])
  expect(pair(Uint8Array.of(1, 2, 0xff, 0, 0), 0)).toBeUndefined()
})

test('adding leaves in place gives the same trees as ts-mls addLeafNode, blanks and unmerged leaves included', () => {
  const leaf = (id: number) => ({ nodeType: 'leaf', leaf: { id } }) as unknown as Tree[number]
  const parent = (unmerged: number[]) =>
    ({
      nodeType: 'parent',
      parent: { hpkePublicKey: new Uint8Array(), parentHash: new Uint8Array(), unmergedLeaves: unmerged },
    }) as unknown as Tree[number]
  for (let seed = 0; seed < 20; seed++) {
    // 16 leaves, some blank, some parents present, then 25 adds (the tree has to grow twice).
    const start: Tree = Array.from({ length: 31 }, (_, i) =>
      i % 2 === 0
        ? (i * 7 + seed) % 3 === 0
          ? undefined
          : leaf(i)
        : (i * 5 + seed) % 4 === 0
          ? parent([])
          : undefined,
    )
    let expected = start
    const actual = start.slice()
    let from = 0
    for (let k = 0; k < 25; k++) {
      const [next, index] = ratchetTree.addLeafNode(expected, { id: 100 + k } as never)
      expected = next
      const placed = addLeafNodeInPlace(actual, { id: 100 + k }, from)
      expect(placed).toBe(index)
      from = placed + 2
    }
    expect(actual).toEqual(expected)
  }
})

test("Welcome's HPKE info is encoded once per encrypted GroupInfo and is the same bytes as before", async () => {
  const infos: Uint8Array[] = []
  const spy = {
    seal: async (_pk: unknown, _pt: unknown, info: Uint8Array) => {
      infos.push(info)
      return { ct: new Uint8Array(), enc: new Uint8Array() }
    },
  } as unknown as Hpke
  const context = new Uint8Array(randomBytes(5000))
  await encryptWithLabel({} as never, 'Welcome', context, new Uint8Array(1), spy)
  await encryptWithLabel({} as never, 'Welcome', context, new Uint8Array(1), spy)
  await encryptWithLabel({} as never, 'Other', context, new Uint8Array(1), spy)
  expect(infos[0]).toBe(infos[1])
  const label = new TextEncoder().encode('MLS 1.0 Welcome')
  expect(infos[0]).toEqual(
    Uint8Array.from([label.length, ...label, 0x40 | (5000 >> 8), 5000 & 0xff, ...context]),
  )
  expect(infos[2]).not.toEqual(infos[0])
})

/** A group of `n` members made by one commit (ts-mls's own key packages, any credential accepted). */
async function groupOf(n: number) {
  const impl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE)
  const config: ClientConfig = {
    keyRetentionConfig: defaultKeyRetentionConfig,
    lifetimeConfig: defaultLifetimeConfig,
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    paddingConfig: defaultPaddingConfig,
    authService: { validateCredential: async () => true },
  }
  const kps = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      generateKeyPackage(
        { credentialType: 'basic', identity: new TextEncoder().encode(`member ${i}`) },
        defaultCapabilities(),
        defaultLifetime,
        [],
        impl,
      ),
    ),
  )
  const state = await createGroup(
    new Uint8Array(randomBytes(32)),
    kps[0]!.publicPackage,
    kps[0]!.privatePackage,
    [],
    impl,
    config,
  )
  const { newState } = await createCommit(
    { state, cipherSuite: impl },
    {
      extraProposals: kps
        .slice(1)
        .map((k) => ({ proposalType: 'add' as const, add: { keyPackage: k.publicPackage } })),
    },
  )
  return { impl, config, state: newState }
}

test('leaf encodings and tree hashes kept per leaf object are the bytes of a fresh copy, and follow a replaced leaf', async () => {
  const { impl, state } = await groupOf(6)
  const tree = state.ratchetTree
  const fresh = structuredClone(tree) // new objects: nothing cached for them
  const encodeTree = encode(ratchetTree.ratchetTreeEncoder)
  expect(encodeTree(tree)).toEqual(encodeTree(fresh))
  expect(encodeTree(tree)).toEqual(encodeTree(tree))
  const hash = await treeHashRoot(tree, impl.hash)
  expect(await treeHashRoot(tree, impl.hash)).toEqual(hash)
  expect(await treeHashRoot(fresh, impl.hash)).toEqual(hash)
  expect(hash).toEqual(state.groupContext.treeHash)
  // A leaf replaced by a new object (as every ts-mls update does) is encoded and hashed anew.
  const changed = tree.slice()
  const old = changed[4]!
  if (old.nodeType !== 'leaf') throw new Error('leaf expected')
  changed[4] = { nodeType: 'leaf', leaf: { ...old.leaf, signature: new Uint8Array(64).fill(1) } }
  expect(encodeTree(changed)).toEqual(encodeTree(structuredClone(changed)))
  expect(await treeHashRoot(changed, impl.hash)).toEqual(
    await treeHashRoot(structuredClone(changed), impl.hash),
  )
  expect(await treeHashRoot(changed, impl.hash)).not.toEqual(hash)
})

test('parent hashes of a tree with a committed path verify, tampering fails, and the check is linear in the leaves', async () => {
  const { impl, config, state } = await groupOf(64)
  // A removal commits an update path: the committer's leaf and its direct path then carry parent hashes.
  const { newState } = await createCommit(
    { state: { ...state, clientConfig: config }, cipherSuite: impl },
    { extraProposals: [{ proposalType: 'remove', remove: { removed: 5 } }] },
  )
  const tree = newState.ratchetTree
  let digests = 0
  const counting = {
    ...impl.hash,
    digest: (data: Uint8Array) => {
      digests++
      return impl.hash.digest(data)
    },
  }
  expect(await verifyParentHashes(tree, counting)).toBe(true)
  // Key-package leaves carry no parent hash: the walk stops there instead of hashing a sibling subtree per leaf
  // (about 63 subtrees of up to 64 nodes, thousands of digests, before the patch).
  expect(digests).toBeLessThan(tree.length * 2)
  const parents = tree.flatMap((n, i) => (n?.nodeType === 'parent' ? [i] : []))
  expect(parents.length).toBeGreaterThan(0)
  for (const i of parents) {
    const n = tree[i]!
    if (n.nodeType !== 'parent') throw new Error('parent expected')
    const changed = tree.slice()
    changed[i] = { nodeType: 'parent', parent: { ...n.parent, parentHash: new Uint8Array(64).fill(7) } }
    expect(await verifyParentHashes(changed, impl.hash)).toBe(false)
  }
  // The committer's leaf with another parent hash covers nothing: its path is no longer covered.
  const committer = tree.findIndex((n) => n?.nodeType === 'leaf' && n.leaf.leafNodeSource === 'commit')
  const leaf = tree[committer]!
  if (leaf.nodeType !== 'leaf' || leaf.leaf.leafNodeSource !== 'commit')
    throw new Error('commit leaf expected')
  const forged = tree.slice()
  forged[committer] = { nodeType: 'leaf', leaf: { ...leaf.leaf, parentHash: new Uint8Array(64) } }
  expect(await verifyParentHashes(forged, impl.hash)).toBe(false)
})

test("a leaf's signed bytes are cut from its kept encoding and equal the LeafNodeTBS encoder's, for every source", async () => {
  const { impl, config, state } = await groupOf(8)
  const { newState } = await createCommit(
    { state: { ...state, clientConfig: config }, cipherSuite: impl },
    { extraProposals: [{ proposalType: 'remove', remove: { removed: 3 } }] },
  )
  const { groupId } = newState.groupContext
  const leaves = newState.ratchetTree.flatMap((n, i) =>
    n?.nodeType === 'leaf' ? [{ leaf: n.leaf, index: i / 2 }] : [],
  )
  const keyPackageLeaf = leaves.find((l) => l.leaf.leafNodeSource === 'key_package')!
  const commitLeaf = leaves.find((l) => l.leaf.leafNodeSource === 'commit')!
  if (keyPackageLeaf.leaf.leafNodeSource !== 'key_package' || commitLeaf.leaf.leafNodeSource !== 'commit')
    throw new Error('a key-package leaf and a commit leaf expected')
  // The tree's own leaves: encoded (and cached) by the commit, verified from the cut bytes.
  expect(await verifyLeafNodeSignatureKeyPackage(keyPackageLeaf.leaf, impl.signature)).toBe(true)
  expect(await verifyLeafNodeSignature(commitLeaf.leaf, groupId, commitLeaf.index, impl.signature)).toBe(true)
  expect(await verifyLeafNodeSignature(commitLeaf.leaf, groupId, commitLeaf.index + 1, impl.signature)).toBe(
    false,
  )
  expect(
    await verifyLeafNodeSignature(
      commitLeaf.leaf,
      new Uint8Array(groupId.length),
      commitLeaf.index,
      impl.signature,
    ),
  ).toBe(false)
  // A leaf signed over the encoder's LeafNodeTBS (new key, longer group id, a leaf index above 2^16) verifies.
  const keys = await impl.signature.keygen()
  const { signature: _, ...fields } = commitLeaf.leaf
  const tbs = {
    ...fields,
    signaturePublicKey: keys.publicKey,
    groupId: new Uint8Array(300).fill(9),
    leafIndex: 70_000,
  }
  const signed = await signLeafNodeCommit(tbs, keys.signKey, impl.signature)
  expect(encodeLeafNodeTBS(tbs).length).toBeGreaterThan(300)
  expect(await verifyLeafNodeSignature(signed, tbs.groupId, tbs.leafIndex, impl.signature)).toBe(true)
  expect(await verifyLeafNodeSignature(signed, tbs.groupId, 69_999, impl.signature)).toBe(false)
})

test('leaf checks run together and still report the first error in tree order', async () => {
  const { impl, config, state } = await groupOf(6)
  const check = (tree: Tree) =>
    validateRatchetTree(
      tree,
      state.groupContext,
      config.lifetimeConfig,
      config.authService,
      state.groupContext.treeHash,
      impl,
    )
  expect(await check(state.ratchetTree)).toBeUndefined()
  const leafAt = (tree: Tree, i: number) => {
    const node = tree[2 * i]
    if (node?.nodeType !== 'leaf') throw new Error('leaf expected')
    return node.leaf
  }
  const badSignature = state.ratchetTree.slice()
  badSignature[6] = { nodeType: 'leaf', leaf: { ...leafAt(badSignature, 3), signature: new Uint8Array(64) } }
  expect((await check(badSignature))?.message).toMatch(/leaf node signature/)
  // Leaf 3's bad signature comes before leaf 4's duplicate key: the signature error is reported, as before.
  const both = badSignature.slice()
  both[8] = { nodeType: 'leaf', leaf: { ...leafAt(both, 4), hpkePublicKey: leafAt(both, 3).hpkePublicKey } }
  expect((await check(both))?.message).toMatch(/leaf node signature/)
  const duplicateOnly = state.ratchetTree.slice()
  duplicateOnly[8] = {
    nodeType: 'leaf',
    leaf: { ...leafAt(duplicateOnly, 4), hpkePublicKey: leafAt(duplicateOnly, 3).hpkePublicKey },
  }
  expect((await check(duplicateOnly))?.message).toMatch(/hpke keys not unique/)
  // Keys are compared whole: a key that shares its first bytes with another is not a duplicate of it.
  const near = leafAt(state.ratchetTree, 3).hpkePublicKey.slice()
  near[near.length - 1] = (near[near.length - 1] as number) ^ 1
  const nearOnly = state.ratchetTree.slice()
  nearOnly[8] = { nodeType: 'leaf', leaf: { ...leafAt(nearOnly, 4), hpkePublicKey: near } }
  const newLeaf = leafAt(state.ratchetTree, 0)
  expect(await validateLeafNodeCredentialAndKeyUniqueness(nearOnly, newLeaf)).toBeUndefined()
  expect((await validateLeafNodeCredentialAndKeyUniqueness(duplicateOnly, newLeaf))?.message).toMatch(
    /hpke keys not unique/,
  )
  // An authentication service that throws still makes the check throw (and leaves no unhandled rejection).
  const throwing = {
    validateCredential: async () => {
      throw new Error('registry down')
    },
  }
  await expect(
    validateRatchetTree(
      state.ratchetTree,
      state.groupContext,
      config.lifetimeConfig,
      throwing,
      state.groupContext.treeHash,
      impl,
    ),
  ).rejects.toThrow(/registry down/)
})

test('a commit adding the same client twice is still refused, and distinct clients are accepted', async () => {
  const impl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE)
  const config: ClientConfig = {
    keyRetentionConfig: defaultKeyRetentionConfig,
    lifetimeConfig: defaultLifetimeConfig,
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    paddingConfig: defaultPaddingConfig,
    authService: { validateCredential: async () => true },
  }
  const kp = (name: string) =>
    generateKeyPackage(
      { credentialType: 'basic', identity: new TextEncoder().encode(name) },
      defaultCapabilities(),
      defaultLifetime,
      [],
      impl,
    )
  const [alice, bob, carol] = await Promise.all([kp('alice'), kp('bob'), kp('carol')])
  const state = await createGroup(
    new Uint8Array(randomBytes(32)),
    alice.publicPackage,
    alice.privatePackage,
    [],
    impl,
    config,
  )
  const add = (k: typeof bob) => ({ proposalType: 'add' as const, add: { keyPackage: k.publicPackage } })
  await expect(
    createCommit({ state, cipherSuite: impl }, { extraProposals: [add(bob), add(carol), add(bob)] }),
  ).rejects.toThrow(/multiple Add proposals/)
  const ok = await createCommit({ state, cipherSuite: impl }, { extraProposals: [add(bob), add(carol)] })
  expect(ok.welcome?.secrets.length).toBe(2)
  // The tree's key uniqueness, checked once for all adds of a commit, still refuses a tree with a repeated leaf.
  const dave = await kp('dave')
  const tree = ok.newState.ratchetTree.slice()
  tree[4] = tree[2]
  await expect(
    createCommit(
      { state: { ...ok.newState, ratchetTree: tree }, cipherSuite: impl },
      { extraProposals: [add(dave)] },
    ),
  ).rejects.toThrow(/keys not unique/)
})

test("the lazy secret tree gives each leaf RFC 9420's keys, from an old tree too, and survives encoding", async () => {
  const impl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE)
  const { kdf } = impl
  const encryptionSecret = new Uint8Array(randomBytes(kdf.size))
  const rootSecret = encryptionSecret.slice()
  // RFC 9420 §9: tree secrets from the root down (left/right), then each leaf's ratchet roots and generation-0 key.
  const leafSecret = async (leaf: number, width: number) => {
    let secret: Uint8Array = rootSecret
    for (let size = width; size > 1; size /= 2) {
      const right = leaf % size >= size / 2
      secret = await expandWithLabel(
        secret,
        'tree',
        new TextEncoder().encode(right ? 'right' : 'left'),
        kdf.size,
        kdf,
      )
    }
    return secret
  }
  const expectedKey = async (leaf: number, label: 'application' | 'handshake') => {
    const root = await expandWithLabel(await leafSecret(leaf, 8), label, new Uint8Array(), kdf.size, kdf)
    return deriveTreeSecret(root, 'key', 0, impl.hpke.keyLength, kdf)
  }
  const tree = await createSecretTree(8, encryptionSecret, kdf)
  encryptionSecret.fill(0) // as ts-mls does once the tree is made
  // Nothing derived yet: one pending secret and 14 empty entries (an eager tree holds 16 ratchet secrets).
  expect(encode(secretTreeEncoder)(tree).length).toBeLessThan(16 * kdf.size)
  let current = tree
  for (const leaf of [5, 0, 7, 2]) {
    const used = await consumeRatchet(current, leaf * 2, 'application', impl)
    expect(used.key).toEqual(await expectedKey(leaf, 'application'))
    const handshake = await consumeRatchet(used.newTree, leaf * 2, 'commit', impl)
    expect(handshake.key).toEqual(await expectedKey(leaf, 'handshake'))
    current = handshake.newTree
  }
  // The first tree (kept for a past epoch) still opens any leaf, after the newer trees split its secrets.
  expect((await consumeRatchet(tree, 10, 'application', impl)).key).toEqual(
    await expectedKey(5, 'application'),
  )
  // A tree that went through its stored encoding keeps its pending secrets and its used ratchets.
  const decoded = decodeSecretTree(encode(secretTreeEncoder)(current), 0)![0]
  expect((await consumeRatchet(decoded, 6, 'application', impl)).key).toEqual(
    await expectedKey(3, 'application'),
  )
  const second = await consumeRatchet(decoded, 10, 'application', impl)
  expect(second.generation).toBe(1)
})
