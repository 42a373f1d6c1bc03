import { randomBytes } from 'node:crypto'
import { headers } from '@nats-io/transport-node'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type NatsCluster, startNatsCluster } from '../cli/natsCluster.js'
import { isConflict, isUnavailable } from './jetStreamLayout.js'
import { JetStreamPipeline } from './jetStreamPipeline.js'
import { JetStreamRelayStore } from './jetStreamRelayStore.js'
import type { RelayStore } from './relayStore.js'
import { relayStoreContract } from './relayStoreContract.js'

let cluster: NatsCluster
const prefixes = new Map<RelayStore, string>()

beforeAll(async () => {
  cluster = await startNatsCluster({ size: 3 })
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
})

relayStoreContract(
  'JetStreamRelayStore (3-node cluster, R3)',
  {
    async open(now) {
      const prefix = `t${randomBytes(4).toString('hex')}`
      const store = await JetStreamRelayStore.open({ servers: cluster.urls, prefix, now })
      prefixes.set(store, prefix)
      return store
    },
    async reopen(store, now) {
      const prefix = prefixes.get(store)!
      await store.close()
      const reopened = await JetStreamRelayStore.open({ servers: cluster.urls, prefix, now })
      prefixes.set(reopened, prefix)
      return reopened
    },
  },
  60_000,
)

describe('JetStreamRelayStore shared by two relays', () => {
  test('concurrent appends to one topic through two stores get distinct, gap-free seqs that both read alike', {
    timeout: 120_000,
  }, async () => {
    const a = await JetStreamRelayStore.open({ servers: cluster.urls, prefix: 'shared' })
    const b = await JetStreamRelayStore.open({ servers: [...cluster.urls].reverse(), prefix: 'shared' })
    const topic = `0x${'ef'.repeat(32)}` as Hex
    const entry = (n: number) => ({
      topic,
      id: `0x${n.toString(16).padStart(64, '0')}` as Hex,
      bytes: Uint8Array.of(n),
      publisher: topic,
    })
    try {
      // Three pipelined batches of 5 from each store, racing: chains get refused part-way and retried.
      const batches = async (store: JetStreamRelayStore, odd: number) => {
        const out = []
        for (let b = 0; b < 3; b++)
          out.push(...(await store.append(Array.from({ length: 5 }, (_, i) => entry(2 * (5 * b + i) + odd)))))
        return out
      }
      const [fromA, fromB] = await Promise.all([batches(a, 1), batches(b, 2)])
      const seqs = [...fromA, ...fromB].map((r) => r.seq).sort((x, y) => (x < y ? -1 : 1))
      expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => BigInt(i + 1)))
      // Each store's own appends keep their batch order.
      for (const results of [fromA, fromB])
        expect(results.map((r) => r.seq)).toEqual(
          [...results.map((r) => r.seq)].sort((x, y) => (x < y ? -1 : 1)),
        )
      // A cursor means the same on both: the envelope at seq n is the same whichever store reads it.
      const readA = await a.readAfter(topic, 10n, 100)
      const readB = await b.readAfter(topic, 10n, 100)
      expect(readA.map((r) => [r.seq, r.bytes[0]])).toEqual(readB.map((r) => [r.seq, r.bytes[0]]))
      expect(readA.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 11)))
      // The same envelope through the other store is a duplicate with its first seq.
      expect(await b.append([entry(1)])).toEqual([{ seq: fromA[0]!.seq, duplicate: true }])
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('JetStreamPipeline', () => {
  test('acks, API errors, missing messages and subjects without a stream, as the client library reports them', {
    timeout: 60_000,
  }, async () => {
    const store = await JetStreamRelayStore.open({ servers: cluster.urls, prefix: 'pipeline' })
    const pipeline = new JetStreamPipeline(store.parts.nc)
    try {
      const subject = store.parts.subject(`0x${'12'.repeat(32)}`)
      const acks = await Promise.all([1, 2, 3].map((n) => pipeline.publish(subject, Uint8Array.of(n))))
      expect(acks.map((a) => a.seq - acks[0]!.seq)).toEqual([0, 1, 2])
      expect(acks.every((a) => a.stream === store.parts.stream && !a.duplicate)).toBe(true)
      const stale = headers()
      stale.set('Nats-Expected-Last-Sequence', String(acks[0]!.seq))
      const refused = await pipeline.publish(subject, Uint8Array.of(4), stale).catch((e: unknown) => e)
      expect(isConflict(refused)).toBe(true)
      // Direct gets (the KV bucket allows them): the last message on a key's subject, or null.
      await pipeline.publish('$KV.pipeline_state.test.a', 'one')
      await pipeline.publish('$KV.pipeline_state.test.a', 'two')
      expect((await pipeline.lastOf('KV_pipeline_state', '$KV.pipeline_state.test.a'))?.string()).toBe('two')
      expect(await pipeline.lastOf('KV_pipeline_state', '$KV.pipeline_state.test.b')).toBeNull()
      const nobody = await pipeline.publish('pipeline.nostream', 'x').catch((e: unknown) => e)
      expect(isUnavailable(nobody)).toBe(true)
    } finally {
      pipeline.close()
      await store.close()
    }
  })
})

describe('JetStreamRelayStore on a cluster that loses a node', () => {
  test('appends and reads go on after one NATS node is killed; nothing is lost or reordered', {
    timeout: 120_000,
  }, async () => {
    const store = await JetStreamRelayStore.open({ servers: cluster.urls, prefix: 'failover' })
    const topic = `0x${'ab'.repeat(32)}` as Hex
    const publisher = `0x${'cd'.repeat(32)}` as Hex
    const entry = (n: number) => ({
      topic,
      id: `0x${n.toString(16).padStart(64, '0')}` as Hex,
      bytes: Uint8Array.of(n & 0xff, n >> 8),
      publisher,
    })
    try {
      const first = await store.append(Array.from({ length: 50 }, (_, i) => entry(i + 1)))
      expect(first.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i + 1)))
      await cluster.kill(0)
      const seqs: bigint[] = []
      for (let i = 51; i <= 100; i++) {
        // The client reconnects to a surviving node; an append that failed mid-way is retried (idempotent by id).
        for (let attempt = 0; ; attempt++) {
          try {
            seqs.push((await store.append([entry(i)]))[0]!.seq)
            break
          } catch (err) {
            if (attempt >= 40) throw err
            await new Promise((r) => setTimeout(r, 250))
          }
        }
      }
      expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i + 51)))
      const read: { seq: bigint; bytes: Uint8Array }[] = []
      for (let after = 0n; ; ) {
        const page = await store.readAfter(topic, after, 30)
        if (page.length === 0) break
        read.push(...page)
        after = page.at(-1)!.seq
      }
      expect(read.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i + 1)))
      expect(read.map((r) => r.bytes[0]! | (r.bytes[1]! << 8))).toEqual(
        Array.from({ length: 100 }, (_, i) => i + 1),
      )
      expect(await store.head(topic)).toBe(100n)
    } finally {
      await store.close()
    }
  })
})
