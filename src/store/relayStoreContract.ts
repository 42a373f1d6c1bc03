/** The behaviour every {@link RelayStore} must have, as vitest tests to register for each implementation. */
import type { Hex } from 'viem'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { type RelayStore, RelayStoreUsageError } from './relayStore.js'

/**
 * How the contract gets stores: `open` a fresh, empty one (its own namespace) whose retention clock is `now`;
 * `reopen` closes `store` and opens the same data again (a restart).
 *
 * @example relayStoreContract('SqliteRelayStore', { open: (now) => SqliteRelayStore.open({ path, now }), reopen })
 */
export type RelayStoreHarness = {
  open(now: () => number): Promise<RelayStore> | RelayStore
  reopen(store: RelayStore, now: () => number): Promise<RelayStore> | RelayStore
  /** Called after each test with the store it used (already closed or not); removes its data. */
  cleanup?(store: RelayStore): Promise<void> | void
}

const h = (byte: number): Hex => `0x${byte.toString(16).padStart(2, '0').repeat(32)}`
const T1 = h(0x11)
const T2 = h(0x22)
const DEV_A = h(0xaa)
const DEV_B = h(0xbb)
const PUB = h(0xcc)
const entry = (topic: Hex, n: number) => ({ topic, id: h(n), bytes: Uint8Array.of(n, n, n), publisher: PUB })

/**
 * Registers the shared RelayStore contract tests (sequence numbers, idempotence, acks, inbox claims, retention
 * and expiry notices, key packages, usage errors) under `describe(name)`.
 *
 * @example relayStoreContract('JetStreamRelayStore', { open: (now) => openJetStream(now), reopen })
 */
export function relayStoreContract(name: string, harness: RelayStoreHarness, timeoutMs = 30_000): void {
  describe(name, { timeout: timeoutMs }, () => {
    let clock: number
    let store: RelayStore

    beforeEach(async () => {
      clock = 1_000_000
      store = await harness.open(() => clock)
    })

    afterEach(async () => {
      await store.close()
      await harness.cleanup?.(store)
    })

    describe('append / readAfter', () => {
      test('per-topic sequence numbers from 1, a batch in one call, bytes round trip', async () => {
        const results = await store.append([entry(T1, 1), entry(T2, 2), entry(T1, 3)])
        expect(results).toEqual([
          { seq: 1n, duplicate: false },
          { seq: 1n, duplicate: false },
          { seq: 2n, duplicate: false },
        ])
        expect(await store.head(T1)).toBe(2n)
        expect(await store.head(T2)).toBe(1n)
        expect(await store.head(h(0x99))).toBe(0n)
        const rows = await store.readAfter(T1, 0n, 10)
        expect(rows.map((r) => [r.seq, [...r.bytes]])).toEqual([
          [1n, [1, 1, 1]],
          [2n, [3, 3, 3]],
        ])
        expect((await store.readAfter(T1, 1n, 10)).map((r) => r.seq)).toEqual([2n])
        expect((await store.readAfter(T1, 0n, 1)).map((r) => r.seq)).toEqual([1n])
        expect(await store.readAfter(T1, 2n ** 64n - 1n, 10)).toEqual([]) // u64 cursors beyond SQLite's i64 are clamped
        expect(await store.depth(T1)).toBe(2)
      })

      test('append is idempotent on (topic, id), also within one batch', async () => {
        await store.append([entry(T1, 1)])
        expect(await store.append([entry(T1, 2), entry(T1, 1), entry(T1, 2)])).toEqual([
          { seq: 2n, duplicate: false },
          { seq: 1n, duplicate: true },
          { seq: 2n, duplicate: true },
        ])
        // The same id on another topic is a different envelope slot.
        expect(await store.append([entry(T2, 1)])).toEqual([{ seq: 1n, duplicate: false }])
        expect(await store.head(T1)).toBe(2n)
      })

      test('a batch with a malformed entry stores nothing', async () => {
        await store.append([entry(T1, 1)])
        await expect(
          store.append([entry(T1, 2), { ...entry(T1, 3), publisher: '0x12' as Hex }]),
        ).rejects.toThrow(RelayStoreUsageError)
        expect(await store.head(T1)).toBe(1n)
        expect(await store.readAfter(T1, 0n, 10)).toHaveLength(1)
      })

      test('a 1000-entry batch', async () => {
        const batch = Array.from({ length: 1000 }, (_, i) => ({
          topic: T1,
          id: `0x${i.toString(16).padStart(64, '0')}` as Hex,
          bytes: new Uint8Array(64),
          publisher: PUB,
        }))
        const results = await store.append(batch)
        expect(results.map((r) => r.seq)).toEqual(batch.map((_, i) => BigInt(i + 1)))
      })

      test('survives close and reopen', async () => {
        await store.append([entry(T1, 1), entry(T1, 2)])
        await store.subscribe(T1, DEV_A)
        await store.ack(T1, DEV_A, 1n)
        await store.putKeyPackages(DEV_A, [Uint8Array.of(7)])
        store = await harness.reopen(store, () => clock)
        expect((await store.readAfter(T1, 0n, 10)).map((r) => r.seq)).toEqual([1n, 2n])
        expect(await store.acks(T1)).toEqual([{ deviceId: DEV_A, seq: 1n }])
        expect(await store.countKeyPackages(DEV_A)).toBe(1)
        expect(await store.append([entry(T1, 3)])).toEqual([{ seq: 3n, duplicate: false }])
      })
    })

    describe('acks and pruning', () => {
      test('ack cursors move forward only and are capped at the head', async () => {
        await store.append([entry(T1, 1), entry(T1, 2)])
        await store.subscribe(T1, DEV_A)
        await store.subscribe(T1, DEV_A) // idempotent
        expect(await store.acks(T1)).toEqual([{ deviceId: DEV_A, seq: 0n }])
        await store.ack(T1, DEV_A, 2n)
        await store.ack(T1, DEV_A, 1n)
        expect(await store.acks(T1)).toEqual([{ deviceId: DEV_A, seq: 2n }])
        await store.ack(T1, DEV_B, 2n ** 64n - 1n)
        expect(await store.acks(T1)).toEqual([
          { deviceId: DEV_A, seq: 2n },
          { deviceId: DEV_B, seq: 2n },
        ])
      })

      test('an inbox is pruned by its owner acks only; a conversation topic is not pruned by acks', async () => {
        await store.append([entry(T1, 1), entry(T1, 2), entry(T1, 3), entry(T2, 4), entry(T2, 5)])
        expect(await store.claimInbox(T1, DEV_A)).toEqual([])
        // Another device's cursor on the inbox decides nothing.
        await store.ack(T1, DEV_B, 3n)
        expect(await store.prune(clock, 60_000)).toEqual({ removed: 0, expired: [] })
        await store.ack(T1, DEV_A, 2n)
        expect(await store.prune(clock, 60_000)).toEqual({ removed: 2, expired: [] })
        expect((await store.readAfter(T1, 0n, 10)).map((r) => r.seq)).toEqual([3n])
        expect(await store.depth(T1)).toBe(1)
        // Every subscriber of conversation topic T2 acked everything: kept for the retention period all the same.
        await store.subscribe(T2, DEV_A)
        await store.ack(T2, DEV_A, 2n)
        await store.ack(T2, DEV_B, 2n)
        expect(await store.prune(clock, 60_000)).toEqual({ removed: 0, expired: [] })
        expect((await store.readAfter(T2, 0n, 10)).map((r) => r.seq)).toEqual([1n, 2n])
        // A replay of a pruned inbox envelope still maps to its old seq (the id is kept until retention).
        expect(await store.append([entry(T1, 2)])).toEqual([{ seq: 2n, duplicate: true }])
        expect(await store.append([entry(T1, 9)])).toEqual([{ seq: 4n, duplicate: false }])
        expect(await store.depth(T1)).toBe(2)
      })

      test('claimInbox keeps the first owner and forgets every other cursor on that topic', async () => {
        await store.append([entry(T1, 1)])
        await store.subscribe(T1, DEV_B)
        await store.subscribe(T1, PUB)
        expect(await store.claimInbox(T1, DEV_A)).toEqual([DEV_B, PUB])
        expect(await store.acks(T1)).toEqual([])
        await store.subscribe(T1, DEV_A)
        expect(await store.claimInbox(T1, DEV_A)).toEqual([]) // idempotent
        await store.subscribe(T1, DEV_B)
        expect(await store.claimInbox(T1, DEV_B)).toEqual([DEV_B]) // the first owner stays
        expect(await store.acks(T1)).toEqual([{ deviceId: DEV_A, seq: 0n }])
      })

      test('prune removes envelopes older than retention, acked or not', async () => {
        await store.append([entry(T1, 1)])
        clock += 10_000
        await store.append([entry(T1, 2), entry(T2, 3)])
        expect((await store.prune(clock, 5_000)).removed).toBe(1)
        expect((await store.readAfter(T1, 0n, 10)).map((r) => r.seq)).toEqual([2n])
        expect(await store.depth(T1)).toBe(1)
        clock += 10_000
        expect((await store.prune(clock, 5_000)).removed).toBe(2)
        expect(await store.depth(T1)).toBe(0)
        expect(await store.depth(T2)).toBe(0)
        expect(await store.append([entry(T1, 5)])).toEqual([{ seq: 3n, duplicate: false }])
      })

      test('retention records an expiry notice for the publisher of each envelope an intended recipient had not acked', async () => {
        const from = (topic: Hex, n: number, publisher: Hex) => ({ ...entry(topic, n), publisher })
        const SYSTEM = `0x${'00'.repeat(32)}` as Hex
        // T1 is DEV_A's inbox; T2 a conversation that DEV_A and DEV_B subscribed to.
        await store.claimInbox(T1, DEV_A)
        await store.subscribe(T2, DEV_A)
        await store.subscribe(T2, DEV_B)
        await store.append([
          from(T1, 1, PUB),
          from(T1, 2, PUB),
          from(T2, 3, DEV_A),
          from(T2, 4, PUB),
          from(T2, 5, SYSTEM),
        ])
        await store.ack(T1, DEV_A, 1n)
        await store.ack(T2, DEV_A, 1n)
        await store.ack(T2, DEV_B, 2n)
        clock += 10_000
        const { removed, expired } = await store.prune(clock, 5_000)
        expect(removed).toBe(5) // T1 seq 1 by its owner's ack, the other four by retention
        expect(expired).toEqual([
          { publisher: PUB, topic: T1, seq: 2n, id: h(2), expiredAt: clock, recipients: [DEV_A] },
          // DEV_A published seq 1 (not its own recipient); DEV_A's cursor is below seq 2; the relay's own: no notice.
          { publisher: PUB, topic: T2, seq: 2n, id: h(4), expiredAt: clock, recipients: [DEV_A] },
        ])
        expect(await store.expiryNotices(PUB)).toEqual(expired)
        expect(await store.expiryNotices(DEV_A)).toEqual([])
        // Notices are kept one retention period.
        clock += 4_000
        expect(await store.prune(clock, 5_000)).toEqual({ removed: 0, expired: [] })
        expect(await store.expiryNotices(PUB)).toHaveLength(2)
        clock += 2_000
        await store.prune(clock, 5_000)
        expect(await store.expiryNotices(PUB)).toEqual([])
      })
    })

    describe('key packages', () => {
      test('put, count, take oldest first', async () => {
        expect(await store.putKeyPackages(DEV_A, [Uint8Array.of(1), Uint8Array.of(2)])).toBe(2)
        expect(await store.putKeyPackages(DEV_A, [Uint8Array.of(3)])).toBe(3)
        expect(await store.countKeyPackages(DEV_B)).toBe(0)
        expect([...((await store.takeKeyPackage(DEV_A)) ?? [])]).toEqual([1])
        expect([...((await store.takeKeyPackage(DEV_A)) ?? [])]).toEqual([2])
        expect(await store.countKeyPackages(DEV_A)).toBe(1)
        expect([...((await store.takeKeyPackage(DEV_A)) ?? [])]).toEqual([3])
        expect(await store.takeKeyPackage(DEV_A)).toBeUndefined()
      })

      test('the last-resort key package is handed out when none is left, kept, replaced, and never counted', async () => {
        expect(await store.putKeyPackages(DEV_A, [Uint8Array.of(1)], Uint8Array.of(9))).toBe(1)
        expect(await store.countKeyPackages(DEV_A)).toBe(1)
        expect([...((await store.takeKeyPackage(DEV_A)) ?? [])]).toEqual([1])
        expect([...((await store.takeKeyPackage(DEV_A)) ?? [])]).toEqual([9])
        expect([...((await store.takeKeyPackage(DEV_A)) ?? [])]).toEqual([9])
        expect(await store.putKeyPackages(DEV_A, [], Uint8Array.of(8))).toBe(0)
        expect([...((await store.takeKeyPackage(DEV_A)) ?? [])]).toEqual([8])
        expect(await store.takeKeyPackage(DEV_B)).toBeUndefined()
      })
    })

    describe('errors', () => {
      test('bad arguments and use after close are usage errors', async () => {
        await expect(store.head('0x12' as Hex)).rejects.toThrow(RelayStoreUsageError)
        await expect(store.ack(T1, DEV_A, -1n)).rejects.toThrow(RelayStoreUsageError)
        await store.close()
        await expect(store.head(T1)).rejects.toThrow(RelayStoreUsageError)
      })
    })
  })
}
