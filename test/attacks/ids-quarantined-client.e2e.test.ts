// A quarantined device (the relay's IDS response, docs/ids.md §4a) with a message queued: its live start goes on and
// the message stays queued (RELAY_QUARANTINED holds it back, it does not fail it); after the lift, the next start
// re-sends it and the peer gets it. Real anvil, a real relay node with its IDS, real clients.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Client } from '../../src/client/Client.js'
import { type RelayNode, startRelayNode } from '../../src/relay/node.js'
import { type ChainContext, setupChain } from '../utils/anvil.js'
import { type TestNetwork, testNetwork } from '../utils/clients.js'
import { connectTestClient } from '../utils/stack.js'

let ctx: ChainContext
let net: TestNetwork
let dir: string
let node: RelayNode
const open: Client[] = []

beforeAll(async () => {
  ctx = await setupChain()
  net = testNetwork(ctx)
  dir = mkdtempSync(join(tmpdir(), 'sealpost-ids-quarantined-'))
  node = await startRelayNode({
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    dir,
    pollingInterval: 100,
    anchorAccount: privateKeyToAccount(ctx.anvil.accounts[9] as Hex),
    anchor: { batchIntervalMs: 200, confirmations: 1, pollingIntervalMs: 50 },
    ids: true,
  })
}, 60_000)

afterAll(async () => {
  for (const c of open) await c.close().catch(() => undefined)
  await node?.stop()
  await ctx?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

test('a quarantined device with a queued message starts live; the message stays queued until the lift, then is sent', async () => {
  const aliceHome = join(dir, 'alice')
  const connect = async (index: number, home: string) => {
    const client = await connectTestClient(ctx, net, node, { index, home })
    open.push(client)
    return client
  }
  let alice = await connect(1, aliceHome)
  const bob = await connect(2, join(dir, 'bob'))
  const chat = await alice.conversations.open(bob.account)
  const device = `device:${alice.deviceId.toLowerCase()}`
  node.ids?.responses.record({ action: 'quarantine', entity: device, at: Date.now(), by: 'operator' })

  await expect(chat.send('held back')).rejects.toMatchObject({ wireCode: 'RELAY_QUARANTINED' })
  const queued = alice.messages.inState(['queued'], 'out')
  expect(queued.map((m) => m.body)).toEqual(['held back'])

  // Restart while quarantined: the start re-sends the queued message, gets RELAY_QUARANTINED, and goes on.
  await alice.close()
  alice = await connect(1, aliceHome)
  expect(alice.messages.inState(['queued'], 'out').map((m) => m.id)).toEqual(queued.map((m) => m.id))
  expect(alice.messages.inState(['accepted'], 'out')).toEqual([])

  // The operator lifts it; the next start sends the message and Bob receives it.
  node.ids?.responses.lift(alice.deviceId, { by: 'operator', now: Date.now() })
  const received = new Promise<string>((resolve) => bob.events.on('message', (m) => resolve(m.text)))
  await alice.close()
  alice = await connect(1, aliceHome)
  expect(alice.messages.inState(['queued'], 'out')).toEqual([])
  expect(await received).toBe('held back')
}, 120_000)
