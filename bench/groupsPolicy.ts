/**
 * Sealpost's own share of a large group's SDK path, without chain or relay: `npx tsx bench/groupsPolicy.ts [N=1000]
 * [--runs K]`. A group of N devices with a conversation context (as `foundGroup` makes it, tree by reference), then,
 * each K times (default 5) with min and median: the tree-size estimate of a commit (`treeByReference`), the policy
 * check of a Welcome (`checkWelcome`), the SDK's whole `receiveWelcome` against ts-mls's bare `joinGroup`, one more
 * add with and without `checkCommit`, the policy filter over N standalone add proposals, and the group state's
 * encoding and decoding (what the device store writes per epoch).
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { type ClientState, createCommit, createGroup, emptyPskIndex, joinGroup, type Proposal } from 'ts-mls'
import { type Address, bytesToHex, hexToBytes } from 'viem'
import { checkCommit, checkWelcome, leavesOf, policyFilter } from '../src/client/conversationPolicy.js'
import {
  conversationExtensions,
  createKeyPackage,
  deserializeGroupState,
  encodeMls,
  encodePrivateKeyPackage,
  serializeGroupState,
} from '../src/client/mls.js'
import { receiveWelcome } from '../src/client/receiveWelcome.js'
import { treeByReference } from '../src/client/welcomeTree.js'
import { DEFAULT_CIPHERSUITE, getMlsCiphersuite } from '../src/crypto/mls.js'
import { createNodeCryptoProvider, sharedSealPool } from '../src/crypto/nodeCryptoProvider.js'
import { contextGroupId, groupContext } from '../src/protocol/conversationContext.js'
import { createEnvelope } from '../src/protocol/envelope.js'
import { benchConfig, benchDevice } from './lib/sealpostPair.js'

const args = process.argv.slice(2)
const option = (name: string) => {
  const i = args.indexOf(name)
  return i >= 0 ? args.splice(i, 2)[1] : undefined
}
const runs = Number(option('--runs') ?? 5)
const n = Number(args[0] ?? 1000)
const deployment = { chainId: 31337, keyRegistry: `0x${'ab'.repeat(20)}` as Address }

const impl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, createNodeCryptoProvider())
await sharedSealPool().start()
const member = async (index: number) => {
  const device = await benchDevice(impl, index)
  return { device, ...(await createKeyPackage({ identity: device.identity, mls: device.mls, impl })) }
}
const all = []
for (let i = 0; i < n; i++) all.push(await member(i))
// The one more add: a second device of a member account (devices follow the registry; the context is unchanged).
const extra = await member(1)
const { config, byId } = benchConfig([...all, extra].map((m) => m.device))
const registry = { device: (id: `0x${string}`) => byId.get(id) }
const [creator, ...joiners] = all
const context = groupContext({
  ...deployment,
  registry: deployment.keyRegistry,
  nonce: bytesToHex(randomBytes(32)),
  name: 'bench',
  creator: creator!.device.identity.account,
  members: all.map((m) => m.device.identity.account),
})
const policy = (self: Address) => ({ self, deployment, registry })
const state: ClientState = await createGroup(
  hexToBytes(contextGroupId(context)),
  creator!.publicPackage,
  creator!.privatePackage,
  conversationExtensions(context),
  impl,
  config,
)
const adds = joiners.map((m): Proposal => ({ proposalType: 'add', add: { keyPackage: m.publicPackage } }))
const created = await createCommit(
  { state, cipherSuite: impl },
  { extraProposals: adds, ratchetTreeExtension: false },
)
const group = created.newState
const joiner = joiners[0]!
// Trimmed to the joiner's own sealed secrets, as `sendWelcome` sends it (the whole Welcome is over the envelope limit).
const welcome = {
  ...created.welcome!,
  secrets: created.welcome!.secrets.filter((x) => bytesToHex(x.newMember) === joiner.ref),
}
const welcomeEnvelope = createEnvelope({
  kind: 'welcome',
  topic: `0x${'00'.repeat(32)}`,
  payload: encodeMls({ version: 'mls10', wireformat: 'mls_welcome', welcome }),
})
const stored = {
  ref: joiner.ref,
  publicPackage: encodeMls({
    version: 'mls10',
    wireformat: 'mls_key_package',
    keyPackage: joiner.publicPackage,
  }),
  privatePackage: encodePrivateKeyPackage(joiner.privatePackage),
}
const addOne: Proposal[] = [{ proposalType: 'add', add: { keyPackage: extra.publicPackage } }]
const committer = { leafIndex: 0, identity: creator!.device.identity }
const self = creator!.device.identity.account
const encoded = serializeGroupState(group)

const steps: Record<string, () => Promise<unknown> | unknown> = {
  'treeByReference (one add)': () => treeByReference(group, addOne),
  'checkWelcome (creator)': () => checkWelcome({ ...policy(self), state: group }),
  'joinGroup (ts-mls only)': () =>
    joinGroup(
      welcome,
      joiner.publicPackage,
      joiner.privatePackage,
      emptyPskIndex,
      impl,
      group.ratchetTree,
      undefined,
      config,
    ),
  'receiveWelcome (SDK: join + policy)': () =>
    receiveWelcome({
      envelope: welcomeEnvelope,
      keyPackages: [stored],
      impl,
      config,
      policy: policy(joiner.device.identity.account),
      fetchTree: async () => group.ratchetTree,
    }),
  'createCommit, one add (ts-mls only)': () =>
    createCommit(
      { state: group, cipherSuite: impl },
      { extraProposals: addOne, ratchetTreeExtension: false },
    ),
  'createCommit + checkCommit, one add': async () => {
    const result = await createCommit(
      { state: group, cipherSuite: impl },
      { extraProposals: addOne, ratchetTreeExtension: false },
    )
    const proposals = addOne.map((proposal) => ({ proposal, senderLeafIndex: 0 }))
    return checkCommit({ ...policy(self), before: group, after: result.newState, committer, proposals })
  },
  [`policyFilter, ${n - 1} standalone adds`]: () => {
    const filter = policyFilter(policy(self), group)
    for (const proposal of adds)
      if (filter.callback({ kind: 'proposal', proposal: { proposal, senderLeafIndex: 0 } }) !== 'accept')
        throw filter.violation()
  },
  leavesOf: () => leavesOf(group),
  serializeGroupState: () => serializeGroupState(group),
  deserializeGroupState: () => deserializeGroupState(encoded, config),
}

const load = [loadavg()[0]!]
const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return `min ${s[0]!.toFixed(1).padStart(8)}, median ${s[Math.floor(s.length / 2)]!.toFixed(1).padStart(8)}`
}
console.log(`N = ${n}, state ${encoded.length} bytes; ms over ${runs} runs (wall; CPU of all threads)`)
for (const [name, step] of Object.entries(steps)) {
  const wall: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage()
    const t = performance.now()
    await step()
    wall.push(performance.now() - t)
    const used = process.cpuUsage(c)
    cpu.push((used.user + used.system) / 1000)
  }
  console.log(`${name.padEnd(40)} wall ${fmt(wall)}; CPU ${fmt(cpu)}`)
}
load.push(loadavg()[0]!)
console.log(`1-minute load average: ${load[0]!.toFixed(2)} at the start, ${load[1]!.toFixed(2)} at the end`)
await sharedSealPool().close()
process.exit(0)
