// Issue 12: device key rotation, "revoke every other device" and the rotation policy on real components (anvil,
// contracts, a relay over sockets, SQLite homes): the rotated device is back in every conversation under its new keys,
// its old leaf is gone, its old messages still verify; a revoked device cannot rotate; two devices of one account
// committing at once converge; revoked devices are evicted; --max-key-age rotates on start.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getRegistryNonce, rotateDevice as rotateOnChain } from '../src/chain/keyRegistry.js'
import { signRotateDevice } from '../src/chain/registryAuthorizations.js'
import type { Client, Conversation, Group, ReceivedMessage } from '../src/client/Client.js'
import { contractChainView } from '../src/client/chainView.js'
import { connectClient } from '../src/client/connect.js'
import { DeviceNotRegisteredError } from '../src/client/errors.js'
import { devicePublicKeys, loadDevice, prepareDeviceRotation } from '../src/client/identity.js'
import type { RotateDeviceResult } from '../src/client/rotateDevice.js'
import { verifyStatement } from '../src/client/verifyStatement.js'
import { proveDeviceKeys } from '../src/crypto/pop.js'
import { encodeStatement } from '../src/protocol/statement.js'
import { conversationWorld, type LiveClient } from './attacks/conversation-setup.js'
import { joined, waitFor } from './attacks/group-setup.js'
import type { TestWalletClient } from './utils/anvil.js'
import { testKdf, testPassphrase } from './utils/clients.js'

let world: Awaited<ReturnType<typeof conversationWorld>>
let alice: LiveClient
let bob: LiveClient
let chat: Conversation
let team: Group
let before: ReceivedMessage

beforeAll(async () => {
  world = await conversationWorld()
  ;[alice, bob] = await world.liveAll(1, 2)
  chat = await alice.conversations.open(bob.account)
  const arriving = nextMessage(bob)
  await chat.send('before the rotation')
  before = await arriving
  team = await bob.groups.create({ name: 'team', members: [alice.account] })
  await joined(alice, team.id)
}, 120_000)

afterAll(async () => {
  await world?.cleanup()
})

/** The next verified message `client` receives, in any conversation. */
function nextMessage(client: Client): Promise<ReceivedMessage> {
  return new Promise((resolve) => client.events.once('message', resolve))
}

/** Waits until `client` holds conversation `id` with exactly the devices `devices` as leaves. */
function membersAre(client: Client, id: Hex, devices: Hex[]): Promise<true> {
  const want = devices.map((d) => d.toLowerCase()).sort()
  return waitFor(
    () => JSON.stringify(deviceLeaves(client, id)) === JSON.stringify(want),
    `${client.deviceId} to hold ${id} with ${want.length} devices`,
    60_000,
  )
}

/** Device ids of the leaves of direct conversation or group `id` on `client`, sorted, lower case. */
function deviceLeaves(client: Client, id: Hex): string[] {
  const direct = client.conversations.get(id)
  if (direct)
    return direct.info().active
      ? direct
          .info()
          .members.map((m) => m.deviceId.toLowerCase())
          .sort()
      : []
  const group = client.groups.get(id)
  if (!group?.info().active) return []
  return group
    .members()
    .members.flatMap((m) => m.devices.filter((d) => d.inGroup).map((d) => d.deviceId.toLowerCase()))
    .sort()
}

describe('device rotation', () => {
  let rotated: RotateDeviceResult
  let alice2: LiveClient

  test('Alice rotates: one registry transaction, then Bob swaps her old leaf for the new device in the direct conversation and the group; both still talk; her old message still verifies at its block', async () => {
    const oldDeviceId = alice.deviceId
    rotated = await alice.rotateDevice({ passphrase: testPassphrase })
    expect(alice.closed).toBe(true)
    expect(rotated.oldDeviceId).toBe(oldDeviceId)
    expect(rotated.deviceId).not.toBe(oldDeviceId)
    expect(new Set(rotated.conversations)).toEqual(new Set([chat.id, team.id]))
    // One transaction: the old device revoked and the new one added in the same block.
    await bob.watcher.sync()
    expect(bob.watcher.device(oldDeviceId)?.revokedAt).toBe(rotated.blockNumber)
    expect(bob.watcher.device(rotated.deviceId)?.addedAt).toBe(rotated.blockNumber)
    // The key file now holds the new keys; no rotation file is left behind.
    expect(existsSync(join(rotated.keys.dir, 'device.rotating.json'))).toBe(false)

    alice2 = await world.live(1, alice.home)
    expect(alice2.deviceId).toBe(rotated.deviceId)
    for (const id of [chat.id, team.id]) {
      await membersAre(bob, id, [bob.deviceId, alice2.deviceId])
      await membersAre(alice2, id, [bob.deviceId, alice2.deviceId])
    }

    const toBob = nextMessage(bob)
    await (alice2.conversations.get(chat.id) as Conversation).send('after the rotation')
    const got = await toBob
    expect({ text: got.text, device: got.device }).toEqual({
      text: 'after the rotation',
      device: alice2.deviceId,
    })
    const toAlice = nextMessage(alice2)
    await (bob.groups.get(team.id) as Group).send('welcome back')
    expect((await toAlice).text).toBe('welcome back')

    // The message signed with the old key verifies against the registry's history at the block it names.
    const chain = contractChainView({
      publicClient: world.ctx.publicClient,
      chainId: world.net.deployment.chainId,
      keyRegistry: world.net.deployment.keyRegistry,
    })
    const { report } = await verifyStatement({
      signed: {
        statement: before.statement,
        bytes: encodeStatement(before.statement),
        signature: before.signature,
      },
      body: new TextEncoder().encode(before.text),
      sender: { chainId: world.net.deployment.chainId, account: alice.account, deviceId: oldDeviceId },
      groupId: chat.id,
      lastSeq: 0n,
      chain,
      epoch: before.statement.epoch,
    })
    expect(report.failedStep).toBeUndefined()
    expect(report.ok).toBe(true)
  }, 180_000)

  test('a revoked device cannot rotate: a typed error before any transaction or key file', async () => {
    const home = world.newHome()
    const phone = await world.net.client({ account: world.net.account(1), home, device: 'phone' })
    await phone.register({ keyPackages: 0 })
    await alice2.revokeDevice(phone.deviceId)
    const registry = world.net.deployment.keyRegistry
    const nonce = await getRegistryNonce(world.ctx.publicClient, { registry, account: alice2.account })
    const err = await phone.rotateDevice({ passphrase: testPassphrase }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DeviceNotRegisteredError)
    expect((err as DeviceNotRegisteredError).code).toBe('SEALPOST_DEVICE_REVOKED')
    expect(await getRegistryNonce(world.ctx.publicClient, { registry, account: alice2.account })).toBe(nonce)
    expect(existsSync(join(home, 'devices', 'phone', 'device.rotating.json'))).toBe(false)
    expect(phone.closed).toBe(false)
  }, 60_000)

  test('a rotation stopped between its transaction and the key file rename is finished when the device opens again', async () => {
    const home = world.newHome()
    const account = world.net.account(3)
    const carol = await world.net.client({ account, home })
    await carol.register({ keyPackages: 0 })
    const device = await loadDevice({ home, passphrase: testPassphrase })
    // Steps 2 and 3 of key-management.md §6, then the process "stops": the rename never happens.
    const next = await prepareDeviceRotation({ device, passphrase: testPassphrase })
    const registry = world.net.deployment.keyRegistry
    const chainId = world.net.deployment.chainId
    const keys = devicePublicKeys(next)
    const proven = {
      ...keys,
      ...proveDeviceKeys({
        ...keys,
        signingKey: next.signingKey,
        mlsSignKey: next.mls.signKey,
        chainId,
        registry,
        account: account.address,
      }),
    }
    const nonce = await getRegistryNonce(world.ctx.publicClient, { registry, account: account.address })
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
    const signature = await signRotateDevice(account, {
      registry,
      chainId,
      oldDeviceId: device.deviceId,
      ...proven,
      nonce,
      deadline,
    })
    await rotateOnChain(world.ctx.walletClients[3] as TestWalletClient, {
      registry,
      account: account.address,
      oldDeviceId: device.deviceId,
      ...proven,
      nonce,
      deadline,
      signature,
    })
    await carol.close()
    const reopened = await world.net.client({ account, home })
    expect(reopened.deviceId).toBe(next.deviceId)
    expect(existsSync(join(device.dir, 'device.rotating.json'))).toBe(false)
    expect((await loadDevice({ home, passphrase: testPassphrase })).deviceId).toBe(next.deviceId)
  }, 60_000)

  let phone: LiveClient
  let tablet: LiveClient

  test('two devices of one account commit the same membership update at once: one commit wins, the other is superseded, no fork', async () => {
    phone = await world.live(1)
    for (const id of [chat.id, team.id])
      await membersAre(bob, id, [bob.deviceId, alice2.deviceId, phone.deviceId])
    tablet = await world.live(1)
    // Both of Alice's devices bring the direct conversation in line at the same moment (the deterministic committer
    // may be doing it too): the relay's order decides, the losers re-plan and find nothing left to do.
    const laptopChat = alice2.conversations.get(chat.id) as Conversation
    const phoneChat = await waitFor(() => phone.conversations.get(chat.id), 'the phone to hold the chat')
    const [fromLaptop, fromPhone] = await Promise.all([laptopChat.syncMembers(), phoneChat.syncMembers()])
    // At most one of them added the tablet (a loser's commit was superseded and re-planned to nothing).
    expect(fromLaptop.added.length + fromPhone.added.length).toBeLessThanOrEqual(1)
    const everyone = [bob.deviceId, alice2.deviceId, phone.deviceId, tablet.deviceId]
    for (const client of [bob, alice2, phone, tablet]) await membersAre(client, chat.id, everyone)
    const epochs = await waitFor(() => {
      const seen = [bob, alice2, phone, tablet].map((c) => c.conversations.get(chat.id)?.info().epoch)
      return seen.every((e) => e !== undefined && e === seen[0]) && seen
    }, 'one epoch on every device')
    expect(new Set(epochs).size).toBe(1)
  }, 180_000)

  test('revoke-others: every other device of the account is revoked and evicted from every conversation', async () => {
    const revokedIds: Hex[] = []
    const { kept, revoked } = await alice2.revokeOtherDevices({ onRevoked: (id) => revokedIds.push(id) })
    expect(kept).toBe(alice2.deviceId)
    expect(new Set(revoked.map((r) => r.deviceId.toLowerCase()))).toEqual(
      new Set([phone.deviceId, tablet.deviceId].map((d) => d.toLowerCase())),
    )
    expect(revokedIds).toEqual(revoked.map((r) => r.deviceId))
    expect(alice2.watcher.activeDevicesOf(alice2.account).map((d) => d.deviceId)).toEqual([alice2.deviceId])
    for (const id of [chat.id, team.id]) {
      await membersAre(bob, id, [bob.deviceId, alice2.deviceId])
      await membersAre(alice2, id, [bob.deviceId, alice2.deviceId])
    }
  }, 180_000)

  test('the rotation policy: a client started with keys older than maxKeyAge rotates them first; younger keys stay', async () => {
    await alice2.close()
    const base = {
      account: world.net.account(1),
      home: alice2.home,
      rpc: world.ctx.anvil.rpcUrl,
      deployment: world.net.deployment,
      relay: world.node.url,
      passphrase: testPassphrase,
      kdf: testKdf,
      pollingInterval: 200,
    }
    const young = await connectClient({ ...base, maxKeyAge: 24 * 3_600_000 })
    expect(young.deviceId).toBe(alice2.deviceId)
    expect(await young.keyAge()).toBeGreaterThanOrEqual(0)
    await young.close()
    let auto: RotateDeviceResult | undefined
    const aged = await connectClient({ ...base, maxKeyAge: 1, onRotated: (r) => (auto = r) })
    try {
      expect(auto?.oldDeviceId).toBe(alice2.deviceId)
      expect(aged.deviceId).toBe(auto?.deviceId)
      expect(aged.watcher.device(alice2.deviceId)?.revokedAt).toBeDefined()
      await membersAre(bob, chat.id, [bob.deviceId, aged.deviceId])
    } finally {
      await aged.close()
    }
  }, 180_000)
})
