/** Auto-join benchmark: from the registry transaction adding a device to that device being in all 100 conversations of its account. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { generatePrivateKey, type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { Client } from '../src/client/Client.js'
import { connectClient } from '../src/client/connect.js'
import type { Deployment } from '../src/client/deployment.js'
import { loadDevice } from '../src/client/identity.js'
import { RelayTransport } from '../src/client/relayTransport.js'
import { type RelayNode, startRelayNode } from '../src/relay/node.js'
import { testKdf, testPassphrase } from '../test/utils/clients.js'
import { benchChain } from './lib/chain.js'
import { type BenchContext, type BenchOutput, target } from './lib/report.js'

/** Registry watcher and finality polling of every client here, ms (the CLI's default is 1000). */
const POLLING_MS = 250
/** Give up on a run after this long (a stalled join is a result too: reported, not waited for forever). */
const RUN_TIMEOUT_MS = 600_000

type Stack = {
  rpc: string
  deployment: Deployment
  node: RelayNode
  submitter: LocalAccount
  homes: string[]
}
type Measured = {
  conversations: number
  direct: number
  groups: number
  /** Registry transaction mined → the new device holds every conversation (joined from its Welcome). */
  allJoinedMs: number
  firstJoinedMs: number
  medianJoinedMs: number
  /** The account's first device: registry transaction mined → its watcher reports the new device. */
  seenMs: number
  setupMs: number
}

function home(stack: Stack): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-autojoin-'))
  stack.homes.push(dir)
  return dir
}

const clientParameters = (stack: Stack, account: LocalAccount, dir: string) => ({
  account,
  home: dir,
  rpc: stack.rpc,
  deployment: stack.deployment,
  passphrase: testPassphrase,
  kdf: testKdf,
  submitter: stack.submitter,
  pollingInterval: POLLING_MS,
})

/** A registered device on the relay that is not live: it only publishes `keyPackages` key packages for others to claim. */
async function peer(stack: Stack, keyPackages: number): Promise<Client> {
  const account = privateKeyToAccount(generatePrivateKey())
  const dir = home(stack)
  const offline = await Client.create(clientParameters(stack, account, dir))
  await offline.register({ keyPackages: 0 })
  const { deviceId } = offline
  await offline.close()
  const keys = await loadDevice({ home: dir, passphrase: testPassphrase })
  const transport = await RelayTransport.connect({
    url: stack.node.url,
    account: account.address,
    deviceId,
    sign: (m) => keys.signingKey.sign(m),
    expect: { chainId: stack.deployment.chainId, registry: stack.deployment.keyRegistry },
  })
  const client = await Client.create({ ...clientParameters(stack, account, dir), keys, transport })
  await client.publishKeyPackages(keyPackages)
  return client
}

/**
 * One account with `direct` 1:1 conversations and `groups` groups (each with one of the peers), held by its first
 * device; then a second device registers and connects, and the clock runs until it has joined all of them.
 */
async function measure(
  stack: Stack,
  direct: number,
  groups: number,
  log: (l: string) => void,
): Promise<Measured> {
  const setupStart = performance.now()
  const owner = privateKeyToAccount(generatePrivateKey())
  const peers: Client[] = []
  const perPeer = Math.ceil(groups / Math.max(direct, 1)) + 2
  for (let i = 0; i < Math.max(direct, 1); i++) peers.push(await peer(stack, perPeer))
  const first = await connectClient({ ...clientParameters(stack, owner, home(stack)), relay: stack.node.url })
  try {
    for (let i = 0; i < direct; i++) await first.conversations.open((peers[i] as Client).account)
    for (let i = 0; i < groups; i++)
      await first.groups.create({ name: `g${i}`, members: [(peers[i % peers.length] as Client).account] })
    const conversations = direct + groups
    const setupMs = performance.now() - setupStart
    log(
      `autojoin: ${conversations} conversations (${direct} 1:1, ${groups} groups) set up in ${(setupMs / 1000).toFixed(1)} s`,
    )

    // The second device: its keys, then the registry transaction (t0 once mined), then the relay and live mode.
    const secondHome = home(stack)
    const offline = await Client.create(clientParameters(stack, owner, secondHome))
    const secondId = offline.deviceId
    let seenAt: number | undefined
    first.watcher.on('device-added', (d) => {
      if (d.deviceId.toLowerCase() === secondId.toLowerCase()) seenAt ??= performance.now()
    })
    const joinedAt: number[] = []
    const joinedIds = new Set<string>()
    let done: (() => void) | undefined
    const all = new Promise<void>((resolve) => {
      done = resolve
    })
    await offline.register({ keyPackages: 0 })
    const t0 = performance.now()
    await offline.close()
    const second = await connectClient({
      ...clientParameters(stack, owner, secondHome),
      relay: stack.node.url,
      register: false,
      beforeStart: (c) =>
        c.events.on('joined', ({ conversation }) => {
          if (joinedIds.has(conversation)) return
          joinedIds.add(conversation)
          joinedAt.push(performance.now() - t0)
          if (joinedIds.size === conversations) done?.()
        }),
    })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, RUN_TIMEOUT_MS)
    })
    await Promise.race([all, timeout])
    clearTimeout(timer)
    await second.close()
    if (joinedIds.size < conversations)
      throw new Error(
        `the new device joined ${joinedIds.size} of ${conversations} conversations in ${RUN_TIMEOUT_MS} ms`,
      )
    const sorted = [...joinedAt].sort((a, b) => a - b)
    return {
      conversations,
      direct,
      groups,
      allJoinedMs: sorted[sorted.length - 1] as number,
      firstJoinedMs: sorted[0] as number,
      medianJoinedMs: sorted[Math.floor(sorted.length / 2)] as number,
      seenMs: seenAt === undefined ? Number.NaN : seenAt - t0,
      setupMs,
    }
  } finally {
    await first.close()
    for (const p of peers) await p.close()
  }
}

/** Runs the auto-join benchmark. */
export async function runAutoJoin({ quick, log }: BenchContext): Promise<BenchOutput> {
  const chain = await benchChain()
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-autojoin-relay-'))
  const node = await startRelayNode({
    rpc: chain.anvil.rpcUrl,
    deployment: chain.deployment,
    dir,
    pollingInterval: 100,
  })
  const stack: Stack = {
    rpc: chain.anvil.rpcUrl,
    deployment: chain.deployment,
    node,
    submitter: privateKeyToAccount(chain.anvil.accounts[0] as Hex),
    homes: [dir],
  }
  try {
    const [direct, groups] = quick ? [2, 8] : [10, 90]
    const one = await measure(stack, 1, 0, log)
    log(`autojoin: one conversation: joined ${one.allJoinedMs.toFixed(0)} ms after the registry transaction`)
    const many = await measure(stack, direct, groups, log)
    log(
      `autojoin: ${many.conversations} conversations: first ${many.firstJoinedMs.toFixed(0)} ms, median ${many.medianJoinedMs.toFixed(0)} ms, all ${many.allJoinedMs.toFixed(0)} ms`,
    )
    const rows = [one, many].map((m) => ({
      conversations: m.conversations,
      '1:1': m.direct,
      groups: m.groups,
      'first device sees it (ms)': Math.round(m.seenMs),
      'first joined (ms)': Math.round(m.firstJoinedMs),
      'median joined (ms)': Math.round(m.medianJoinedMs),
      'all joined (ms)': Math.round(m.allJoinedMs),
      'per conversation (ms)': Math.round(m.allJoinedMs / m.conversations),
    }))
    return {
      title: `Auto-join: a new device joins all ${many.conversations} conversations of its account`,
      baseline: { name: 'one conversation, registry tx → joined', value: one.allJoinedMs, unit: 'ms' },
      headline: {
        name: `${many.conversations} conversations, registry tx → joined all`,
        value: many.allJoinedMs,
        unit: 'ms',
      },
      ratio: (one.allJoinedMs * many.conversations) / many.allJoinedMs,
      ratioMeaning: `${many.conversations} × the one-conversation time divided by the time for all ${many.conversations}; above 1, joining many costs less than that many single joins`,
      columns: Object.keys(rows[0] as object),
      rows,
      targets: [
        target(
          `a new device is in all ${many.conversations} conversations`,
          many.allJoinedMs / 1000,
          '<=',
          quick ? 30 : 60,
          's',
          `registry and relay polling every ${POLLING_MS} ms; the account's first device commits every addition`,
        ),
      ],
      notes: [
        `Setup (not timed): ${many.direct} 1:1 conversations with ${many.direct} peers and ${many.groups} groups of two accounts, created by the account's first device (the committer in each); peers are registered and hold key packages but are not live.`,
        't0 is when the registry transaction adding the second device is mined (anvil, automine); the clock stops when that device has processed the Welcome of the last conversation.',
        "In between: the first device's watcher sees DeviceAdded, the deterministic committer (lowest leaf) claims the new device's key packages (one-time, then the last-resort one) and commits one addition per conversation, and the new device joins from each Welcome in its inbox.",
        `Everything runs in one process on this machine (anvil, relay, both devices); registry polling every ${POLLING_MS} ms.`,
        'The one-conversation baseline often includes a key-package retry: the committer reconciles before the new device, still connecting, has published its key packages, and tries again 0.5 s and 1 s later (src/client/reconcile.ts); with 100 conversations the first additions wait on the same race, the rest do not.',
      ],
    }
  } finally {
    await node.stop()
    await chain.stop()
    for (const h of stack.homes) rmSync(h, { recursive: true, force: true })
  }
}
