/** End to end through a real relay over real sockets: both directions, offline recipient, receipts, states. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Client } from '../src/client/Client.js'
import { loadDevice } from '../src/client/identity.js'
import { RelayTransport } from '../src/client/relayTransport.js'
import { verifyReceipt } from '../src/client/verifyReceipt.js'
import { receiptFromJson } from '../src/protocol/receipt.js'
import { type RelayNode, startRelayNode } from '../src/relay/node.js'
import type { MessageState } from '../src/store/deviceStore.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type TestNetwork, testNetwork, testPassphrase } from './utils/clients.js'

let ctx: ChainContext
let net: TestNetwork
let node: RelayNode
let dir: string

beforeAll(async () => {
  ctx = await setupChain()
  net = testNetwork(ctx)
  dir = mkdtempSync(join(tmpdir(), 'sealpost-relay-e2e-'))
  node = await startRelayNode({
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    dir,
    anchorAccount: privateKeyToAccount(ctx.anvil.accounts[9] as Hex),
    anchor: {
      batchSize: 64,
      batchIntervalMs: 200,
      confirmations: 1,
      pollingIntervalMs: 50,
      recheckIntervalMs: 500,
    },
    pollingInterval: 100,
  })
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
  })
  return net.client({ account, home: dirHome, transport })
}

function waitFor(client: Client, id: Hex, state: MessageState, timeoutMs = 20_000): Promise<void> {
  const rank = ['queued', 'accepted', 'delivered', 'anchored', 'final']
  return new Promise((resolve, reject) => {
    const check = () => {
      const current = client.store.getMessage(id)?.state
      if (current && rank.indexOf(current) >= rank.indexOf(state)) {
        client.events.off('state', check)
        clearTimeout(timer)
        resolve()
      }
    }
    const timer = setTimeout(
      () => reject(new Error(`${id} stuck in ${client.store.getMessage(id)?.state}`)),
      timeoutMs,
    )
    client.events.on('state', check)
    check()
  })
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
    const mine = alice.store.getMessage(sent.id)
    const theirs = bob.store.messagesByLeaf(sent.leaf)[0]
    expect(mine?.receipt).toBeDefined()
    await waitFor(bob, theirs?.id as Hex, 'anchored')
    const receipt = receiptFromJson(JSON.parse(bob.store.getMessage(theirs?.id as string)?.receipt ?? '{}'))
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
})
