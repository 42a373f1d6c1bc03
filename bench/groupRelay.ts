/**
 * A large group through the real stack: `npm run bench:group10k -- [--members N] [--sample S] [--baseline B] [--out DIR]`.
 * Anvil with the contracts, every member device registered on the KeyRegistry (pre-signed EIP-712 authorizations,
 * pipelined), a relay node over sockets that every device authenticates to and publishes its key packages at; then,
 * each timed: the creator claims N − 1 key packages from the relay and creates the group (Sealpost's MLS layer:
 * `createGroup` + one commit of N − 1 adds with the conversation context, as `foundGroup` does), the Welcome goes
 * through the relay with the SDK's `sendWelcome` to every member's inbox (trimmed to its own secrets, GroupInfo and
 * tree by reference, protocol §3.7, §3.9) and a sample joins with the SDK's `receiveWelcome`, one message reaches them,
 * one removal and one add are committed and published with the SDK's `commitPayload` (by reference above the 1 MiB
 * envelope) and processed by them. The same steps at `--baseline` members (default
 * 1,000) run first, in the same process, on the same chain and relay. Not part of `npm run bench`.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type ClientState,
  createApplicationMessage,
  createCommit,
  createGroup,
  emptyPskIndex,
  type KeyPackage,
  type PrivateKeyPackage,
  type Proposal,
  processPrivateMessage,
} from 'ts-mls'
import { makeKeyPackageRef } from 'ts-mls/keyPackage.js'
import { encodeRatchetTree } from 'ts-mls/ratchetTree.js'
import { type Address, bytesToHex, encodeFunctionData, type Hex, hexToBytes } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { keyRegistryAbi } from '../contracts/artifacts/KeyRegistry.js'
import { deviceIdOf, signAddDevice } from '../src/chain/registryAuthorizations.js'
import { RegistryWatcher } from '../src/chain/registryWatcher.js'
import { commitPayload, fetchBlob, INLINE_GROUP_INFO_BYTES } from '../src/client/byReference.js'
import {
  conversationExtensions,
  createKeyPackage,
  decodeMls,
  encodeMls,
  encodePrivateKeyPackage,
  membersOf,
  mlsClientConfig,
  registryAuthService,
} from '../src/client/mls.js'
import { groupMessageBytes } from '../src/client/receiveGroupMessage.js'
import { receiveWelcome } from '../src/client/receiveWelcome.js'
import { RelayTransport } from '../src/client/relayTransport.js'
import { sendWelcome } from '../src/client/sendWelcome.js'
import type { Delivery } from '../src/client/transport.js'
import { fetchWelcomeTree, treeByReference } from '../src/client/welcomeTree.js'
import { DEFAULT_CIPHERSUITE, getMlsCiphersuite } from '../src/crypto/mls.js'
import { createNodeCryptoProvider, sharedSealPool } from '../src/crypto/nodeCryptoProvider.js'
import type { DeviceSigningKey } from '../src/crypto/p256.js'
import { signStatement, verifyStatementSignature } from '../src/crypto/statementSignature.js'
import { decodeReference } from '../src/protocol/byReference.js'
import { decodeApplicationContent, encodeApplicationContent } from '../src/protocol/content.js'
import {
  type ConversationContext,
  contextGroupId,
  groupContext,
} from '../src/protocol/conversationContext.js'
import { createEnvelope, type Envelope } from '../src/protocol/envelope.js'
import { hashBody } from '../src/protocol/statement.js'
import { conversationPreimage, inboxTopic } from '../src/protocol/topics.js'
import { type RelayNode, startRelayNode } from '../src/relay/node.js'
import { testDeviceKeys } from '../test/utils/devices.js'
import { benchChain } from './lib/chain.js'
import { type BenchResult, gitCommit, machineInfo, target, writeResult } from './lib/report.js'

const args = process.argv.slice(2)
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const outIndex = args.indexOf('--out')
const root = fileURLToPath(new URL('..', import.meta.url))
const outDir = resolve(outIndex >= 0 ? args[outIndex + 1]! : join(root, 'bench/results'))
const N = option('--members', 10_000)
const S = Math.min(option('--sample', 10), N - 2)
const B = option('--baseline', N > 1000 ? 1000 : 0)
const started = performance.now()
const log = (line: string) =>
  console.log(
    `[${((performance.now() - started) / 1000).toFixed(1)} s, load ${loadavg()[0]!.toFixed(2)}] ${line}`,
  )

type KeyPackagePair = { publicPackage: KeyPackage; privatePackage: PrivateKeyPackage; ref: Hex }
type Device = {
  account: Address
  deviceId: Hex
  signingKey: DeviceSigningKey
  mls: { publicKey: Uint8Array; signKey: Uint8Array }
  keyPackages: KeyPackagePair[]
}

/** Runs `count` tasks, at most `width` at a time. */
async function pool(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(width, count) }, lane))
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since)
  return (u.user + u.system) / 1000
}

// ---- Setup: chain, registrations, relay, key packages (not measured as the group's cost, but reported) ----
const impl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, createNodeCryptoProvider())
await sharedSealPool().start()
const chain = await benchChain()
const registry = chain.contracts.keyRegistry
const chainId = chain.anvil.chainId
// The relay runs (and its watcher follows the chain) while the devices register.
const dir = mkdtempSync(join(tmpdir(), 'sealpost-group-relay-'))
const node: RelayNode = await startRelayNode({
  rpc: chain.anvil.rpcUrl,
  deployment: chain.deployment,
  dir,
  // One machine plays every device: the per-IP and per-device limits meant for the open internet are raised.
  limits: {
    maxConnectionsPerIp: 1024,
    registryLookupsPerIpPerMinute: 1_000_000,
    ratePerSecond: 1_000_000,
    burst: 1_000_000,
    maxThrottledFrames: 100_000,
    maxBufferedBytes: 256 * 1024 * 1024,
  },
  pollingInterval: 100,
})
const total = N + 1 // the members, and one device added later
const devices: Device[] = []
let t = performance.now()
const submitter = privateKeyToAccount(chain.anvil.accounts[0] as Hex)
let txNonce = await chain.publicClient.getTransactionCount({
  address: submitter.address,
  blockTag: 'pending',
})
const deadline = BigInt(Math.floor(Date.now() / 1000) + 24 * 3600)
const fees = await chain.publicClient.estimateFeesPerGas()
let gas: bigint | undefined
const hashes: Hex[] = []
// Automine would make one block per transaction, and anvil keeps a state per block (7 GB at 4,000 blocks): the
// transactions are mined in full blocks instead, while they are being sent.
const rpc = (method: string, params: unknown[] = []) =>
  chain.publicClient.request({ method, params } as never) as Promise<unknown>
// A registry watcher reads up to 10,000 blocks per eth_getLogs, and viem refuses a response over 10 MB (about 9,000
// DeviceAdded logs): the watchers (the relay's, and the creator's) follow the chain while the devices register.
const watcher = new RegistryWatcher({
  publicClient: chain.publicClient,
  registry,
  fromBlock: chain.deployment.deployBlock,
})
{
  await rpc('evm_setAutomine', [false])
  let sending = true
  const miner = (async () => {
    for (;;) {
      const { pending } = (await rpc('txpool_status')) as { pending: Hex }
      if (!sending && BigInt(pending) === 0n) return
      await rpc('evm_mine')
      await watcher.sync()
      await new Promise((r) => setTimeout(r, 200))
    }
  })()
  await pool(total, 16, async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const keys = testDeviceKeys({ chainId, registry, account: owner.address })
    const signature = await signAddDevice(owner, {
      registry,
      chainId,
      ...keys,
      account: owner.address,
      nonce: 0n,
      deadline,
    })
    const args = [
      owner.address,
      {
        p256X: keys.p256X,
        p256Y: keys.p256Y,
        mlsKey: keys.mlsKey,
        popR: keys.popR,
        popS: keys.popS,
        mlsPop: keys.mlsPop,
      },
      0n,
      deadline,
      signature,
    ] as const
    if (gas === undefined) {
      const estimate = await chain.publicClient.estimateContractGas({
        address: registry,
        abi: keyRegistryAbi,
        functionName: 'addDevice',
        args,
        account: submitter,
      })
      gas = (estimate * 3n) / 2n
    }
    const nonce = txNonce++
    const raw = await submitter.signTransaction({
      chainId,
      type: 'eip1559',
      to: registry,
      data: encodeFunctionData({ abi: keyRegistryAbi, functionName: 'addDevice', args }),
      nonce,
      gas,
      maxFeePerGas: fees.maxFeePerGas * 2n,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    })
    hashes[nonce] = (await chain.publicClient.request({
      method: 'eth_sendRawTransaction',
      params: [raw],
    })) as Hex
    devices.push({
      account: owner.address,
      deviceId: deviceIdOf(keys.p256X, keys.p256Y),
      signingKey: keys.signingKey,
      mls: { publicKey: hexToBytes(keys.mlsKey), signKey: keys.mlsSignKey },
      keyPackages: [],
    })
  })
  sending = false
  await miner
  await rpc('evm_setAutomine', [true])
}
const lastHash = hashes[txNonce - 1]!
const lastReceipt = await chain.publicClient.waitForTransactionReceipt({
  hash: lastHash,
  pollingInterval: 50,
})
await watcher.sync()
const missing = devices.filter((d) => !watcher.device(d.deviceId))
if (lastReceipt.status !== 'success' || missing.length > 0)
  throw new Error(`registration failed: ${missing.length} of ${total} devices are not in the registry`)
const registrationMs = performance.now() - t
log(
  `registered ${total} devices in ${(registrationMs / 1000).toFixed(1)} s (${lastReceipt.blockNumber} blocks)`,
)

const expect = { chainId, registry }
const connect = (d: Device) =>
  RelayTransport.connect({
    url: node.url,
    account: d.account,
    deviceId: d.deviceId,
    sign: (m) => d.signingKey.sign(m),
    expect,
    connectTimeoutMs: 120_000,
    replayTimeoutMs: 120_000,
  })

// Key packages: one per group the device is in (baseline members are in both groups; the added device is added twice).
t = performance.now()
const identityOf = (d: Device) => ({ chainId, account: d.account, deviceId: d.deviceId })
await pool(total, 8, async (i) => {
  const d = devices[i]!
  const count = i === 0 ? 0 : i < B || i === N ? 2 : 1
  if (count === 0) return
  const envelopes = []
  for (let k = 0; k < count; k++) {
    const kp = await createKeyPackage({ identity: identityOf(d), mls: d.mls, impl })
    const ref = bytesToHex(await makeKeyPackageRef(kp.publicPackage, impl.hash))
    d.keyPackages.push({ publicPackage: kp.publicPackage, privatePackage: kp.privatePackage, ref })
    envelopes.push(
      createEnvelope({
        kind: 'key-package',
        topic: inboxTopic(d.deviceId),
        payload: encodeMls({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: kp.publicPackage }),
      }),
    )
  }
  const transport = await connect(d)
  await transport.putKeyPackages({ deviceId: d.deviceId, envelopes })
  await transport.close()
  if (i % 1000 === 999) log(`${i + 1} devices published their key packages`)
})
const keyPackagesMs = performance.now() - t
log(
  `key packages of ${total} devices made and published through the relay in ${(keyPackagesMs / 1000).toFixed(1)} s`,
)

const config = mlsClientConfig(registryAuthService({ chainId, lookup: async (id) => watcher.device(id) }))
const creator = devices[0]!
const creatorTransport = await connect(creator)

/** A sampled member: its own relay connection, its inbox subscription, and its group state per run. */
type Member = {
  device: Device
  transport: RelayTransport
  inbox: Delivery[]
  wake: (() => void) | undefined
  state: ClientState | undefined
  /** Serialises the processing of group deliveries. */
  queue: Promise<void>
  processed: number
  processMs: number[]
}
const sample: Member[] = []
for (const device of devices.slice(1, S + 1)) {
  const transport = await connect(device)
  const member: Member = {
    device,
    transport,
    inbox: [],
    wake: undefined,
    state: undefined,
    queue: Promise.resolve(),
    processed: 0,
    processMs: [],
  }
  transport.subscribe({
    topics: [inboxTopic(device.deviceId)],
    onDelivery: (d) => {
      member.inbox.push(d)
      member.wake?.()
    },
  })
  sample.push(member)
}
const nextInbox = async (m: Member): Promise<Delivery> => {
  while (m.inbox.length === 0) await new Promise<void>((r) => (m.wake = r))
  return m.inbox.shift()!
}

type Run = Record<string, number | string | null>
const block = await chain.publicClient.getBlock()
const statementBlock = { number: block.number, hash: block.hash }

/** Claims key packages from the relay for `targets` (as `claimKeyPackages` does, pipelined). */
async function claim(targets: Device[]): Promise<KeyPackage[]> {
  const out: KeyPackage[] = new Array(targets.length)
  await pool(targets.length, 64, async (i) => {
    const d = targets[i]!
    const envelope = await creatorTransport.takeKeyPackage({ deviceId: d.deviceId })
    if (!envelope) throw new Error(`no key package for ${d.deviceId}`)
    const message = decodeMls(envelope.payload, envelope.id)
    if (message.wireformat !== 'mls_key_package') throw new Error('not a key package')
    if (bytesToHex(message.keyPackage.leafNode.signaturePublicKey) !== bytesToHex(d.mls.publicKey))
      throw new Error('key package of another device')
    out[i] = message.keyPackage
  })
  return out
}

/** Waits until every sampled member processed `count` group deliveries; returns the ms since `from`. */
async function sampleProcessed(count: number, from: number): Promise<number> {
  for (;;) {
    if (sample.every((m) => m.processed >= count)) {
      await Promise.all(sample.map((m) => m.queue))
      return performance.now() - from
    }
    await new Promise((r) => setTimeout(r, 2))
  }
}

async function runGroup(n: number): Promise<Run> {
  const loadStart = loadavg()[0]!
  const members = devices.slice(0, n)
  const extra = devices[N]!
  log(`N = ${n}: claiming ${n - 1} key packages from the relay`)
  let t0 = performance.now()
  const claimed = await claim(members.slice(1))
  const claimMs = performance.now() - t0

  // Creation, as foundGroup does it (without the SDK's store and its policy check of the creator's own Welcome).
  const context: ConversationContext = groupContext({
    chainId,
    registry,
    nonce: bytesToHex(randomBytes(32)),
    name: `bench ${n}`,
    creator: creator.account,
    members: members.map((m) => m.account),
  })
  const groupId = contextGroupId(context)
  log(`N = ${n}: creating`)
  let cpu = process.cpuUsage()
  t0 = performance.now()
  const own = await createKeyPackage({ identity: identityOf(creator), mls: creator.mls, impl })
  const empty = await createGroup(
    hexToBytes(groupId),
    own.publicPackage,
    own.privatePackage,
    conversationExtensions(context),
    impl,
    config,
  )
  const adds = claimed.map((keyPackage): Proposal => ({ proposalType: 'add', add: { keyPackage } }))
  const byReference = treeByReference(empty, adds)
  const created = await createCommit(
    { state: empty, cipherSuite: impl },
    { extraProposals: adds, ratchetTreeExtension: !byReference },
  )
  const createMs = performance.now() - t0
  const createCpuMs = cpuMs(cpu)
  let state = created.newState
  const welcome = created.welcome!
  log(`N = ${n}: created in ${createMs.toFixed(0)} ms (${createCpuMs.toFixed(0)} ms CPU)`)

  // The Welcome, with the SDK's sendWelcome: to every added device's inbox, trimmed to its own sealed secrets; the
  // tree and (above 16 KiB) the encrypted GroupInfo stored once by reference (protocol §3.7, §3.9).
  const fullBytes = encodeMls({ version: 'mls10', wireformat: 'mls_welcome', welcome }).length
  const groupInfoBytes = welcome.encryptedGroupInfo.length
  const recipients = members.slice(1).map((d, i) => ({ deviceId: d.deviceId, keyPackage: claimed[i]! }))
  const sentBytes = new Map<Hex, number>()
  const counting = {
    publish: (envelope: Envelope) => {
      sentBytes.set(envelope.topic, (sentBytes.get(envelope.topic) ?? 0) + envelope.payload.length)
      return creatorTransport.publish(envelope)
    },
  }
  t0 = performance.now()
  cpu = process.cpuUsage()
  const treeBytes = byReference ? encodeRatchetTree(state.ratchetTree).length : 0
  await sendWelcome(
    { transport: counting, impl, inlineGroupInfoBytes: INLINE_GROUP_INFO_BYTES },
    welcome,
    recipients,
    byReference ? state.ratchetTree : undefined,
  )
  const sendWelcomeMs = performance.now() - t0
  const inboxBytes = members.slice(1).map((d) => sentBytes.get(inboxTopic(d.deviceId)) ?? 0)
  const welcomeStoredBytes = [...sentBytes.values()].reduce((a, b) => a + b, 0)
  log(
    `N = ${n}: Welcomes sent to ${n - 1} inboxes in ${sendWelcomeMs.toFixed(0)} ms (${inboxBytes[0]} bytes each, ${welcomeStoredBytes} bytes in all with the GroupInfo and tree)`,
  )
  const joinMs: number[] = []
  const topicPreimage = conversationPreimage(context)
  const policy = (d: Device) => ({
    self: d.account,
    deployment: { chainId, keyRegistry: registry },
    registry: watcher,
  })
  for (const m of sample) {
    const delivery = await nextInbox(m)
    const j0 = performance.now()
    const joined = await receiveWelcome({
      envelope: delivery.envelope,
      keyPackages: m.device.keyPackages.map((k) => ({
        ref: k.ref,
        publicPackage: encodeMls({
          version: 'mls10',
          wireformat: 'mls_key_package',
          keyPackage: k.publicPackage,
        }),
        privatePackage: encodePrivateKeyPackage(k.privatePackage),
      })),
      impl,
      config,
      policy: policy(m.device),
      fetchTree: (groupInfo) => fetchWelcomeTree(m.transport, groupInfo),
      fetchBlob: (reference) => fetchBlob(m.transport, reference),
    })
    m.state = joined.state
    joinMs.push(performance.now() - j0)
    m.processed = 0
    m.processMs = []
  }
  const welcomeJoinMs = performance.now() - t0
  const welcomeJoinCpuMs = cpuMs(cpu)
  log(`N = ${n}: ${S} sampled members joined ${welcomeJoinMs.toFixed(0)} ms after the Welcome was sent`)

  // The sampled members follow the group topic; each processes what arrives, in order.
  // A commit reference is resolved as the SDK does (groupMessageBytes: its chunks fetched and checked).
  const handle = (m: Member, envelope: Envelope) => {
    m.queue = m.queue.then(async () => {
      const p0 = performance.now()
      const bytes = await groupMessageBytes(envelope, (reference) => fetchBlob(m.transport, reference))
      const message = decodeMls(bytes, envelope.id)
      if (message.wireformat !== 'mls_private_message') throw new Error('expected a private message')
      const processed = await processPrivateMessage(m.state!, message.privateMessage, emptyPskIndex, impl)
      m.state = processed.newState
      if (processed.kind === 'applicationMessage') {
        const opened = decodeApplicationContent(processed.message)
        if (!verifyStatementSignature({ signed: opened.signed, publicKey: creator.signingKey.publicKey }))
          throw new Error('statement signature does not verify')
      }
      m.processMs.push(performance.now() - p0)
      m.processed++
    })
  }
  const unsubscribe = sample.map((m) =>
    m.transport.subscribe({
      topics: [groupId],
      preimage: () => topicPreimage,
      onDelivery: (d) => handle(m, d.envelope),
    }),
  )

  // One message from the creator.
  const body = new Uint8Array(randomBytes(1024))
  const signed = signStatement({
    statement: {
      chainId,
      from: creator.account,
      device: creator.deviceId,
      conversation: groupId,
      seq: 1n,
      sentAt: Date.now(),
      block: statementBlock,
      bodyHash: hashBody(body),
      salt: bytesToHex(randomBytes(32)),
    },
    key: creator.signingKey,
  })
  t0 = performance.now()
  const sent = await createApplicationMessage(
    state,
    encodeApplicationContent({ signed, contentType: 'text', body }),
    impl,
  )
  state = sent.newState
  await creatorTransport.publish(
    createEnvelope({
      kind: 'application',
      topic: groupId,
      payload: encodeMls({
        version: 'mls10',
        wireformat: 'mls_private_message',
        privateMessage: sent.privateMessage,
      }),
    }),
  )
  const messageMs = await sampleProcessed(1, t0)
  const messageProcessMs = Math.max(...sample.map((m) => m.processMs[0]!))
  log(`N = ${n}: the message reached all ${S} sampled members in ${messageMs.toFixed(0)} ms`)

  // One removal, then one add (the context with the new account, and its device; its Welcome is not timed). A commit
  // larger than the relay's 1 MiB envelope goes by reference, as the SDK's commitSettled does (commitPayload).
  const commit = async (proposals: Proposal[]) => {
    const c0 = performance.now()
    const made = await createCommit(
      { state, cipherSuite: impl },
      { extraProposals: proposals, ratchetTreeExtension: false },
    )
    state = made.newState
    const encoded = encodeMls(made.commit)
    const payload = await commitPayload(creatorTransport, encoded)
    await creatorTransport.publish(createEnvelope({ kind: 'commit', topic: groupId, payload }))
    const byReference = decodeReference(payload, 'commit') !== undefined
    return { commitMs: performance.now() - c0, bytes: encoded.length, byReference }
  }
  const withContext = (accounts: Address[]): Proposal => ({
    proposalType: 'group_context_extensions',
    groupContextExtensions: {
      extensions: conversationExtensions(
        groupContext({
          chainId,
          registry,
          nonce: context.nonce,
          name: context.name!,
          creator: creator.account,
          members: accounts,
          admins: context.admins,
        }),
      ),
    },
  })
  // The removal first: a context lists at most 10,000 accounts (MAX_CONVERSATION_MEMBERS), so at 10,000 the add
  // brings the group back to 10,000.
  const remaining = members.filter((m) => m !== members[n - 1]).map((m) => m.account)
  const removed = members[n - 1]!
  const leaf = membersOf(state).find(
    (m) => m.identity.deviceId.toLowerCase() === removed.deviceId.toLowerCase(),
  )!
  t0 = performance.now()
  const remove = await commit([
    withContext(remaining),
    { proposalType: 'remove', remove: { removed: leaf.leafIndex } },
  ])
  const removeMs = await sampleProcessed(2, t0)
  log(
    `N = ${n}: one removal committed in ${remove.commitMs.toFixed(0)} ms, processed by the sample in ${removeMs.toFixed(0)} ms`,
  )
  t0 = performance.now()
  const [extraPackage] = await claim([extra])
  const add = await commit([
    withContext([...remaining, extra.account]),
    { proposalType: 'add', add: { keyPackage: extraPackage! } },
  ])
  const addMs = await sampleProcessed(3, t0)
  log(
    `N = ${n}: one add committed in ${add.commitMs.toFixed(0)} ms, processed by the sample in ${addMs.toFixed(0)} ms`,
  )
  for (const stop of unsubscribe) stop()
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  return {
    members: n,
    sample: S,
    'claim key packages ms': claimMs,
    'create ms': createMs,
    'create CPU ms': createCpuMs,
    'Welcome bytes (untrimmed)': fullBytes,
    'encrypted GroupInfo bytes': groupInfoBytes,
    'Welcome bytes per inbox': inboxBytes[0]!,
    'Welcome bytes stored in all': welcomeStoredBytes,
    'send Welcomes ms': sendWelcomeMs,
    'tree bytes': treeBytes,
    'Welcome → sample joined ms': welcomeJoinMs,
    'Welcome → sample joined CPU ms': welcomeJoinCpuMs,
    'join ms (median)': median(joinMs),
    'message → sample ms': messageMs,
    'message processing ms (max)': messageProcessMs,
    'add commit ms': add.commitMs,
    'add → sample ms': addMs,
    'add processing ms (median)': median(sample.map((m) => m.processMs[2]!)),
    'remove commit ms': remove.commitMs,
    'remove → sample ms': removeMs,
    'remove processing ms (median)': median(sample.map((m) => m.processMs[1]!)),
    'add commit bytes': add.bytes,
    'add commit sent': add.byReference ? 'by reference' : 'inline',
    'remove commit bytes': remove.bytes,
    'remove commit sent': remove.byReference ? 'by reference' : 'inline',
    'load at start': loadStart,
    'load at end': loadavg()[0]!,
  }
}

const rows: Run[] = []
if (B > 0) rows.push(await runGroup(B))
rows.push(await runGroup(N))
const main = rows[rows.length - 1]!
const base = rows[0]!
const columns = Object.keys(main)
const result: BenchResult = {
  name: 'groupRelay',
  title: `A ${N.toLocaleString('en-US')}-member group through a real relay`,
  date: new Date().toISOString(),
  commit: gitCommit(root),
  quick: false,
  durationMs: performance.now() - started,
  machine: machineInfo(),
  baseline: {
    name: `creation at N = ${base.members} (same run)`,
    value: base['create ms'] as number,
    unit: 'ms',
  },
  headline: { name: `creation at N = ${N}`, value: main['create ms'] as number, unit: 'ms' },
  ratio: ((base['create ms'] as number) * N) / (base.members as number) / (main['create ms'] as number),
  ratioMeaning:
    'linear extrapolation of the baseline ÷ measured; above 1 means creation grew less than linearly',
  columns,
  rows,
  targets: [
    target(`create a group of ${N.toLocaleString('en-US')}`, main['create ms'] as number, '<=', 10_000, 'ms'),
  ],
  notes: [
    `Setup (not the group's cost): ${total} devices registered on the KeyRegistry in ${(registrationMs / 1000).toFixed(1)} s (pre-signed EIP-712 authorizations, raw transactions pipelined to anvil, one submitter); their key packages made and published through the relay (one authenticated connection each) in ${(keyPackagesMs / 1000).toFixed(1)} s.`,
    `The creator's MLS authentication service reads a RegistryWatcher synced from the chain; key packages are claimed from the relay (KP_TAKE, 64 in flight), as claimKeyPackages does.`,
    `Creation is Sealpost's MLS layer (createGroup with the conversation context, one commit of N − 1 adds, tree by reference), as foundGroup does it, without the SDK's SQLite store and its check of the creator's own Welcome.`,
    `The Welcome goes with the SDK's sendWelcome to all ${N - 1} added inboxes, each trimmed to that device's own sealed secrets (a valid MLS Welcome); the tree, and the encrypted GroupInfo above 16 KiB, are stored once by reference (protocol §3.7, §3.9). "Welcome bytes stored in all" counts every payload published for it (inboxes, GroupInfo and tree chunks). The sampled members join with the SDK's receiveWelcome (policy check included), fetching GroupInfo and tree from the relay.`,
    "A commit whose encoding exceeds the 1 MiB envelope (a removal at about 800 members and more: its UpdatePath seals a path secret to every leaf under blank parents, about 1.2 kB each with X-Wing) goes by reference with the SDK's commitPayload: chunks on its blob topic, a commit reference on the group topic; the sampled members resolve it with the SDK's groupMessageBytes and process it in its place.",
    `The ${S} sampled members run in the creator's process and thread: "→ sample" times include their processing one after another.`,
    `Relay limits raised for one machine playing every device: connections per IP, registry look-ups per IP, frame rate per device.`,
  ],
}
writeResult(outDir, result)
log(`wrote ${join(outDir, 'groupRelay.json')} and .md`)
for (const m of sample) await m.transport.close()
await creatorTransport.close()
await node.stop()
await chain.stop()
rmSync(dir, { recursive: true, force: true })
await sharedSealPool().close()
process.exit(0)
