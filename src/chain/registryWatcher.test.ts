import { type Address, bytesToHex, createPublicClient, custom, type Hex, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'
import { registerTestDevice, testDeviceKeys } from '../../test/utils/devices.js'
import { proveDeviceKeys, signP256Pop } from '../crypto/pop.js'
import { WatcherBehindError } from './errors.js'
import { getRegistryNonce, isDeviceValidAt, revokeDevice, rotateDevice } from './keyRegistry.js'
import { signRevokeDevice, signRotateDevice } from './registryAuthorizations.js'
import { type RegistryChange, RegistryWatcher } from './registryWatcher.js'

let ctx: ChainContext
let registry: Address
const alice = privateKeyToAccount('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba')
const bob = privateKeyToAccount('0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e')
const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)

const deviceKey = (owner: typeof alice) =>
  testDeviceKeys({ chainId: ctx.anvil.chainId, registry, account: owner.address })

async function add(owner: typeof alice, keys = deviceKey(owner)) {
  const res = await registerTestDevice(ctx, owner, { keys })
  const hash = (await ctx.publicClient.getBlock({ blockNumber: res.blockNumber })).transactions[0]!
  return { ...res, hash }
}

async function revoke(owner: typeof alice, deviceId: Hex) {
  const nonce = await getRegistryNonce(ctx.publicClient, { registry, account: owner.address })
  const chainId = ctx.anvil.chainId
  const signature = await signRevokeDevice(owner, { registry, chainId, deviceId, nonce, deadline })
  return revokeDevice(ctx.walletClient, { registry, account: owner.address, deviceId, deadline, signature })
}

async function rotate(owner: typeof alice, oldDeviceId: Hex) {
  const key = deviceKey(owner)
  const nonce = await getRegistryNonce(ctx.publicClient, { registry, account: owner.address })
  const chainId = ctx.anvil.chainId
  const signature = await signRotateDevice(owner, { registry, chainId, oldDeviceId, ...key, nonce, deadline })
  return rotateDevice(ctx.walletClient, {
    registry,
    account: owner.address,
    oldDeviceId,
    ...key,
    deadline,
    signature,
  })
}

function until(predicate: () => boolean, ms = 5000): Promise<void> {
  return new Promise((ok, fail) => {
    const started = Date.now()
    const tick = () => {
      if (predicate()) return ok()
      if (Date.now() - started > ms) return fail(new Error('timed out'))
      setTimeout(tick, 20)
    }
    tick()
  })
}

beforeAll(async () => {
  ctx = await setupChain()
  registry = ctx.contracts.keyRegistry
})
afterAll(() => ctx.stop())

describe('RegistryWatcher', () => {
  it('backfills, follows live, answers isValidAt like the contract, and emits changes', async () => {
    // History before the watcher starts.
    const a1 = await add(alice)
    const b1 = await add(bob)
    await ctx.mine(3)
    const a1Revoked = await revoke(alice, a1.deviceId)

    // Small chunks so the backfill crosses several getLogs requests.
    const watcher = new RegistryWatcher({
      publicClient: ctx.publicClient,
      registry,
      fromBlock: ctx.deployBlock,
      pollingInterval: 50,
      chunkSize: 2n,
    })
    const changes: RegistryChange[] = []
    watcher.on('change', (c) => changes.push(c))
    const added: Hex[] = []
    watcher.on('device-added', (d) => added.push(d.deviceId))
    await watcher.start()
    try {
      expect(watcher.syncedTo).toBe(await ctx.publicClient.getBlockNumber())
      expect(watcher.devicesOf(alice.address)).toEqual([
        expect.objectContaining({
          deviceId: a1.deviceId,
          account: alice.address,
          addedAt: a1.blockNumber,
          addedTx: a1.hash,
          revokedAt: a1Revoked.blockNumber,
          revokedTx: a1Revoked.hash,
        }),
      ])
      expect(watcher.activeDevicesOf(alice.address)).toEqual([])
      expect(watcher.activeDevicesOf(bob.address.toLowerCase() as Address).map((d) => d.deviceId)).toEqual([
        b1.deviceId,
      ])
      expect(changes.map((c) => c.type)).toEqual(['device-added', 'device-added', 'device-revoked'])
      expect(added).toEqual([a1.deviceId, b1.deviceId])

      // Live: a rotation shows up without calling sync().
      const r = await rotate(bob, b1.deviceId)
      await until(() => watcher.device(r.deviceId) !== undefined && watcher.syncedTo >= r.blockNumber)
      expect(watcher.device(b1.deviceId)?.revokedAt).toBe(r.blockNumber)
      expect(watcher.activeDevicesOf(bob.address).map((d) => d.deviceId)).toEqual([r.deviceId])
      // The contract revokes the old device before adding the new one.
      expect(changes.slice(3).map((c) => c.type)).toEqual(['device-revoked', 'device-added'])

      // isValidAt matches the contract at every block of interest.
      const cases: [Address, Hex][] = [
        [alice.address, a1.deviceId],
        [bob.address, b1.deviceId],
        [bob.address, r.deviceId],
        [alice.address, b1.deviceId],
      ]
      for (let block = ctx.deployBlock; block <= watcher.syncedTo; block++) {
        for (const [account, deviceId] of cases) {
          const onChain = await isDeviceValidAt(ctx.publicClient, { registry, account, deviceId, at: block })
          expect(watcher.isValidAt(account, deviceId, block), `${deviceId} at ${block}`).toBe(onChain)
        }
      }
      expect(() => watcher.isValidAt(alice.address, a1.deviceId, watcher.syncedTo + 5n)).toThrow(
        WatcherBehindError,
      )
    } finally {
      watcher.stop()
    }
  })

  it('sync() catches up on demand, and a reorg rewinds and re-reads', async () => {
    const watcher = new RegistryWatcher({
      publicClient: ctx.publicClient,
      registry,
      fromBlock: ctx.deployBlock,
    })
    await watcher.sync()
    const before = watcher.devicesOf(alice.address).length
    const snap = await ctx.snapshot()
    const a2 = await add(alice)
    expect(await watcher.sync()).toBe(a2.blockNumber)
    expect(watcher.isValidAt(alice.address, a2.deviceId, a2.blockNumber)).toBe(true)

    // Replace the block holding a2 by an empty block at the same height.
    await ctx.revert(snap)
    await ctx.mine(1)
    const changes: RegistryChange[] = []
    watcher.on('change', (c) => changes.push(c))
    await watcher.sync()
    expect(changes[0]?.type).toBe('reorg')
    expect(watcher.device(a2.deviceId)).toBeUndefined()
    expect(watcher.devicesOf(alice.address)).toHaveLength(before)
    expect(watcher.isValidAt(alice.address, a2.deviceId, a2.blockNumber)).toBe(false)
  })

  it('attack 8: ignores a device whose MLS proof of possession fails; the first valid record owns an MLS key', async () => {
    const mallory = privateKeyToAccount(ctx.anvil.accounts[9]!)
    const victimKeys = deviceKey(alice) // Alice's device, not registered yet
    const watcher = new RegistryWatcher({
      publicClient: ctx.publicClient,
      registry,
      fromBlock: ctx.deployBlock,
    })
    const ignored: Hex[] = []
    watcher.on('device-ignored', (r) => ignored.push(r.deviceId))
    await watcher.sync()

    // Mallory registers her own P-256 key with Alice's MLS key: garbage proof, and a copy of Alice's proof
    // (made for Alice's account and P-256 key), both fail.
    const squat = (mlsPop: Hex) => {
      const own = deviceKey(mallory)
      const context = { ...own, mlsKey: victimKeys.mlsKey, chainId: ctx.anvil.chainId, registry }
      return {
        ...own,
        mlsKey: victimKeys.mlsKey,
        ...signP256Pop(own.signingKey, { ...context, account: mallory.address }),
        mlsPop,
      }
    }
    const garbage = squat(bytesToHex(new Uint8Array(64).fill(7)))
    const copied = squat(victimKeys.mlsPop)
    const squats = [await add(mallory, garbage), await add(mallory, copied)]
    // A malformed proof (wrong length) is just as invalid.
    const short = await add(mallory, { ...deviceKey(mallory), mlsPop: '0x01' })
    await watcher.sync()
    for (const { deviceId } of [...squats, short]) {
      expect(watcher.device(deviceId)).toBeUndefined()
      expect(watcher.deviceRecord(deviceId)).toMatchObject({ account: mallory.address, invalid: 'mls-pop' })
      expect(watcher.isValidAt(mallory.address, deviceId, watcher.syncedTo)).toBe(false)
    }
    expect(watcher.activeDevicesOf(mallory.address)).toEqual([])
    expect(watcher.devicesOf(mallory.address)).toEqual([])
    expect(ignored).toEqual([...squats, short].map((s) => s.deviceId))

    // Alice registers her device afterwards: valid, and it owns the MLS key.
    const a = await add(alice, victimKeys)
    await watcher.sync()
    expect(watcher.device(a.deviceId)).toMatchObject({ account: alice.address, mlsKey: victimKeys.mlsKey })
    expect(watcher.device(a.deviceId)?.invalid).toBeUndefined()
    expect(watcher.activeDevicesOf(alice.address).map((d) => d.deviceId)).toContain(a.deviceId)

    // The same MLS key in a later record with a valid proof (only its holder can make one) is ignored too.
    const again = testDeviceKeys({ chainId: ctx.anvil.chainId, registry, account: bob.address })
    const reuse = {
      ...again,
      mlsKey: victimKeys.mlsKey,
      ...proveDeviceKeys({
        ...again,
        mlsKey: victimKeys.mlsKey,
        mlsSignKey: victimKeys.mlsSignKey,
        chainId: ctx.anvil.chainId,
        registry,
        account: bob.address,
      }),
    }
    const b = await add(bob, reuse)
    await watcher.sync()
    expect(watcher.deviceRecord(b.deviceId)?.invalid).toBe('mls-key-taken')
    expect(watcher.device(b.deviceId)).toBeUndefined()
  })

  it('a getLogs range the provider refuses is split in halves until it answers', async () => {
    const a = await add(alice)
    await ctx.mine(5)
    const b = await add(bob)
    // The real anvil behind a provider that refuses any eth_getLogs over more than 2 blocks, as a provider refuses
    // an answer that is too large.
    const ranges: bigint[] = []
    const upstream = http(ctx.anvil.rpcUrl)({ chain: undefined, retryCount: 0 })
    const picky = createPublicClient({
      transport: custom(
        {
          async request({ method, params }) {
            if (method === 'eth_getLogs') {
              const [{ fromBlock, toBlock }] = params as [{ fromBlock: Hex; toBlock: Hex }]
              const span = BigInt(toBlock) - BigInt(fromBlock) + 1n
              ranges.push(span)
              if (span > 2n) throw new Error('query returned too many results')
            }
            return upstream.request({ method, params } as never)
          },
        },
        { retryCount: 0 },
      ),
    })
    const watcher = new RegistryWatcher({ publicClient: picky, registry, fromBlock: ctx.deployBlock })
    await watcher.sync()
    expect(watcher.device(a.deviceId)?.addedAt).toBe(a.blockNumber)
    expect(watcher.device(b.deviceId)?.addedAt).toBe(b.blockNumber)
    expect(watcher.syncedTo).toBe(await ctx.publicClient.getBlockNumber())
    expect(ranges.some((n) => n > 2n)).toBe(true)
    expect(ranges.filter((n) => n <= 2n).length).toBeGreaterThan(1)
  })
})
