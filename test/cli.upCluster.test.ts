/**
 * `sealpost up --cluster 3` as a user runs it: three nats-server nodes and three relays, the dashboard's view of them,
 * a client failing over from a dying relay with nothing lost or doubled, and a stop that leaves nothing running.
 */
import { existsSync, readFileSync } from 'node:fs'
import { get } from 'node:http'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, expect, test, vi } from 'vitest'
import { anvilPrivateKeys } from '../src/chain/anvil.js'
import { findNatsServer } from '../src/cli/natsCluster.js'
import type { Client, ReceivedMessage } from '../src/client/Client.js'
import { connectClient } from '../src/client/connect.js'
import { type Deployment, readDeploymentFile } from '../src/client/deployment.js'
import type { RelayTransport } from '../src/client/relayTransport.js'
import { sampleNatsNode } from '../src/dashboard/collect/cluster.js'
import type { ClusterEvent } from '../src/dashboard/events.js'
import {
  type CliProcess,
  type JoinEnv,
  parseJoinLine,
  startSealpost,
  startUp,
  tempHomes,
} from './utils/cli.js'
import { testKdf, testPassphrase } from './utils/clients.js'
import { freePort } from './utils/net.js'
import { alive, descendants } from './utils/processes.js'

const homes = tempHomes()
let up: Awaited<ReturnType<typeof startUp>>
let join: JoinEnv
let deployment: Deployment
/** The NATS nodes `up` printed: name, client URL, monitoring URL. */
let nats: { name: string; url: string; monitorUrl: string }[]
const clients: Client[] = []
let relayA: CliProcess | undefined

beforeAll(async () => {
  up = await startUp(homes.make('up-cluster'), { SEALPOST_PASSPHRASE: 'unused' }, [
    '--cluster',
    '3',
    '--block-time',
    '0',
  ])
  join = parseJoinLine(up.output())
  deployment = readDeploymentFile(join.SEALPOST_DEPLOYMENT)
  nats = [...up.output().matchAll(/NATS (n\d) +(nats:\/\/\S+) \(monitoring (http:\/\/\S+)\)/g)].map((m) => ({
    name: m[1] as string,
    url: m[2] as string,
    monitorUrl: m[3] as string,
  }))
}, 120_000)

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined)
  await relayA?.stop('SIGKILL')
  if (up && up.child.exitCode === null) await up.stop('SIGKILL')
  homes.remove()
})

test('up --cluster 3 reports each step; every NATS node is healthy, routed, and one leads JetStream; the join line lists every relay', async () => {
  const output = up.output()
  expect(output).toContain('✓ Starting 3 NATS nodes (JetStream, one cluster)')
  for (let i = 1; i <= 3; i++) expect(output).toContain(`✓ Starting relay ${i} of 3 on NATS node n${i - 1}`)
  const relays = join.SEALPOST_RELAY.split(',')
  expect(relays).toHaveLength(3)
  expect(relays[0]).toBe(`ws://127.0.0.1:${up.ports.relay}`)
  // The dashboard's collector against the real cluster.
  expect(nats.map((n) => n.name)).toEqual(['n0', 'n1', 'n2'])
  const samples = await Promise.all(nats.map((n) => sampleNatsNode(n)))
  for (const s of samples) expect(s).toMatchObject({ up: true, routes: 2 })
  expect(samples.filter((s) => s.leader)).toHaveLength(1)
  expect(samples.reduce((a, s) => a + s.connections, 0)).toBeGreaterThanOrEqual(3) // a relay per node at least
})

test("the dashboard streams each relay's and NATS node's health and load", async () => {
  const token = /#token=([\w-]+)/.exec(up.output())?.[1]
  expect(token, 'the dashboard is built (npm run build:web)').toBeDefined()
  const cluster = await new Promise<ClusterEvent>((resolve, reject) => {
    const req = get(`http://127.0.0.1:${up.ports.dashboard}/events?token=${token}`, (res) => {
      let buffer = ''
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString()
        const lines = buffer.split('\n')
        buffer = lines.pop() ?? ''
        for (const line of lines) {
          if (!line.startsWith('data: ') || !line.includes('"type":"cluster"')) continue
          const event = JSON.parse(line.slice('data: '.length)) as ClusterEvent
          // The first relay to start takes the anchor lease within a few samples.
          if (!event.relays.some((r) => r.anchoring)) continue
          req.destroy()
          resolve(event)
        }
      })
    })
    req.on('error', reject)
  })
  expect(cluster.relays.map((r) => [r.url, r.up])).toEqual(
    join.SEALPOST_RELAY.split(',').map((u) => [u, true]),
  )
  expect(cluster.nats.map((n) => [n.name, n.up])).toEqual([
    ['n0', true],
    ['n1', true],
    ['n2', true],
  ])
  expect(cluster.nats.filter((n) => n.leader)).toHaveLength(1)
  expect(cluster.relays.filter((r) => r.anchoring)).toHaveLength(1)
})

/** A live client of anvil account `index` (funded: it pays its own registration) on `relay`, along which it fails over. */
async function clientOn(index: number, relay: string[], inbox: ReceivedMessage[]): Promise<Client> {
  const client = await connectClient({
    account: privateKeyToAccount(anvilPrivateKeys[index] as Hex),
    home: homes.make(`user-${index}`),
    rpc: join.SEALPOST_RPC,
    deployment,
    relay,
    sponsor: 'never',
    passphrase: testPassphrase,
    kdf: testKdf,
    pollingInterval: 200,
    backoff: { minMs: 20, maxMs: 200 },
    beforeStart: (c) => c.events.on('message', (m) => inbox.push(m)),
  })
  clients.push(client)
  return client
}
test('a client on relay A and one on relay B exchange messages; A dies; its client fails over to B and every message arrives once, in order', async () => {
  // Relay A is a `sealpost relay --nats` of its own on up's NATS cluster (so it can be killed alone); B is up's first.
  const portA = await freePort()
  relayA = await startSealpost(
    [
      '--home',
      homes.make('relay-a'),
      'relay',
      '--port',
      String(portA),
      '--nats',
      nats.map((n) => n.url).join(','),
    ],
    /Ctrl-C stops everything/,
    { SEALPOST_RPC: join.SEALPOST_RPC, SEALPOST_DEPLOYMENT: join.SEALPOST_DEPLOYMENT },
  )
  const a = `ws://127.0.0.1:${portA}`
  const b = join.SEALPOST_RELAY.split(',')[0] as string
  const atAlice: ReceivedMessage[] = []
  const atBob: ReceivedMessage[] = []
  const alice = await clientOn(1, [a, b], atAlice)
  const bob = await clientOn(2, [b, a], atBob)
  const wait = (check: () => void) => vi.waitFor(check, { timeout: 30_000, interval: 50 })

  // Live across relays: what Alice publishes on A reaches Bob on B as it is stored, and back.
  const chat = await alice.conversations.open(bob.account)
  const before = ['one', 'two', 'three']
  for (const text of before) await chat.send(text)
  await wait(() => expect(atBob.map((m) => m.text)).toEqual(before))
  await bob.conversations.get(chat.id)?.send('pong')
  await wait(() => expect(atAlice.map((m) => m.text)).toEqual(['pong']))

  // Relay A is SIGKILLed: no goodbye to its clients, Alice included.
  const aliceTransport = alice.transport as RelayTransport
  expect(aliceTransport.url).toBe(a)
  await relayA.stop('SIGKILL')
  const after = ['four', 'five', 'six']
  for (const text of after) await chat.send(text) // queued while Alice fails over, sent on B
  await wait(() => expect(atBob.map((m) => m.text)).toEqual([...before, ...after]))
  expect(aliceTransport.stats()).toMatchObject({ url: b, state: 'ready', reconnects: 1 })
  await bob.conversations.get(chat.id)?.send('pong again')
  await wait(() => expect(atAlice.map((m) => m.text)).toEqual(['pong', 'pong again']))

  // In order, each once: the seqs Bob's application saw rise, no id twice, and a sync finds nothing more.
  const seqs = atBob.map((m) => m.seq)
  expect(seqs).toEqual([...seqs].sort((x, y) => (x < y ? -1 : 1)))
  expect(new Set(atBob.map((m) => m.id)).size).toBe(atBob.length)
  expect((await bob.sync()).received).toEqual([])
  expect((await alice.sync()).received).toEqual([])
})

test('Ctrl-C stops the relays, the NATS nodes and the chain, leaving no process and no NATS store behind', async () => {
  for (const c of clients.splice(0)) await c.close()
  const children = descendants(up.child.pid as number)
  const natsPids = children.filter((pid) =>
    readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nats-server'),
  )
  expect(natsPids).toHaveLength(3)
  const natsDir = /-c\0([^\0]+)\/n0\.conf/.exec(readFileSync(`/proc/${natsPids[0]}/cmdline`, 'utf8'))?.[1]
  expect(natsDir && existsSync(natsDir)).toBe(true)
  expect(await up.stop('SIGINT')).toBe(0)
  expect(up.output()).toContain('✓ Stopping the dashboard, the relays, the NATS nodes and the chain')
  expect(children.filter(alive)).toEqual([])
  expect(existsSync(natsDir as string)).toBe(false)
})

test('without nats-server, --cluster names the install command', () => {
  expect(() => findNatsServer('/nonexistent/nats-server')).toThrowErrorMatchingInlineSnapshot(`
    [NatsServerMissingError: nats-server was not found at /nonexistent/nats-server.

    Install it with: sudo apt-get install -y nats-server
    or name another binary with SEALPOST_NATS_SERVER=/path/to/nats-server]
  `)
})
