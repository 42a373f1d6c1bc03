/** Shared setup of the inbox attack tests: a chain, a temp directory, Mallory's and Alice's registered raw devices. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { type ChainContext, setupChain } from '../utils/anvil.js'
import { newDevice, type RawDevice, registerDevice } from './rawRelayClient.js'

/** What the inbox attack tests share; the fields are filled in before the first test. */
export type InboxWorld = {
  ctx: ChainContext
  dir: string
  mallory: RawDevice
  alice: RawDevice
  /** Run (last first) after each test: relays and sockets a test opened. */
  cleanups: (() => Promise<void> | void)[]
}

/**
 * Registers the file's hooks: before all, a chain with Mallory's (account 5) and Alice's (account 1) devices
 * registered and a temp directory named after `name`; after each test, its cleanups; after all, both removed.
 *
 * @example const world = inboxWorld('inbox-preimage'); test('…', () => world.mallory.deviceId)
 */
export function inboxWorld(name: string): InboxWorld {
  const world = { cleanups: [] } as unknown as InboxWorld
  beforeAll(async () => {
    world.ctx = await setupChain()
    world.dir = mkdtempSync(join(tmpdir(), `sealpost-attack-${name}-`))
    world.mallory = newDevice(world.ctx.walletClients[5]!)
    world.alice = newDevice(world.ctx.walletClients[1]!)
    await registerDevice(world.ctx, world.mallory)
    await registerDevice(world.ctx, world.alice)
  })
  afterEach(async () => {
    for (const c of world.cleanups.splice(0).reverse()) await c()
  })
  afterAll(async () => {
    await world.ctx?.stop()
    if (world.dir) rmSync(world.dir, { recursive: true, force: true })
  })
  return world
}
