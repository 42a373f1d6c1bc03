import { EventEmitter } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterEach, describe, expect, test } from 'vitest'
import type { DeviceRecord, RegistryChange } from '../chain/registryWatcher.js'
import type { ClientEvents } from '../client/types.js'
import {
  ConversationPolicyError,
  DeliveryReceiptUnknownError,
  MlsRejectedError,
  ReplayError,
  SenderRemovedError,
} from '../client/verificationErrors.js'
import { tapRegistryWatcher } from './chainTap.js'
import { tapClient } from './clientTap.js'
import { decodeIdsEvent, type IdsEvent } from './events.js'
import { IDS_FILES, startLiveIds } from './liveIds.js'

const D = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
const A = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as Hex
const record = (n: number, account: number, tx: number, extra: Partial<DeviceRecord> = {}): DeviceRecord => ({
  deviceId: D(n),
  account: A(account),
  p256X: D(0),
  p256Y: D(0),
  mlsKey: D(0),
  addedAt: 10n,
  addedTx: D(tx),
  ...extra,
})
const collect = () => {
  const events: IdsEvent[] = []
  return { events, sink: { emit: (e: IdsEvent) => events.push(decodeIdsEvent(e)) } }
}
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('client tap', () => {
  test('a replayed message is verify-fail with its sender and envelope; a code that is no attack emits nothing', () => {
    const events = new EventEmitter<ClientEvents>()
    const { events: out, sink } = collect()
    const untap = tapClient({ deviceId: D(1), events }, sink, { now: () => 5 })
    const report = { ok: false, steps: [], key: { deviceId: D(2), p256X: D(0), p256Y: D(0), addedAt: 1n } }
    events.emit('rejected', {
      envelopeId: D(9),
      topic: D(8),
      error: new ReplayError({ verdict: 'x' }),
      report,
    })
    events.emit('rejected', {
      envelopeId: D(7),
      topic: D(8),
      error: new DeliveryReceiptUnknownError({ conversation: 'c', leaves: 1 }),
    })
    events.emit('joined', { conversation: D(6), peer: undefined })
    untap()
    events.emit('joined', { conversation: D(5), peer: undefined })
    expect(out).toEqual([
      {
        v: 1,
        t: 5,
        src: 'client',
        kind: 'verify-fail',
        device: D(1),
        sender: D(2),
        reason: 'replayed',
        envelope: D(9),
      },
      { v: 1, t: 5, src: 'client', kind: 'welcome', device: D(1), group: D(6), expected: true },
    ])
  })

  test('a refusal names its sender: the removed device, the policy offender, a direct peer; not-a-member MLS refusals emit nothing', () => {
    const events = new EventEmitter<ClientEvents>()
    const { events: out, sink } = collect()
    const direct = D(8)
    const conversations = { get: (id: Hex) => (id === direct ? { peer: A(0xabc) } : undefined) }
    const untap = tapClient({ deviceId: D(1), events, conversations }, sink, { now: () => 5 })
    const reject = (envelope: number, topic: Hex, error: Error) =>
      events.emit('rejected', { envelopeId: D(envelope), topic, error: error as never })
    const epochs = { messageEpoch: 1n, currentEpoch: 2n }
    reject(11, D(6), new SenderRemovedError({ deviceId: D(0xdd).toUpperCase(), ...epochs }))
    const policy = (detail: string) =>
      new ConversationPolicyError({ rule: 'foreign-member', groupId: D(6), epoch: 1n, detail })
    reject(12, D(6), policy(`leaf 0 is device ${D(0xee)} of ${A(0xe)}`))
    reject(13, D(6), policy(`${A(0xc)} is not an admin of the group`))
    reject(14, direct, new MlsRejectedError({ reason: 'decryption failed' })) // a tampered ciphertext, 1:1
    reject(15, D(6), new MlsRejectedError({ reason: 'decryption failed' })) // in a group: nobody to name
    // Honest: a removed member reading the group's later traffic, a new device reading what came before it joined.
    reject(16, D(6), new MlsRejectedError({ reason: 'this device was removed from the conversation' }))
    reject(17, direct, new MlsRejectedError({ reason: 'Cannot process message, epoch too old' }))
    reject(18, D(3), new MlsRejectedError({ reason: 'Welcome is for none of our key packages' }))
    untap()
    expect(out.map((e) => e.kind === 'verify-fail' && [e.envelope, e.reason, e.sender])).toEqual([
      [D(11), 'policy', D(0xdd)],
      [D(12), 'policy', D(0xee)],
      [D(13), 'policy', A(0xc)],
      [D(14), 'forged', A(0xabc)],
      [D(15), 'forged', 'unknown'],
    ])
  })

  test('a held invitation is welcome expected:false; a sequence gap is seq-gap, its count capped, its relay named', () => {
    const events = new EventEmitter<ClientEvents>()
    const { events: out, sink } = collect()
    const untap = tapClient({ deviceId: D(1), events }, sink, { now: () => 5 })
    const invitation = {
      id: D(4),
      conversation: D(6),
      inviter: A(3),
      name: 'x',
      members: [],
      admins: [],
      receivedAt: 1,
    }
    events.emit('invitation', invitation)
    const gap = {
      conversation: D(6),
      from: A(2),
      device: D(2),
      after: 1n,
      seq: 2n ** 70n,
      missing: 2n ** 70n - 2n,
    }
    events.emit('seqGap', gap)
    untap()
    const tapped = tapClient({ deviceId: D(1), events, transport: { url: 'ws://relay-a' } }, sink, {
      now: () => 6,
    })
    events.emit('seqGap', { ...gap, seq: 5n, missing: 3n })
    tapped()
    expect(out).toEqual([
      { v: 1, t: 5, src: 'client', kind: 'welcome', device: D(1), group: D(6), expected: false },
      {
        v: 1,
        t: 5,
        src: 'client',
        kind: 'seq-gap',
        device: D(1),
        topic: D(6),
        relay: 'unknown',
        missing: 1_000_000,
      },
      {
        v: 1,
        t: 6,
        src: 'client',
        kind: 'seq-gap',
        device: D(1),
        topic: D(6),
        relay: 'ws://relay-a',
        missing: 3,
      },
    ])
  })
})

describe('chain tap', () => {
  test('adds, a rotation (revoke and add in one transaction), and a reorg with its depth', async () => {
    const watcher = Object.assign(new EventEmitter<{ [k: string]: unknown[] }>(), {
      devicesOf: (a: Hex) => (a === A(1) ? [record(1, 1, 100)] : [record(2, 2, 101), record(3, 2, 102)]),
    })
    const { events: out, sink } = collect()
    tapRegistryWatcher(watcher as never, sink, { submitterOf: async () => A(99), now: () => 7 })
    watcher.emit('device-added', record(1, 1, 100))
    watcher.emit('device-revoked', record(2, 2, 101, { revokedAt: 12n, revokedTx: D(102) }))
    watcher.emit('device-added', record(3, 2, 102, { addedAt: 12n }))
    watcher.emit('change', { type: 'reorg', rewoundTo: 9n } satisfies RegistryChange)
    await new Promise((r) => setImmediate(r))
    const sub = A(99).toLowerCase()
    expect(out).toEqual(
      expect.arrayContaining([
        {
          v: 1,
          t: 7,
          src: 'chain',
          kind: 'device-added',
          account: A(1),
          device: D(1),
          submitter: sub,
          block: 10,
          newAccount: true,
        },
        {
          v: 1,
          t: 7,
          src: 'chain',
          kind: 'device-revoked',
          account: A(2),
          device: D(2),
          submitter: sub,
          block: 12,
        },
        {
          v: 1,
          t: 7,
          src: 'chain',
          kind: 'device-added',
          account: A(2),
          device: D(3),
          submitter: sub,
          block: 12,
          newAccount: false,
        },
        {
          v: 1,
          t: 7,
          src: 'chain',
          kind: 'device-rotated',
          account: A(2),
          device: D(3),
          submitter: sub,
          block: 12,
        },
        { v: 1, t: 7, src: 'chain', kind: 'reorg', depth: 3, block: 9 },
      ]),
    )
    expect(out).toHaveLength(5)
  })
})

describe('live IDS', () => {
  test('emits are buffered and drained in a batch; the stream is on disk; a restart restores the models', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-live-ids-'))
    dirs.push(dir)
    const ev = (t: number): IdsEvent => ({
      v: 1,
      t,
      src: 'relay',
      kind: 'auth',
      device: 'd1',
      ip: '10.0.0.9',
      ok: false,
      reason: 'revoked',
    })
    const first = startLiveIds({ dir, config: { warmupMs: 0 } })
    first.sink.emit(ev(1000))
    expect(first.engine.stats.ingested).toBe(0) // nothing ran on the caller's turn
    await new Promise((r) => setImmediate(r))
    expect(first.engine.stats.ingested).toBe(1)
    expect(first.log.size).toBe(1) // the revoked-key rule
    await first.stop()
    expect(readFileSync(join(dir, IDS_FILES.events), 'utf8').trim().split('\n')).toHaveLength(1)
    const second = startLiveIds({ dir, config: { warmupMs: 0 } })
    expect(second.engine.stats.ingested).toBe(1)
    expect(second.log.size).toBe(1)
    second.sink.emit(ev(2000))
    second.drain()
    expect(second.log.size).toBe(1) // the same window: the rule fired once (state restored, dedupe kept)
    await second.stop()
  })
})
