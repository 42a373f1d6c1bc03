/**
 * ts-mls interoperability check: the patched ts-mls (with Sealpost's node:crypto provider) and a fresh, unpatched
 * ts-mls 1.6.4 (its own default provider) interoperate both ways (a Welcome with the ratchet tree, one more add, an
 * application message), and the encodings and hashes the patch caches are byte-identical. The unpatched copy is
 * unpacked under node_modules so that its own imports resolve:
 *   mkdir -p node_modules/.cache/ts-mls-unpatched && cd node_modules/.cache/ts-mls-unpatched &&
 *   npm pack ts-mls@1.6.4 && tar xzf ts-mls-1.6.4.tgz && cd - && npx tsx bench/groupsInterop.ts [N=40]
 */
import { randomBytes } from 'node:crypto'
import * as P from 'ts-mls'
import { encode as encodeP } from 'ts-mls/codec/tlsEncoder.js'
import { ratchetTreeEncoder as treeEncP } from 'ts-mls/ratchetTree.js'
import { consumeRatchet as ratchetP, createSecretTree as secretTreeP } from 'ts-mls/secretTree.js'
import { treeHashRoot as treeHashP } from 'ts-mls/treeHash.js'
import { DEFAULT_CIPHERSUITE } from '../src/crypto/mls.js'
import { createNodeCryptoProvider } from '../src/crypto/nodeCryptoProvider.js'

const base = new URL('../node_modules/.cache/ts-mls-unpatched/package/dist/src/', import.meta.url).href
const U = await import(`${base}index.js`)
const { encode: encodeU } = await import(`${base}codec/tlsEncoder.js`)
const { ratchetTreeEncoder: treeEncU } = await import(`${base}ratchetTree.js`)
const { treeHashRoot: treeHashU } = await import(`${base}treeHash.js`)
const { createSecretTree: secretTreeU, consumeRatchet: ratchetU } = await import(`${base}secretTree.js`)

const N = Number(process.argv[2] ?? 40)
const implP = await P.getCiphersuiteImpl(
  P.getCiphersuiteFromName(DEFAULT_CIPHERSUITE as never),
  createNodeCryptoProvider(),
)
const implU = await U.getCiphersuiteImpl(
  U.getCiphersuiteFromName(DEFAULT_CIPHERSUITE),
  U.defaultCryptoProvider,
)
const config = (lib: typeof P) => ({
  keyRetentionConfig: lib.defaultKeyRetentionConfig,
  lifetimeConfig: lib.defaultLifetimeConfig,
  keyPackageEqualityConfig: lib.defaultKeyPackageEqualityConfig,
  paddingConfig: lib.defaultPaddingConfig,
  authService: { validateCredential: async () => true },
})
const kp = (lib: typeof P, impl: P.CiphersuiteImpl, i: number) =>
  lib.generateKeyPackage(
    { credentialType: 'basic', identity: new TextEncoder().encode(`m${i}`) },
    lib.defaultCapabilities(),
    lib.defaultLifetime,
    [],
    impl,
  )
const same = (a: Uint8Array, b: Uint8Array, what: string) => {
  if (a.length !== b.length || !a.every((x, i) => x === b[i])) throw new Error(`differs: ${what}`)
  console.log(`identical: ${what} (${a.length} bytes)`)
}
for (const [creatorName, C, implC, J, implJ] of [
  ['patched creator, unpatched joiner', P, implP, U, implU],
  ['unpatched creator, patched joiner', U, implU, P, implP],
] as const) {
  const members = [] as Awaited<ReturnType<typeof kp>>[]
  for (let i = 0; i < N; i++) members.push(await kp(i === 1 ? J : C, i === 1 ? implJ : implC, i))
  let state = await C.createGroup(
    new Uint8Array(randomBytes(32)),
    members[0]!.publicPackage,
    members[0]!.privatePackage,
    [],
    implC,
    config(C),
  )
  const created = await C.createCommit(
    { state, cipherSuite: implC },
    {
      extraProposals: members
        .slice(1)
        .map((m) => ({ proposalType: 'add', add: { keyPackage: m.publicPackage } })),
      ratchetTreeExtension: true,
    },
  )
  state = created.newState
  // The Welcome goes over the wire: encoded by the creator's library, decoded by the joiner's.
  const wire = C.encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: created.welcome })
  const welcome = (J.decodeMlsMessage(wire, 0)![0] as { welcome: P.Welcome }).welcome
  let joiner = await J.joinGroup(
    welcome,
    members[1]!.publicPackage,
    members[1]!.privatePackage,
    J.emptyPskIndex,
    implJ,
    undefined,
    undefined,
    config(J),
  )
  same(
    encodeP(treeEncP)(state.ratchetTree),
    encodeU(treeEncU)(state.ratchetTree),
    `${creatorName}: ratchet tree encoding`,
  )
  same(
    await treeHashP(state.ratchetTree, implU.hash),
    await treeHashU(state.ratchetTree, implU.hash),
    `${creatorName}: tree hash`,
  )
  same(
    state.groupContext.treeHash,
    joiner.groupContext.treeHash,
    `${creatorName}: joiner's group context tree hash`,
  )
  // One more add (leaf encodings and tree hashes from the caches), processed by the joiner.
  const extra = await kp(C, implC, 999)
  const added = await C.createCommit(
    { state, cipherSuite: implC },
    { extraProposals: [{ proposalType: 'add', add: { keyPackage: extra.publicPackage } }] },
  )
  state = added.newState
  const commitWire = C.encodeMlsMessage(added.commit)
  const processed = await J.processMessage(
    J.decodeMlsMessage(commitWire, 0)![0],
    joiner,
    J.emptyPskIndex,
    J.acceptAll,
    implJ,
  )
  joiner = processed.newState
  same(state.groupContext.treeHash, joiner.groupContext.treeHash, `${creatorName}: tree hash after one add`)
  // An application message from the creator, read by the joiner.
  const msg = await C.createApplicationMessage(state, new TextEncoder().encode('hello'), implC)
  const read = await J.processMessage(
    J.decodeMlsMessage(
      C.encodeMlsMessage({
        version: 'mls10',
        wireformat: 'mls_private_message',
        privateMessage: msg.privateMessage,
      }),
      0,
    )![0],
    joiner,
    J.emptyPskIndex,
    J.acceptAll,
    implJ,
  )
  if (read.kind !== 'applicationMessage' || new TextDecoder().decode(read.message) !== 'hello')
    throw new Error('message not read')
  console.log(`${creatorName}: joined a group of ${N}, processed one add, read a message`)
  // The leaf ratchets are the same: the patched tree derives a leaf's ratchets when it is first used, so each leaf's
  // first key of both kinds is compared (a tree of 8 leaves, as ts-mls's trees have a power-of-two width).
  const secret = new Uint8Array(randomBytes(64))
  let [tp, tu] = [await secretTreeP(8, secret, implU.kdf), await secretTreeU(8, secret, implU.kdf)]
  for (let leaf = 7; leaf >= 0; leaf--)
    for (const kind of ['application', 'commit'] as const) {
      const [rp, ru] = [await ratchetP(tp, leaf * 2, kind, implP), await ratchetU(tu, leaf * 2, kind, implU)]
      same(rp.key, ru.key, `secret tree leaf ${leaf} ${kind} key`)
      ;[tp, tu] = [rp.newTree, ru.newTree]
    }
}
process.exit(0)
