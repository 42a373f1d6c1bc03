/** End to end through a real relay over real sockets: both directions, offline recipient, receipts, states. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Client } from '../src/client/Client.js'
import { connectClient } from '../src/client/connect.js'
import { loadDevice } from '../src/client/identity.js'
import { RelayTransport } from '../src/client/relayTransport.js'
import { verifyReceipt } from '../src/client/verifyReceipt.js'
import { createEnvelope } from '../src/protocol/envelope.js'
import type { MessageState } from '../src/protocol/messageState.js'
import { encodeReceipt, type Receipt } from '../src/protocol/receipt.js'
import { type RelayNode, startRelayNode } from '../src/relay/node.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type TestNetwork, testKdf, testNetwork, testPassphrase } from './utils/clients.js'
import { startRpcProxy } from './utils/rpcProxy.js'
import { startTestRelayNode } from './utils/stack.js'

let ctx: ChainContext
let net: TestNetwork
let node: RelayNode
let dir: string

beforeAll(async () => {
  ctx = await setupChain()
  net = testNetwork(ctx)
  dir = mkdtempSync(join(tmpdir(), 'sealpost-relay-e2e-'))
  node = await startTestRelayNode(ctx, net, dir)
})

afterAll(async () => {
  await net?.cleanup()
  await node?.stop()
  await ctx?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** A client of `account` on the relay, with its own home (or `home`). */
async function relayClient(index: number, home?: string): Promise<Client & { home: string }> {
  const account = net.account(index)
  const dirHome = home ?? mkdtempSync(join(tmpdir(), 'sealpost-relay-home-'))
  // Create and register the device first (the relay only admits registered devices), then connect with its key.
  const offline = await net.client({ account, home: dirHome })
  await offline.register({ keyPackages: 0 })
  await offline.close()
  const keys = await loadDevice({ home: dirHome, passphrase: testPassphrase })
  const transport = await RelayTransport.connect({
    url: node.url,
    account: account.address,
    deviceId: keys.deviceId,
    sign: (m) => keys.signingKey.sign(m),
    expect: { chainId: net.deployment.chainId, registry: net.deployment.keyRegistry },
  })
  return net.client({ account, home: dirHome, transport })
}

/** The verified receipt a client stored for a message (fails the test if there is none). */
function receiptOf(client: Client, id: Hex): Receipt {
  const receipt = client.messages.receipt(id)
  if (!receipt) throw new Error(`${id} has no receipt`)
  return receipt
}

async function waitFor(client: Client, id: Hex, state: MessageState, timeoutMs = 20_000): Promise<void> {
  await client.waitForState(id, state, { timeoutMs })
}

describe('through a real relay', () => {
  test('both directions, receipts verified on both sides, states up to final', async () => {
    const alice = await relayClient(1)
    const bob = await relayClient(2)
    // Registration publishes key packages through the relay.
    await alice.register()
    await bob.register()
    await alice.start()
    await bob.start()

    const chat = await alice.conversations.open(bob.account)
    const incoming = bob.streamAll()
    const sent = await chat.send('over the wire')
    const { value: first } = await incoming.next()
    expect(first?.text).toBe('over the wire')
    expect(first?.report.ok).toBe(true)

    await waitFor(alice, sent.id, 'delivered')
    await waitFor(alice, sent.id, 'anchored')
    await ctx.mine(2)
    await waitFor(alice, sent.id, 'final')

    const reply = await bob.conversations.get(chat.id)?.send('and back')
    const aliceIncoming = alice.streamAll()
    expect((await aliceIncoming.next()).value?.text).toBe('and back')
    await waitFor(bob, reply?.id as Hex, 'anchored')

    // Both sides hold the same receipt for Alice's message, and it verifies against the chain.
    const mine = alice.messages.get(sent.id)
    const theirs = bob.messages.byLeaf(sent.leaf)[0]
    expect(mine?.receipt).toBeDefined()
    await waitFor(bob, theirs?.id as Hex, 'anchored')
    const receipt = receiptOf(bob, theirs?.id as Hex)
    expect(receipt.leaf).toBe(sent.leaf)
    const check = await verifyReceipt(ctx.publicClient, {
      receipt,
      messageAnchor: net.deployment.messageAnchor,
      chainId: ctx.anvil.chainId,
    })
    expect(check.ok).toBe(true)
    await incoming.return?.()
    await aliceIncoming.return?.()
  })

  test('an offline recipient gets every message, in order, when it comes back', async () => {
    const carol = await relayClient(3)
    const dave = await relayClient(4)
    await carol.register()
    await dave.register()
    const daveHome = dave.home
    await dave.close() // offline, but its key packages wait at the relay
    await carol.start()
    const chat = await carol.conversations.open(dave.account)
    const texts = Array.from({ length: 20 }, (_, i) => `message ${i + 1}`)
    for (const t of texts) await chat.send(t)

    const back = await relayClient(4, daveHome)
    const { received, rejected, joined } = await back.sync()
    expect(rejected).toEqual([])
    expect(joined).toEqual([chat.id])
    expect(received.map((m) => m.text)).toEqual(texts)
    expect(received.map((m) => m.seq)).toEqual(texts.map((_, i) => BigInt(i + 1)))
    // Nothing twice: a second sync finds nothing new.
    expect((await back.sync()).received).toEqual([])
  })

  test('chain down for a while: messaging goes on, then anchoring catches up and every receipt verifies', async () => {
    // A second relay node whose anchorer reaches the chain through a proxy we can cut.
    const proxy = await startRpcProxy(ctx.anvil.rpcUrl)
    const downDir = mkdtempSync(join(tmpdir(), 'sealpost-relay-down-'))
    const downNode = await startRelayNode({
      rpc: ctx.anvil.rpcUrl,
      anchorRpc: proxy.url,
      deployment: net.deployment,
      dir: downDir,
      anchorAccount: privateKeyToAccount(ctx.anvil.accounts[8] as Hex),
      anchor: {
        batchSize: 64,
        batchIntervalMs: 200,
        confirmations: 1,
        pollingIntervalMs: 50,
        recheckIntervalMs: 500,
      },
      pollingInterval: 100,
    })
    try {
      const connect = (index: number) =>
        connectClient({
          account: net.account(index),
          home: mkdtempSync(join(tmpdir(), 'sealpost-relay-home-')),
          rpc: ctx.anvil.rpcUrl,
          deployment: net.deployment,
          relay: downNode.url,
          passphrase: testPassphrase,
          kdf: testKdf,
          pollingInterval: 200,
        })
      const erin = await connect(5)
      const frank = await connect(6)
      proxy.setDown(true)
      const joined = new Promise<void>((resolve) => frank.events.once('joined', () => resolve()))
      const chat = await erin.conversations.open(frank.account)
      await joined
      const incoming = frank.streamAll()
      const sent = []
      for (let i = 0; i < 5; i++) sent.push(await chat.send(`while the chain is down ${i}`))
      for (let i = 0; i < 5; i++)
        expect((await incoming.next()).value?.text).toBe(`while the chain is down ${i}`)
      await new Promise((r) => setTimeout(r, 1000))
      expect(sent.map((s) => erin.messages.get(s.id)?.state)).not.toContain('anchored')
      expect(downNode.anchorer?.stats().lastError).toBeDefined()

      proxy.setDown(false)
      for (const s of sent) await waitFor(erin, s.id, 'anchored', 30_000)
      for (const s of sent) {
        const receipt = receiptOf(erin, s.id)
        const check = await verifyReceipt(ctx.publicClient, {
          receipt,
          messageAnchor: net.deployment.messageAnchor,
          chainId: ctx.anvil.chainId,
        })
        expect(check.ok).toBe(true)
      }
      await incoming.return?.()
      await erin.close()
      await frank.close()
    } finally {
      await downNode.stop()
      await proxy.stop()
      rmSync(downDir, { recursive: true, force: true })
    }
  })

  test('a forged receipt published on a conversation is rejected and logged', async () => {
    const gina = await relayClient(7)
    const hank = await relayClient(8)
    await gina.start()
    await hank.start()
    const joined = new Promise<void>((resolve) => hank.events.once('joined', () => resolve()))
    const chat = await gina.conversations.open(hank.account)
    await joined
    const sent = await chat.send('anchor me')
    await waitFor(gina, sent.id, 'anchored')
    const genuine = receiptOf(gina, sent.id)
    // A member (here Gina's device; a relay could do the same) publishes a receipt claiming another leaf is in
    // the same batch.
    const forgedReceipt = { ...genuine, leaf: `0x${'ab'.repeat(32)}` as Hex }
    const rejected = new Promise<string>((resolve) =>
      hank.events.once('rejected', (r) => resolve(r.error.code)),
    )
    await gina.transport.publish(
      createEnvelope({ kind: 'receipt', topic: chat.id, payload: encodeReceipt(forgedReceipt) }),
    )
    expect(await rejected).toBe('SEALPOST_RECEIPT_INVALID')
    const logged = hank.log.entries({ kind: 'rejected' }).map((e) => (e.data as { code: string }).code)
    expect(logged).toContain('SEALPOST_RECEIPT_INVALID')
  })

  test('live clients remove a revoked device on their own; it cannot read what comes next', async () => {
    const ivan = await relayClient(0)
    const judy = await relayClient(3)
    await ivan.start()
    await judy.start()
    const joined = new Promise<void>((resolve) => judy.events.once('joined', () => resolve()))
    const chat = await ivan.conversations.open(judy.account)
    await joined
    // Judy revokes this device from another client of her account (e.g. her wallet on a laptop). Her account may
    // have other devices from earlier tests; they stay.
    const wallet = await net.client({ account: net.account(3), home: judy.home, device: 'wallet' })
    await wallet.revokeDevice(judy.deviceId)
    const deadline = Date.now() + 20_000
    while (chat.info().members.some((m) => m.deviceId === judy.deviceId) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    const members = chat.info().members.map((m) => m.deviceId)
    expect(members).toContain(ivan.deviceId)
    expect(members).not.toContain(judy.deviceId)
    const secret = await chat.send('after the revocation')
    await new Promise((r) => setTimeout(r, 1000))
    expect(judy.messages.get(secret.id)).toBeUndefined()
  })
})
