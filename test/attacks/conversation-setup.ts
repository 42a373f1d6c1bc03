/** Test helper for the conversation attacks: anvil, a relay on port 0, clients on it, and an outsider's raw MLS. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCommit, createGroup, type Extension, type KeyPackage, zeroOutUint8Array } from 'ts-mls'
import { bytesToHex, type Hex, hexToBytes } from 'viem'
import type { Client } from '../../src/client/Client.js'
import { loadDevice } from '../../src/client/identity.js'
import {
  createKeyPackage,
  decodeMls,
  encodeMls,
  mlsClientConfig,
  registryAuthService,
} from '../../src/client/mls.js'
import { RelayTransport } from '../../src/client/relayTransport.js'
import type { ClientParameters, Rejection, SyncResult } from '../../src/client/types.js'
import { getMlsCiphersuite } from '../../src/crypto/mls.js'
import { createEnvelope } from '../../src/protocol/envelope.js'
import { inboxTopic } from '../../src/protocol/topics.js'
import type { RelayNode } from '../../src/relay/node.js'
import { type ChainContext, setupChain } from '../utils/anvil.js'
import { type TestNetwork, testNetwork, testPassphrase } from '../utils/clients.js'
import { connectTestClient, startTestRelayNode } from '../utils/stack.js'

export type LiveClient = Client & { home: string; rejected: Rejection[] }

/**
 * A client's thresholds for sending a tree, a commit or a GroupInfo by reference (protocol §3.7, §3.9), and which
 * group invitations it joins at once (security E4).
 */
export type InlineLimits = {
  inlineTreeBytes?: number | undefined
  inlineCommitBytes?: number | undefined
  inlineGroupInfoBytes?: number | undefined
  groups?: ClientParameters['groups']
}

/** A chain, a relay node on port 0, and helpers to put clients on it. */
export async function conversationWorld() {
  const ctx: ChainContext = await setupChain()
  const net: TestNetwork = testNetwork(ctx)
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-attack-conv-'))
  const node: RelayNode = await startTestRelayNode(ctx, net, dir)
  const clients: Client[] = []
  const homes: string[] = [dir]

  /** A live client of anvil account `index` (registered, connected, key packages published), recording rejections. */
  async function live(index: number, home = newHome(), inline: InlineLimits = {}): Promise<LiveClient> {
    const rejected: Rejection[] = []
    const client = await connectTestClient(ctx, net, node, {
      index: index,
      home,
      ...inline,
      beforeStart: (c) => c.events.on('rejected', (r) => rejected.push(r)),
    })
    clients.push(client)
    return Object.assign(client, { home, rejected })
  }

  /** Live clients of anvil accounts `indices`, started together, as a tuple of the same length. */
  function liveAll<const I extends readonly number[]>(
    ...indices: I
  ): Promise<{ [K in keyof I]: LiveClient }> {
    return Promise.all(indices.map((i) => live(i))) as Promise<{ [K in keyof I]: LiveClient }>
  }

  /** A client on the relay that is not live (it syncs when told), registered with `keyPackages` published. */
  async function manual(index: number, { home = newHome(), keyPackages = 3 } = {}) {
    const account = net.account(index)
    const offline = await net.client({ account, home })
    await offline.register({ keyPackages: 0 })
    await offline.close()
    const client = await net.client({ account, home, transport: await relayTransportOf(home, index) })
    if (keyPackages > 0) await client.publishKeyPackages(keyPackages)
    clients.push(client)
    return client
  }

  /** A relay connection authenticated as the device in `home` (of anvil account `index`). */
  async function relayTransportOf(home: string, index: number): Promise<RelayTransport> {
    const keys = await loadDevice({ home, passphrase: testPassphrase })
    return RelayTransport.connect({
      url: node.url,
      account: net.account(index).address,
      deviceId: keys.deviceId,
      sign: (m) => keys.signingKey.sign(m),
      expect: { chainId: net.deployment.chainId, registry: net.deployment.keyRegistry },
    })
  }

  function newHome(): string {
    const home = mkdtempSync(join(tmpdir(), 'sealpost-attack-home-'))
    homes.push(home)
    return home
  }

  async function cleanup() {
    for (const c of clients) await c.close().catch(() => undefined)
    await net.cleanup()
    await node.stop()
    await ctx.stop()
    for (const h of homes) rmSync(h, { recursive: true, force: true })
  }

  return { ctx, net, node, live, liveAll, manual, relayTransportOf, newHome, cleanup }
}

/**
 * The outsider's attack with ts-mls directly: `builder` takes one key package of each victim device from the relay,
 * creates a group with `extensions` under `groupId` from her own registered device (her leaf stays in it), adds the
 * victims in one commit, and posts the Welcome into each victim's inbox. Returns the Welcome envelope ids by device.
 */
export async function plantGroup(
  builder: Client & { home: string },
  victims: Client[],
  { groupId, extensions }: { groupId: Hex; extensions: Extension[] },
): Promise<Map<Hex, Hex>> {
  const impl = await getMlsCiphersuite(builder.ciphersuite)
  const keys = await loadDevice({ home: builder.home, passphrase: testPassphrase })
  const keyPackages: KeyPackage[] = []
  for (const victim of victims) {
    const envelope = await builder.transport.takeKeyPackage({ deviceId: victim.deviceId })
    if (!envelope) throw new Error(`no key package left for ${victim.deviceId}`)
    const message = decodeMls(envelope.payload)
    if (message.wireformat !== 'mls_key_package') throw new Error('not a key package')
    keyPackages.push(message.keyPackage)
  }
  const own = await createKeyPackage({ identity: builder.identity, mls: keys.mls, impl })
  const config = mlsClientConfig(
    registryAuthService({ chainId: builder.chainId, lookup: async (id) => builder.watcher.device(id) }),
  )
  const state = await createGroup(
    hexToBytes(groupId),
    own.publicPackage,
    own.privatePackage,
    extensions,
    impl,
    config,
  )
  const commit = await createCommit(
    { state, cipherSuite: impl },
    {
      extraProposals: keyPackages.map((keyPackage) => ({
        proposalType: 'add' as const,
        add: { keyPackage },
      })),
      ratchetTreeExtension: true,
    },
  )
  commit.consumed.forEach(zeroOutUint8Array)
  if (!commit.welcome) throw new Error('no Welcome')
  const payload = encodeMls({ version: 'mls10', wireformat: 'mls_welcome', welcome: commit.welcome })
  const ids = new Map<Hex, Hex>()
  for (const victim of victims) {
    const envelope = createEnvelope({ kind: 'welcome', topic: inboxTopic(victim.deviceId), payload })
    await builder.transport.publish(envelope)
    ids.set(victim.deviceId, envelope.id)
  }
  return ids
}

/** Waits until `check` returns a value (polling), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Syncs `client` until `done` holds for what it has received and rejected so far (a relay delivers a new envelope
 * to a subscriber a moment after accepting it), and returns all of it.
 */
export async function syncUntil(
  client: Client,
  done: (r: SyncResult) => boolean,
  timeoutMs = 15_000,
): Promise<SyncResult> {
  const all: SyncResult = { received: [], joined: [], commits: 0, rejected: [] }
  const end = Date.now() + timeoutMs
  for (;;) {
    const r = await client.sync()
    all.received.push(...r.received)
    all.joined.push(...r.joined)
    all.rejected.push(...r.rejected)
    all.commits += r.commits
    if (done(all)) return all
    if (Date.now() > end) throw new Error('timed out syncing')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A fresh 32-byte hex value. */
export function random32(): Hex {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
}
