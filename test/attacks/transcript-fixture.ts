/** Test helper: a real transcript of every entry kind, exported by a real client after a real exchange through a relay. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getAddress, type Hex } from 'viem'
import type { Client } from '../../src/client/Client.js'
import { type DeviceKeys, loadDevice } from '../../src/client/identity.js'
import { exportTranscript, type Transcript } from '../../src/client/transcript.js'
import type { TrustedDeployment } from '../../src/client/transcriptReport.js'
import { tamperCiphertext } from '../../src/demo/attacks.js'
import type { RelayNode } from '../../src/relay/node.js'
import { type ChainContext, setupChain } from '../utils/anvil.js'
import { type TestNetwork, testNetwork, testPassphrase } from '../utils/clients.js'
import { connectTestClient, startTestRelayNode } from '../utils/stack.js'

/**
 * A chain, a relay with an anchorer, Alice and Bob (connected clients), and Bob's exported transcript.
 *
 * @example const fx = await transcriptFixture(); try { … } finally { await fx.stop() }
 */
export type TranscriptFixture = {
  ctx: ChainContext
  net: TestNetwork
  node: RelayNode
  alice: Client
  bob: Client
  /** Bob's unlocked device keys (his device signs his log's heads and its export). */
  bobKeys: DeviceKeys
  /** The deployment every verifier here pins. */
  trusted: TrustedDeployment
  /**
   * Bob's log: received ×2 (Alice), sent (reply), rejected (a replay), receipts, a log-anchor, then an unanchored tail
   * (received, sent); its export is signed by Bob's device over the last entry.
   */
  transcript: Transcript
  stop(): Promise<void>
}

const until = async (what: string, ok: () => boolean, timeoutMs = 45_000) => {
  const end = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Runs the exchange and exports Bob's transcript. Call once per test file (it starts anvil and a relay).
 *
 * @example const { transcript, trusted } = await transcriptFixture()
 */
export async function transcriptFixture(): Promise<TranscriptFixture> {
  const ctx = await setupChain()
  const net = testNetwork(ctx)
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-transcript-fx-'))
  const homes: string[] = []
  const node = await startTestRelayNode(ctx, net, dir)
  const clients: Client[] = []
  const connect = async (index: number) => {
    const home = mkdtempSync(join(tmpdir(), 'sealpost-transcript-home-'))
    homes.push(home)
    const client = await connectTestClient(ctx, net, node, { index: index, home })
    clients.push(client)
    return client
  }
  const stop = async () => {
    for (const c of clients) await c.close().catch(() => undefined)
    await node.stop()
    await net.cleanup()
    await ctx.stop()
    for (const d of [dir, ...homes]) rmSync(d, { recursive: true, force: true })
  }
  try {
    const alice = await connect(1)
    const bob = await connect(2)
    const bobKeys = await loadDevice({ home: homes.at(-1)!, passphrase: testPassphrase })
    const joined = new Promise<void>((resolve) => bob.events.once('joined', () => resolve()))
    const chat = await alice.conversations.open(bob.account)
    await joined
    const received: string[] = []
    bob.events.on('message', (m) => received.push(m.text))
    const first = await chat.send('first: the audit is done')
    await chat.send('second: see you tomorrow')
    await until('Bob to receive two messages', () => received.length >= 2)
    const reply = await bob.conversations.get(chat.id)?.send('reply: thanks')
    if (!reply) throw new Error('Bob has no conversation to reply in')
    // A relay flipping a ciphertext bit (id recomputed): Bob's MLS refuses it and his log records the refusal.
    await bob.receive(tamperCiphertext(first.envelope)).catch(() => undefined)
    await until('a rejected entry', () => bob.log.entries({ kind: 'rejected' }).length > 0)
    await bob.waitForState(reply.id, 'anchored', { timeoutMs: 45_000 })
    await until('receipts for both received messages', () => bob.log.entries({ kind: 'receipt' }).length >= 3)
    const head = await bob.anchorLogHead()
    await until('the log head to be anchored', () =>
      bob.log.entries({ kind: 'log-anchor' }).some((e) => (e.data as { head: Hex }).head === head),
    )
    // The unanchored tail.
    await chat.send('third: after the anchor')
    await until('Bob to receive the third message', () => received.length >= 3)
    await bob.conversations.get(chat.id)?.send('fourth: also after it')
    const trusted: TrustedDeployment = {
      chainId: ctx.anvil.chainId,
      keyRegistry: getAddress(ctx.contracts.keyRegistry),
      messageAnchor: getAddress(ctx.contracts.messageAnchor),
    }
    const transcript = exportTranscript({
      log: bob.log,
      ...trusted,
      account: bob.account,
      deviceId: bob.deviceId,
      signingKey: bobKeys.signingKey,
      block: await ctx.publicClient.getBlock(),
    })
    return { ctx, net, node, alice, bob, bobKeys, trusted, transcript, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
