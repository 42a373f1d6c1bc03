/** Shared setup of the inbox attack tests: a chain, a temp directory, Mallory's and Alice's registered raw devices. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { createEnvelope, encodeEnvelope } from '../../src/protocol/envelope.js'
import type { TopicPreimage } from '../../src/protocol/topics.js'
import { type ChainContext, setupChain } from '../utils/anvil.js'
import type { startCountingRelay } from './countingRelay.js'
import { newDevice, type RawDevice, type RawRelayClient, registerDevice } from './rawRelayClient.js'

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

/**
 * The owner's side of an inbox attack: `owner` connects (from 127.0.0.2), subscribes to its inbox with `preimage`,
 * Alice publishes a Welcome there, and the owner gets it. Returns the owner's connection.
 *
 * @example await ownerGetsWelcome(relay, world, victim, inboxTopic(victim.deviceId), preimage)
 */
export async function ownerGetsWelcome(
  relay: Awaited<ReturnType<typeof startCountingRelay>>,
  world: InboxWorld,
  owner: RawDevice,
  inbox: Hex,
  preimage: TopicPreimage,
): Promise<RawRelayClient> {
  const v = await relay.connect('127.0.0.2')
  expect(await v.auth(owner)).toMatchObject({ type: 'auth-ok' })
  expect(await v.request({ type: 'subscribe', reqId: 1, topic: inbox, after: 0n, preimage })).toEqual({
    type: 'ok',
    reqId: 1,
    value: 0n,
  })
  const a = await relay.connect()
  expect(await a.auth(world.alice)).toMatchObject({ type: 'auth-ok' })
  const welcome = createEnvelope({ kind: 'welcome', topic: inbox, payload: Uint8Array.of(1, 2, 3) })
  expect(await a.request({ type: 'publish', reqId: 1, envelope: encodeEnvelope(welcome) })).toMatchObject({
    type: 'ok',
    value: 1n,
  })
  expect(await v.next((f) => f.type === 'deliver')).toMatchObject({ topic: inbox, seq: 1n })
  return v
}
