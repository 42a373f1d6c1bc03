/** Issue 10 item 4: a device whose one-time key packages ran out is still added, with its last-resort package. */
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { generatePrivateKey, type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Client } from '../src/client/Client.js'
import { connectClient } from '../src/client/connect.js'
import {
  KEY_PACKAGE_TARGET,
  type KeyPackageStockContext,
  LAST_RESORT_GRACE_MS,
  LAST_RESORT_ROTATION_MS,
  topUpKeyPackages,
  watchKeyPackageStock,
} from '../src/client/keyPackageStock.js'
import { openClient } from '../src/client/openClient.js'
import { RelayTransport } from '../src/client/relayTransport.js'
import type { ClientEvents, ReceivedMessage } from '../src/client/types.js'
import { isLastResortKeyPackagePayload } from '../src/protocol/lastResortKeyPackage.js'
import type { RelayNode } from '../src/relay/node.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type TestNetwork, testKdf, testNetwork, testPassphrase } from './utils/clients.js'
import { startTestRelayNode } from './utils/stack.js'

let ctx: ChainContext
let net: TestNetwork
let node: RelayNode
const dirs: string[] = []
const clients: Client[] = []

beforeAll(async () => {
  ctx = await setupChain()
  net = testNetwork(ctx)
  node = await startTestRelayNode(ctx, net, home())
})

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined)
  await net?.cleanup()
  await node?.stop()
  await ctx?.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-last-resort-'))
  dirs.push(dir)
  return dir
}

/** A new account with some ether for its registrations (each test has its own people). */
async function person(): Promise<LocalAccount> {
  const account = privateKeyToAccount(generatePrivateKey())
  const hash = await ctx.walletClient.sendTransaction({ to: account.address, value: parseEther('1') })
  await ctx.publicClient.waitForTransactionReceipt({ hash })
  return account
}

/** A live device of `account` under `dir` on the relay (registered first if new); with `received`, its incoming
 * messages are collected from before live mode starts (a device coming back reads its backlog in the catch-up). */
async function live(account: LocalAccount, dir = home(), received?: ReceivedMessage[]): Promise<Client> {
  const client = await connectClient({
    account,
    home: dir,
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    relay: node.url,
    passphrase: testPassphrase,
    kdf: testKdf,
    pollingInterval: 200,
    sponsor: 'never',
    beforeStart: received ? (c) => c.events.on('message', (m) => received.push(m)) : undefined,
  })
  clients.push(client)
  return client
}

/** Takes `deviceId`'s one-time key packages until the relay has none left; returns how many were taken. */
async function drain(taker: Client, deviceId: `0x${string}`): Promise<number> {
  let taken = 0
  while ((await taker.transport.countKeyPackages({ deviceId })) > 0) {
    const envelope = await taker.transport.takeKeyPackage({ deviceId })
    expect(envelope && isLastResortKeyPackagePayload(envelope.payload)).toBe(false)
    taken++
  }
  return taken
}

/** The key-package stock of the device under `dir` (registered already), on its own connection to the relay. */
async function stockOf(account: LocalAccount, dir: string) {
  const opened = await openClient({
    account,
    home: dir,
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    passphrase: testPassphrase,
    kdf: testKdf,
  })
  const transport = await RelayTransport.connect({
    url: node.url,
    account: account.address,
    deviceId: opened.device.deviceId,
    sign: (m) => opened.device.signingKey.sign(m),
    expect: { chainId: net.deployment.chainId, registry: net.deployment.keyRegistry },
  })
  const stock: KeyPackageStockContext & { events: EventEmitter<ClientEvents> } = {
    ...opened,
    transport,
    deviceId: opened.device.deviceId,
    identity: { chainId: opened.chainId, account: account.address, deviceId: opened.device.deviceId },
    events: new EventEmitter<ClientEvents>(),
  }
  const close = async () => {
    opened.watcher.stop()
    await transport.close()
    opened.store.close()
  }
  return { stock, close }
}

/** Resolves once `received` holds a message with `text` (the client's live session fills it). */
async function until(received: ReceivedMessage[], text: string): Promise<ReceivedMessage> {
  for (let i = 0; i < 200; i++) {
    const found = received.find((m) => m.text === text)
    if (found) return found
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no message "${text}" among ${received.length}`)
}

describe('last-resort key packages through a real relay', () => {
  test('an offline device whose one-time packages are used up is added with its last-resort package and, back online, joins and reads', async () => {
    const [aliceAccount, bobAccount, carolAccount] = [await person(), await person(), await person()]
    const alice = await live(aliceAccount)
    // Alice's second device publishes its key packages (five one-time, one last-resort) and goes offline.
    const secondHome = home()
    const second = await live(aliceAccount, secondHome)
    const secondId = second.deviceId
    await second.close()
    const carol = await live(carolAccount)
    expect(await drain(carol, secondId)).toBe(KEY_PACKAGE_TARGET)

    const bob = await live(bobAccount)
    const chat = await bob.conversations.open(alice.account)
    expect(
      chat
        .info()
        .members.map((m) => m.deviceId)
        .sort(),
    ).toEqual([alice.deviceId, bob.deviceId, secondId].sort())
    await chat.send('to both of your devices')

    const received: ReceivedMessage[] = []
    const back = await live(aliceAccount, secondHome, received)
    const message = await until(received, 'to both of your devices')
    expect(message.conversation).toBe(chat.id)
    expect(message.report.ok).toBe(true)
    expect(back.conversations.get(chat.id)?.peer).toBe(bob.account)
  })

  test('the relay keeps handing out the same last-resort package and never deletes it', async () => {
    const dave = await live(await person())
    const erin = await live(await person())
    await drain(erin, dave.deviceId)
    const first = await erin.transport.takeKeyPackage({ deviceId: dave.deviceId })
    const second = await erin.transport.takeKeyPackage({ deviceId: dave.deviceId })
    expect(first && isLastResortKeyPackagePayload(first.payload)).toBe(true)
    expect(second?.id).toBe(first?.id)
    expect(await erin.transport.countKeyPackages({ deviceId: dave.deviceId })).toBe(0)
  })

  test('a device joins two groups from the same last-resort package', async () => {
    const frankHome = home()
    const frankAccount = await person()
    const frank = await live(frankAccount, frankHome)
    const frankId = frank.deviceId
    await frank.close()
    const grace = await live(await person())
    const heidi = await live(await person())
    await drain(grace, frankId)
    const withGrace = await grace.conversations.open(frank.account)
    const withHeidi = await heidi.conversations.open(frank.account)
    expect(withGrace.info().members.map((m) => m.deviceId)).toContain(frankId)
    expect(withHeidi.info().members.map((m) => m.deviceId)).toContain(frankId)
    await withGrace.send('from grace')
    await withHeidi.send('from heidi')

    const received: ReceivedMessage[] = []
    const back = await live(frankAccount, frankHome, received)
    expect((await until(received, 'from grace')).conversation).toBe(withGrace.id)
    expect((await until(received, 'from heidi')).conversation).toBe(withHeidi.id)
    expect(
      back.conversations
        .list()
        .map((c) => c.id)
        .sort(),
    ).toEqual([withGrace.id, withHeidi.id].sort())
  })

  test('rotation: a new last-resort package replaces the old one at the relay; the old one still joins until its grace period ends', async () => {
    const ivanHome = home()
    const ivanAccount = await person()
    const ivan = await live(ivanAccount, ivanHome)
    const ivanId = ivan.deviceId
    await ivan.close()
    const judy = await live(await person())
    await drain(judy, ivanId)
    const before = await judy.transport.takeKeyPackage({ deviceId: ivanId })
    // Judy opens with Ivan's current last-resort package; Ivan's device rotates it a week later, still offline.
    const chat = await judy.conversations.open(ivan.account)
    await chat.send('made before the rotation')
    const { stock, close } = await stockOf(ivanAccount, ivanHome)
    const made = stock.store.lastResortKeyPackage()?.createdAt ?? 0
    const week = await topUpKeyPackages(stock, KEY_PACKAGE_TARGET, { now: made + LAST_RESORT_ROTATION_MS })
    expect(week).toEqual({ published: KEY_PACKAGE_TARGET, rotated: true, purged: 0 })
    await drain(judy, ivanId)
    const after = await judy.transport.takeKeyPackage({ deviceId: ivanId })
    expect(after && isLastResortKeyPackagePayload(after.payload)).toBe(true)
    expect(after?.id).not.toBe(before?.id)
    expect(stock.store.listKeyPackages().filter((k) => k.lastResort)).toHaveLength(2)
    await close()

    const received: ReceivedMessage[] = []
    await live(ivanAccount, ivanHome, received)
    expect((await until(received, 'made before the rotation')).conversation).toBe(chat.id)
  })

  test('the retired last-resort package is deleted once its grace period is over', async () => {
    const kenHome = home()
    const kenAccount = await person()
    const ken = await live(kenAccount, kenHome)
    await ken.close()
    const { stock, close } = await stockOf(kenAccount, kenHome)
    const lastResorts = () =>
      stock.store
        .listKeyPackages()
        .filter((k) => k.lastResort)
        .map((k) => k.ref)
        .sort()
    const first = stock.store.lastResortKeyPackage()?.ref
    const rotatedAt = (stock.store.lastResortKeyPackage()?.createdAt ?? 0) + LAST_RESORT_ROTATION_MS
    const topUp = (now: number) => topUpKeyPackages(stock, KEY_PACKAGE_TARGET, { now })
    expect(await topUp(rotatedAt)).toEqual({ published: 0, rotated: true, purged: 0 })
    const second = stock.store.lastResortKeyPackage()?.ref
    // The grace period (30 days) outlasts the rotation period (7 days): the second one is rotated out meanwhile.
    expect(await topUp(rotatedAt + LAST_RESORT_GRACE_MS - 1)).toEqual({
      published: 0,
      rotated: true,
      purged: 0,
    })
    const third = stock.store.lastResortKeyPackage()?.ref
    expect(lastResorts()).toEqual([first, second, third].sort())
    expect(await topUp(rotatedAt + LAST_RESORT_GRACE_MS)).toEqual({ published: 0, rotated: false, purged: 1 })
    expect(lastResorts()).toEqual([second, third].sort())
    await close()
  })

  test('watching the stock: after a join, one-time packages are topped up again once the relay reports fewer', async () => {
    const laraHome = home()
    const laraAccount = await person()
    const lara = await live(laraAccount, laraHome)
    await lara.close()
    const mike = await live(await person())
    const { stock, close } = await stockOf(laraAccount, laraHome)
    const errors: unknown[] = []
    const stop = watchKeyPackageStock(stock, { onError: (err) => errors.push(err) })
    expect(await drain(mike, stock.deviceId)).toBe(KEY_PACKAGE_TARGET)
    stock.events.emit('joined', { conversation: `0x${'00'.repeat(32)}`, peer: mike.account })
    let count = 0
    for (let i = 0; i < 100 && count < KEY_PACKAGE_TARGET; i++) {
      await new Promise((r) => setTimeout(r, 100))
      count = await mike.transport.countKeyPackages({ deviceId: stock.deviceId })
    }
    expect(count).toBe(KEY_PACKAGE_TARGET)
    expect(errors).toEqual([])
    stop()
    await close()
  })
})
