/** A relay cluster on a real 3-node nats-server cluster with 3 relay processes: live delivery, anchoring, faults. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { type NatsCluster, startNatsCluster } from '../src/cli/natsCluster.js'
import { createEnvelope, encodeEnvelope } from '../src/protocol/envelope.js'
import type { RelayFrame } from '../src/protocol/relayFrames.js'
import { JetStreamLease } from '../src/store/jetStreamLease.js'
import { JetStreamRelayStore } from '../src/store/jetStreamRelayStore.js'
import { RelayStoreMismatchError } from '../src/store/relayStore.js'
import { newDevice, type RawDevice, registerDevice } from './attacks/rawRelayClient.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { publishWithFailover, type RawClusterDevice, rawDevice, until } from './utils/clusterTraffic.js'
import { type ClusterRelayProcess, startClusterRelay } from './utils/relayCluster.js'
import { preimageOf, testTopic } from './utils/topics.js'

/** Envelopes per fault test (`SEALPOST_CLUSTER_N`; `npm run test:cluster-faults` runs 10,000). */
const N = Number(process.env.SEALPOST_CLUSTER_N ?? 60)
/** How long every NATS node stays down (`SEALPOST_NATS_OUTAGE_MS`; the scenario is 30 s). */
const OUTAGE_MS = Number(process.env.SEALPOST_NATS_OUTAGE_MS ?? 5_000)
const LEASE = { ttlMs: 2_000, checkMs: 250 }
/** Per-test time limit: the default runs' 180 s, plus room for a 10,000-envelope run. */
const LIMIT = 180_000 + N * 60
/** A wait of the default runs, stretched for larger N. */
const scaled = (ms: number) => ms + N * 20
/**
 * A raw test device sends all its frames at once (thousands at N = 10,000), which the per-device rate shaping
 * (`src/relay/rateShaping.test.ts`) would stretch into minutes of retries: these tests are about durability.
 */
const LIMITS = { ratePerSecond: 1_000_000, burst: 1_000_000, maxThrottledFrames: 1_000_000 }

let chain: ChainContext
let nats: NatsCluster
let relays: ClusterRelayProcess[] = []
const devices: RawDevice[] = []
const opened: RawClusterDevice[] = []
const dir = mkdtempSync(join(tmpdir(), 'sealpost-relay-cluster-'))

function deploymentOf(c: ChainContext) {
  return {
    chainId: c.anvil.chainId,
    keyRegistry: c.contracts.keyRegistry,
    messageAnchor: c.contracts.messageAnchor,
    deployBlock: c.deployBlock,
  }
}

function startRelay(i: number): Promise<ClusterRelayProcess> {
  return startClusterRelay({
    rpc: chain.anvil.rpcUrl,
    deployment: deploymentOf(chain),
    dir: join(dir, `relay${i}`),
    nats: nats.urls,
    anchorKey: chain.anvil.accounts[9] as Hex,
    lease: LEASE,
    limits: LIMITS,
  })
}

async function connect(relay: number, device: number): Promise<RawClusterDevice> {
  const d = await rawDevice(relays[relay]!.url, devices[device]!)
  opened.push(d)
  return d
}

beforeAll(async () => {
  ;[chain, nats] = await Promise.all([setupChain(), startNatsCluster({ size: 3 })])
  for (let i = 1; i <= 4; i++) devices.push(newDevice(chain.walletClients[i]!))
  for (const d of devices) await registerDevice(chain, d)
  relays = await Promise.all([0, 1, 2].map(startRelay))
}, 120_000)

afterAll(async () => {
  for (const d of opened) d.client.close()
  try {
    await Promise.all(relays.map((r) => r.kill('SIGTERM')))
  } finally {
    await chain?.stop()
    await nats?.stop()
  }
  rmSync(dir, { recursive: true, force: true })
})

/** Whether relay `r` holds the anchor lease now (it printed "lease acquired" more often than "lease lost"). */
function holds(r: ClusterRelayProcess): boolean {
  const count = (re: RegExp) => r.output().match(re)?.length ?? 0
  return count(/lease acquired/g) > count(/lease lost/g)
}

/** Every delivery of `topic` to `d`: seqs strictly increasing, no envelope twice. */
function expectOrderedOnce(d: RawClusterDevice, topic: Hex): bigint[] {
  const list = (d.delivered.get(topic) ?? []).filter((x) => x.kind !== 'receipt')
  const seqs = list.map((x) => x.seq)
  expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)))
  expect(new Set(list.map((x) => x.id)).size).toBe(list.length)
  return seqs
}

test('two contenders for the anchor lease: exactly one wins each round; a holder taken over is fenced out', async () => {
  const stores = [
    await JetStreamRelayStore.open({ servers: nats.urls, prefix: 'lease_test' }),
    await JetStreamRelayStore.open({ servers: nats.urls, prefix: 'lease_test' }),
  ]
  try {
    const a = await JetStreamLease.open(stores[0]!.parts, {
      prefix: 'lease_test',
      name: 'anchor',
      replicas: 3,
    })
    const b = await JetStreamLease.open(stores[1]!.parts, {
      prefix: 'lease_test',
      name: 'anchor',
      replicas: 3,
    })
    for (let round = 0; round < 10; round++) {
      const won = await Promise.all([a!.tryAcquire('a', 60_000), b!.tryAcquire('b', 60_000)])
      expect(won.filter(Boolean)).toHaveLength(1)
      const holder = won[0] ? a! : b!
      expect(await holder.put('batch.x', `round ${round}`)).toBe(true)
      expect(await holder.release()).toBe(true)
    }
    // a holds; b sees the lease unchanged for the ttl (here: 0 ms after its first look) and takes it over.
    expect(await a!.tryAcquire('a', 0)).toBe(true)
    expect(await b!.tryAcquire('b', 0, Date.now())).toBe(false) // first look
    expect(await b!.tryAcquire('b', 0, Date.now() + 1)).toBe(true)
    expect(await a!.put('batch.y', 'stale')).toBe(false) // fenced: nothing written
    expect(await a!.renew('a')).toBe(false)
    expect((await b!.entries('batch.*')).map(([k]) => k)).toEqual(['batch.x'])
  } finally {
    await Promise.all(stores.map((s) => s.close()))
  }
}, 60_000)

test('a relay store against a stream of other replicas or another deployment refuses to open, naming the difference', async () => {
  const first = await JetStreamRelayStore.open({
    servers: nats.urls,
    prefix: 'mismatch',
    deployment: 'chain 1',
  })
  await first.close()
  await expect(
    JetStreamRelayStore.open({ servers: nats.urls, prefix: 'mismatch', replicas: 1, deployment: 'chain 1' }),
  ).rejects.toThrow(/replicas: the stream has 3, this relay asks for 1/)
  const other = await JetStreamRelayStore.open({
    servers: nats.urls,
    prefix: 'mismatch',
    deployment: 'chain 2',
  }).catch((e: unknown) => e)
  expect(other).toBeInstanceOf(RelayStoreMismatchError)
  expect((other as RelayStoreMismatchError).differences).toEqual([
    'deployment: the stream is "sealpost relay store: chain 1", this relay is "sealpost relay store: chain 2"',
  ])
}, 60_000)

test(
  'live across relays, a NATS node SIGKILLed mid-load: every envelope reaches each relay once, in order, anchored',
  async () => {
    const topic = testTopic()
    const [alice, bob, carol] = [await connect(0, 0), await connect(1, 1), await connect(2, 2)]
    for (const d of [alice, bob, carol]) await d.subscribe(topic)
    const sending = [
      Promise.all(Array.from({ length: N / 2 }, () => alice.publish(topic))),
      Promise.all(Array.from({ length: N / 2 }, () => carol.publish(topic))),
    ]
    await until(
      () => (bob.delivered.get(topic)?.length ?? 0) >= N / 6,
      scaled(30_000),
      () => 'no live traffic',
    )
    await nats.kill(0)
    const sent = (await Promise.all(sending)).flat()
    const ids = (xs: { id: Hex }[]) => new Set(xs.map((x) => x.id))
    const app = (d: RawClusterDevice) => (d.delivered.get(topic) ?? []).filter((x) => x.kind !== 'receipt')
    await until(
      () => app(bob).length >= N,
      scaled(60_000),
      () => `bob has ${app(bob).length} of ${N}`,
    )
    // Bob (a reader) got every seq 1..N exactly once, in order; each publisher every envelope of the other.
    expect(expectOrderedOnce(bob, topic)).toEqual(sent.map((s) => s.seq).sort((a, b) => (a < b ? -1 : 1)))
    expect([...ids(app(bob))].sort()).toEqual(sent.map((s) => s.id).sort())
    await until(
      () => app(alice).length >= N / 2 && app(carol).length >= N / 2,
      scaled(30_000),
      () =>
        `alice ${app(alice).length}, carol ${app(carol).length}: ${JSON.stringify(
          [alice, carol].map((d) => app(d).map((x) => Number(x.seq))),
        )} sent ${JSON.stringify(sent.map((x) => Number(x.seq)))}`,
    )
    expectOrderedOnce(alice, topic)
    expectOrderedOnce(carol, topic)
    // Every leaf is anchored once: its receipt reaches subscribers on every relay.
    await until(
      () => sent.every((s) => bob.receipts.has(s.leaf)),
      scaled(90_000),
      () => `${bob.receipts.size} receipts`,
    )
    await nats.restart(0)
  },
  LIMIT,
)

test(
  'SIGKILL of a relay with publishes in flight: its device fails over, re-sends what had no OK, and every envelope arrives once, in order, anchored',
  async () => {
    // The victim is a relay that does not anchor, so this is about delivery (the next test kills the anchorer).
    const victim = relays.findIndex((r) => !holds(r))
    const [reader, other] = [0, 1, 2].filter((i) => i !== victim) as [number, number]
    const topic = testTopic()
    const bob = await connect(reader, 1)
    const carol = await connect(other, 2)
    for (const d of [bob, carol]) await d.subscribe(topic)
    const app = () => (bob.delivered.get(topic) ?? []).filter((x) => x.kind !== 'receipt')
    const on: string[] = []
    // Alice publishes through the victim; Carol at the same time through another relay.
    const alice = publishWithFailover(
      [victim, reader, other].map((i) => relays[i]!.url),
      devices[0]!,
      topic,
      N / 2,
      // 16 outstanding at the default N (so the kill finds some in flight); 250 at N = 10,000, near the SDK's 256.
      { window: Math.max(16, Math.min(256, N / 40)), onConnected: (url) => on.push(url) },
    )
    const carolSent = Promise.all(Array.from({ length: N / 2 }, () => carol.publish(topic)))
    await until(
      () => app().length >= N / 6,
      scaled(60_000),
      () => `bob has ${app().length}`,
    )
    await relays[victim]!.kill('SIGKILL')
    const [{ sent, resent, failovers }, fromCarol] = await Promise.all([alice, carolSent])
    // Alice began on the victim and, once it died, went on through live relays only (the next in her list, or the
    // one after it if a connection attempt timed out on the loaded machine).
    expect(on[0]).toBe(relays[victim]!.url)
    expect(on.length).toBeGreaterThanOrEqual(2)
    expect(on.slice(1)).not.toContain(relays[victim]!.url)
    expect(failovers).toBe(on.length - 1)
    console.log(`relay SIGKILL with ${N / 2} publishes: ${resent} had no OK when it died and were sent again`)
    const all = [...sent, ...fromCarol]
    await until(
      () => app().length >= N,
      scaled(60_000),
      () => `bob has ${app().length} of ${N}`,
    )
    // Every envelope once (a re-sent one that the dead relay had stored is a duplicate: OK with its first seq), and
    // the seqs Bob saw are exactly those the publishers were told, in order.
    expect(expectOrderedOnce(bob, topic)).toEqual(all.map((x) => x.seq).sort((a, b) => (a < b ? -1 : 1)))
    expect(new Set(app().map((x) => x.id))).toEqual(new Set(all.map((x) => x.id)))
    expect(new Set(all.map((x) => x.seq)).size).toBe(N)
    await until(
      () => all.every((x) => bob.receipts.has(x.leaf)),
      scaled(90_000),
      () => `${bob.receipts.size} of ${N} receipts`,
    )
    relays[victim] = await startRelay(victim)
  },
  LIMIT,
)

test(
  'SIGKILL of the relay holding the anchor lease: another takes over (measured) and every receipt arrives',
  async () => {
    await until(
      () => relays.some(holds),
      scaled(30_000),
      () => 'no relay holds the anchor lease',
    )
    const holder = relays.find(holds)!
    const others = relays.map((_, i) => i).filter((i) => relays[i] !== holder)
    const topic = testTopic()
    const a = await connect(others[0]!, 3)
    const b = await connect(others[1]!, 1)
    await b.subscribe(topic)
    const sending = Promise.all(Array.from({ length: N / 2 }, () => a.publish(topic)))
    const marks = relays.map((r) => r.output().length)
    const killedAt = Date.now()
    await holder.kill('SIGKILL')
    const takenAt = await Promise.race(
      others.map((i) =>
        relays[i]!.printed(/lease acquired/, 60_000, marks[i]).then(
          (t) => t,
          () => Number.POSITIVE_INFINITY,
        ),
      ),
    )
    console.log(
      `anchor lease takeover: ${takenAt - killedAt} ms after SIGKILL (ttl ${LEASE.ttlMs}, check ${LEASE.checkMs})`,
    )
    expect(takenAt - killedAt).toBeLessThan(60_000)
    const sent = await sending
    await until(
      () => sent.every((s) => b.receipts.has(s.leaf)),
      scaled(90_000),
      () => `${b.receipts.size} receipts`,
    )
    expectOrderedOnce(b, topic)
    relays[relays.indexOf(holder)] = await startRelay(relays.indexOf(holder))
  },
  LIMIT,
)

test(
  'all NATS nodes stopped: relays refuse every store-backed frame with RELAY_UNAVAILABLE; after the restart they deliver again',
  async () => {
    const topic = testTopic()
    const [alice, bob] = [await connect(0, 0), await connect(1, 1)]
    await bob.subscribe(topic)
    await Promise.all([0, 1, 2].map((i) => nats.kill(i)))
    const envelope = encodeEnvelope(createEnvelope({ kind: 'application', topic, payload: Uint8Array.of(7) }))
    const refused = await alice.publishOnce(envelope, 30_000)
    expect(refused).toMatchObject({ type: 'error', code: 'RELAY_UNAVAILABLE' })
    // Every other frame whose handler needs the store gets the same transient refusal, not RELAY_INTERNAL.
    const other = testTopic()
    const deviceId = devices[2]!.deviceId
    const frames = [
      { type: 'subscribe', reqId: 9_001, topic: other, after: 0n, preimage: preimageOf(other) },
      { type: 'kp-count', reqId: 9_002, deviceId },
      { type: 'kp-take', reqId: 9_003, deviceId },
      { type: 'leaf', reqId: 9_004, topic: other, leaf: testTopic() },
    ] as const
    const answers: RelayFrame[] = []
    for (const frame of frames) {
      alice.client.send(frame)
      // A leaf's receipt look-up waits for its NATS request to time out (5 s) before it is refused.
      answers.push(await alice.client.next((f) => 'reqId' in f && f.reqId === frame.reqId, 15_000))
    }
    expect(answers.map((a) => [a.type, a.type === 'error' ? a.code : undefined])).toEqual(
      frames.map(() => ['error', 'RELAY_UNAVAILABLE']),
    )
    await new Promise((r) => setTimeout(r, OUTAGE_MS))
    await Promise.all([0, 1, 2].map((i) => nats.restart(i)))
    await nats.ready()
    // The client's outbox sends the same envelope again until the relay takes it.
    let answer = refused
    for (let i = 0; i < 200 && answer.type !== 'ok'; i++) {
      answer = await alice.publishOnce(envelope).catch(() => refused)
      if (answer.type !== 'ok') await new Promise((r) => setTimeout(r, 250))
    }
    expect(answer.type).toBe('ok')
    await until(
      () => (bob.delivered.get(topic)?.length ?? 0) === 1,
      scaled(30_000),
      () =>
        `bob has ${bob.delivered.get(topic)?.length ?? 0} deliveries of the envelope; his connection is ${bob.client.ws.readyState === 1 ? 'open' : 'closed'}`,
    )
  },
  LIMIT,
)
