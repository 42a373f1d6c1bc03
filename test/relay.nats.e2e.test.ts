import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { type Hex, keccak256, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { type NatsCluster, startNatsCluster } from '../src/cli/natsCluster.js'
import { createEnvelope, encodeEnvelope } from '../src/protocol/envelope.js'
import { startRelayNode } from '../src/relay/node.js'
import { JetStreamRelayStore } from '../src/store/jetStreamRelayStore.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type TestNetwork, testNetwork } from './utils/clients.js'

let chain: ChainContext
let net: TestNetwork
let cluster: NatsCluster
const dir = mkdtempSync(join(tmpdir(), 'sealpost-relay-nats-'))

beforeAll(async () => {
  ;[chain, cluster] = await Promise.all([setupChain(), startNatsCluster({ size: 3 })])
  net = testNetwork(chain)
}, 90_000)

afterAll(async () => {
  await net?.cleanup()
  await chain?.stop()
  await cluster?.stop()
  rmSync(dir, { recursive: true, force: true })
})

test('a relay node started with nats keeps its envelopes in the JetStream cluster, under names keyed to the deployment', {
  timeout: 90_000,
}, async () => {
  const node = await startRelayNode({
    rpc: chain.anvil.rpcUrl,
    deployment: net.deployment,
    dir,
    anchorAccount: privateKeyToAccount(chain.anvil.accounts[9] as Hex),
    pollingInterval: 100,
    nats: { servers: cluster.urls },
  })
  const topic = keccak256(toHex('relay on nats'))
  const envelope = createEnvelope({ kind: 'application', topic, payload: Uint8Array.of(1, 2, 3) })
  try {
    expect(node.store).toBeInstanceOf(JetStreamRelayStore)
    expect(await node.server.publishSystem(envelope)).toBe(1n)
  } finally {
    await node.stop()
  }
  // Another relay of the same deployment (here: a second store on the same names) reads it.
  const other = await JetStreamRelayStore.open({
    servers: cluster.urls,
    prefix: `sealpost_${basename(node.stateDir)}`,
  })
  try {
    const stored = await other.readAfter(topic.toLowerCase() as Hex, 0n, 10)
    expect(stored.map((s) => s.seq)).toEqual([1n])
    expect(stored[0]!.bytes).toEqual(encodeEnvelope(envelope))
  } finally {
    await other.close()
  }
})
