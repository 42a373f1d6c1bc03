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
import { encode } from 'ts-mls/codec/tlsEncoder.js'
import {
  decodeVarLenData,
  decodeVarLenType,
  varLenDataEncoder,
  varLenTypeEncoder,
} from 'ts-mls/codec/variableLength.js'
import { encryptWithLabel } from 'ts-mls/crypto/hpke.js'
import * as ratchetTree from 'ts-mls/ratchetTree.js'
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
})
