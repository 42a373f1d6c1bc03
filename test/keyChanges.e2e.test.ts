// Issue 12: key-change alerts and safety numbers on real components (anvil, a relay over sockets, SQLite homes): a
// contact's added, revoked and rotated device each alert once, an unrelated account's change does not, and a client
// that was offline for many blocks alerts on start, once, and not again after a restart.
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getRegistryNonce, rotateDevice } from '../src/chain/keyRegistry.js'
import { signRotateDevice } from '../src/chain/registryAuthorizations.js'
import type { Client, KeyChangeEvent } from '../src/client/Client.js'
import { writeDeployment } from '../src/client/deployment.js'
import { createAccount } from '../src/client/identity.js'
import { conversationWorld, type LiveClient } from './attacks/conversation-setup.js'
import { waitFor } from './attacks/group-setup.js'
import { sealpost } from './utils/cli.js'
import { testKdf, testPassphrase } from './utils/clients.js'
import { registerTestDevice, testDeviceKeys } from './utils/devices.js'
import { connectTestClient } from './utils/stack.js'

let world: Awaited<ReturnType<typeof conversationWorld>>
let alice: LiveClient
let bob: LiveClient
const alerts: KeyChangeEvent[] = []

beforeAll(async () => {
  world = await conversationWorld()
  ;[alice, bob] = await world.liveAll(1, 2)
  alice.events.on('keyChange', (c) => alerts.push(c))
  const chat = await alice.conversations.open(bob.account)
  await waitFor(() => bob.conversations.get(chat.id), 'Bob to join')
}, 120_000)

afterAll(async () => {
  await world?.cleanup()
})

const safety = async (client: Client, account = bob.account) =>
  (await client.safetyNumber(account)).safetyNumber

/** Registers a device for anvil account `index` directly on chain (no client behind it). */
function addChainDevice(index: number) {
  return registerTestDevice(world.ctx, world.net.account(index))
}

/** Rotates `oldDeviceId` of anvil account `index` with the chain SDK (helper H4 builds the client's rotation). */
async function rotateChainDevice(index: number, oldDeviceId: Hex): Promise<Hex> {
  const owner = world.net.account(index)
  const { chainId, keyRegistry: registry } = world.net.deployment
  const keys = testDeviceKeys({ chainId, registry, account: owner.address })
  const nonce = await getRegistryNonce(world.ctx.publicClient, { registry, account: owner.address })
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
  const signature = await signRotateDevice(owner, {
    registry,
    chainId,
    oldDeviceId,
    ...keys,
    nonce,
    deadline,
  })
  const { deviceId } = await rotateDevice(world.ctx.walletClient, {
    registry,
    account: owner.address,
    oldDeviceId,
    ...keys,
    deadline,
    signature,
  })
  return deviceId
}

const next = (count: number) => waitFor(() => alerts.length >= count && alerts[count - 1], `alert ${count}`)

describe('key-change alerts', () => {
  test('a contact adds, revokes and rotates devices: one alert each with the safety numbers before and after; an unrelated account alerts nobody', async () => {
    const start = await safety(alice)
    expect(await safety(bob)).toBe(start) // both sides compute the same number for Bob
    const strangerBefore = await safety(alice, world.net.account(5).address)
    await addChainDevice(5) // account 5 shares no conversation with Alice
    expect(await safety(alice, world.net.account(5).address)).not.toBe(strangerBefore)

    const laptop = await addChainDevice(2)
    const added = await next(1)
    expect(added).toMatchObject({ account: bob.account, kind: 'added', deviceIds: [laptop.deviceId] })
    expect(added.fingerprintBefore).toBe(start)
    const afterAdd = await safety(alice)
    expect(added.fingerprintAfter).toBe(afterAdd)
    expect(afterAdd).not.toBe(start)

    await bob.revokeDevice(laptop.deviceId)
    const revoked = await next(2)
    expect(revoked).toMatchObject({ kind: 'revoked', revoked: [laptop.deviceId], added: [] })
    expect(revoked.fingerprintBefore).toBe(afterAdd)
    const afterRevoke = await safety(alice)
    expect(revoked.fingerprintAfter).toBe(afterRevoke)
    expect(afterRevoke).toBe(start) // the same set as at the start

    const tablet = await addChainDevice(2)
    await next(3)
    const afterTablet = await safety(alice)
    const rotatedTo = await rotateChainDevice(2, tablet.deviceId)
    const rotated = await next(4)
    expect(rotated).toMatchObject({
      kind: 'rotated',
      revoked: [tablet.deviceId],
      added: [rotatedTo],
      fingerprintBefore: afterTablet,
    })
    const afterRotate = await safety(alice)
    expect(rotated.fingerprintAfter).toBe(afterRotate)
    expect(new Set([start, afterAdd, afterTablet, afterRotate]).size).toBe(4)

    expect(alerts.map((a) => [a.account, a.kind])).toEqual(
      ['added', 'revoked', 'added', 'rotated'].map((k) => [bob.account, k]),
    )
    expect(alice.keyChanges().map((c) => c.kind)).toEqual(['added', 'revoked', 'added', 'rotated'])
    expect(alice.keyChanges({ account: world.net.account(5).address })).toEqual([])
  })

  test('a peer offline for many blocks alerts on start for the device added meanwhile, once, and not again after a restart', async () => {
    const home = alice.home
    const before = alice.keyChanges().length
    await alice.close()
    const phone = await addChainDevice(2)
    await world.ctx.mine(500)

    const reopen = async () => {
      const seen: KeyChangeEvent[] = []
      const client = await connectTestClient(world.ctx, world.net, world.node, {
        index: 1,
        home,
        beforeStart: (c) => c.events.on('keyChange', (e) => seen.push(e)),
      })
      return { client, seen }
    }
    // The catch-up check runs before start() resolves.
    const first = await reopen()
    expect(first.seen).toHaveLength(1)
    expect(first.seen[0]).toMatchObject({ account: bob.account, kind: 'added', added: [phone.deviceId] })
    expect(first.seen[0]?.fingerprintAfter).toBe(await safety(first.client))
    await first.client.close()

    const second = await reopen()
    expect(second.seen).toEqual([])
    expect(second.client.keyChanges()).toHaveLength(before + 1)
    await second.client.close()
  })

  test('sealpost inbox prints a key change that happened while away', async () => {
    const home = alice.home // closed by the test before
    await createAccount({
      home,
      passphrase: testPassphrase,
      privateKey: world.ctx.anvil.accounts[1] as Hex,
      kdf: testKdf,
    })
    writeDeployment(home, world.net.deployment)
    const desk = await addChainDevice(2)
    const run = await sealpost(
      ['--home', home, '--rpc', world.ctx.anvil.rpcUrl, 'inbox', '--relay', world.node.url],
      { SEALPOST_PASSPHRASE: testPassphrase },
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(
      `⚠ KEY CHANGE  ${bob.account} added a device (+${desk.deviceId.slice(0, 10)}…)`,
    )
    expect(run.stdout).toMatch(/safety number now \d{5}( \d{5}){11}/)
    expect(run.stderr).toContain('1 key change')
  })
})
