/** Test helper: a relay context over a real SQLite store, with recording stand-in sockets and a stub registry. */

import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getAddress, type Hex } from 'viem'
import type { DeviceRecord, RegistryWatcherEvents } from '../../src/chain/registryWatcher.js'
import { DeviceSigningKey } from '../../src/crypto/p256.js'
import type { IdsEventSink } from '../../src/ids/events.js'
import { decodeRelayFrame, type RelayFrame } from '../../src/protocol/relayFrames.js'
import { createConnection } from '../../src/relay/connection.js'
import type {
  AnchorSink,
  RelayConnection,
  RelayContext,
  RelayServerEvents,
  RelaySocket,
} from '../../src/relay/context.js'
import { type RelayLimits, resolveLimits } from '../../src/relay/limits.js'
import { SqliteRelayStore } from '../../src/store/relayStore.js'

/** A socket that records what the relay sends (decoded), how it closed it, and pause/resume of its TCP side. */
export class RecordingSocket {
  readonly OPEN = 1 as const
  readyState = 1
  bufferedAmount = 0
  readonly frames: RelayFrame[] = []
  closed: { code: number | undefined; reason: string | undefined } | undefined
  terminated = false
  pings = 0
  readonly _socket = {
    paused: false,
    pauses: 0,
    pause() {
      this.paused = true
      this.pauses++
    },
    resume() {
      this.paused = false
    },
  }

  send(data: Uint8Array): void {
    this.frames.push(decodeRelayFrame(new Uint8Array(data)))
  }

  close(code?: number, reason?: string): void {
    this.closed = { code, reason }
    this.readyState = 3
  }

  terminate(): void {
    this.terminated = true
    this.readyState = 3
  }

  ping(): void {
    this.pings++
  }

  /** Removes and returns every frame received so far. */
  take(): RelayFrame[] {
    return this.frames.splice(0)
  }
}

/** A registry stand-in: devices set by the test, a `sync()` that counts calls and can be made to fail. */
export class StubRegistry extends EventEmitter<RegistryWatcherEvents> {
  readonly records = new Map<Hex, DeviceRecord>()
  /** Devices that appear only after the next sync. */
  readonly pending = new Map<Hex, DeviceRecord>()
  syncs = 0
  failSync: Error | undefined

  device(deviceId: Hex): DeviceRecord | undefined {
    return this.records.get(deviceId.toLowerCase() as Hex)
  }

  async sync(): Promise<bigint> {
    this.syncs++
    await new Promise((resolve) => setImmediate(resolve))
    if (this.failSync) throw this.failSync
    for (const [id, record] of this.pending) this.add(record, id)
    this.pending.clear()
    return BigInt(this.syncs)
  }

  add(record: DeviceRecord, id = record.deviceId.toLowerCase() as Hex): void {
    this.records.set(id, record)
    this.emit('device-added', record)
  }

  revoke(deviceId: Hex): void {
    const record = this.records.get(deviceId)
    if (!record) return
    record.revokedAt = 1n
    this.emit('device-revoked', record)
  }
}

/** A device with a real P-256 key and its registry record. */
export type TestDevice = { key: DeviceSigningKey; record: DeviceRecord; deviceId: Hex }

let counter = 0
/** A fresh device (not yet known to any registry). */
export function testDevice(): TestDevice {
  counter++
  const key = DeviceSigningKey.generate()
  const deviceId = `0x${counter.toString(16).padStart(64, 'd')}` as Hex
  const record: DeviceRecord = {
    deviceId,
    account: getAddress(`0x${counter.toString(16).padStart(40, 'a')}`),
    p256X: key.p256X,
    p256Y: key.p256Y,
    mlsKey: `0x${'00'.repeat(32)}`,
    addedAt: 1n,
    addedTx: `0x${'00'.repeat(32)}`,
  }
  return { key, record, deviceId }
}

export type TestRelay = {
  ctx: RelayContext
  store: SqliteRelayStore
  registry: StubRegistry
  events: EventEmitter<RelayServerEvents>
  /** Opens a connection on a recording socket; authenticated as `device` when given. */
  connect(device?: TestDevice): { conn: RelayConnection; socket: RecordingSocket }
  close(): void
}

/** A relay context over a SQLite file in a temp dir; `close()` removes it. */
export function createTestRelay(
  options: {
    limits?: Partial<RelayLimits>
    now?: () => number
    anchorer?: AnchorSink
    ids?: IdsEventSink
  } = {},
): TestRelay {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-relay-part-'))
  const store = SqliteRelayStore.open({ path: join(dir, 'relay.db') })
  const registry = new StubRegistry()
  const events = new EventEmitter<RelayServerEvents>()
  let stopped = false
  const ctx: RelayContext = {
    limits: resolveLimits(options.limits),
    store,
    watcher: registry,
    anchorer: options.anchorer,
    ids: options.ids,
    chainId: 31337,
    registry: getAddress(`0x${'42'.repeat(20)}`),
    now: options.now ?? Date.now,
    events,
    devices: new Map(),
    topics: new Map(),
    inboxes: new Map(),
    lookups: new Map(),
    publishes: { pending: [], scheduled: false, committing: undefined },
    acks: { dirty: new Set(), timer: undefined },
    syncRegistry: () => registry.sync().then(() => {}),
    isStopped: () => stopped,
  }
  return {
    ctx,
    store,
    registry,
    events,
    connect(device) {
      const socket = new RecordingSocket()
      const conn = createConnection(ctx, { ws: socket as unknown as RelaySocket, ip: '127.0.0.1' })
      if (device) {
        conn.challenge = undefined
        conn.account = device.record.account
        conn.deviceId = device.deviceId
        conn.bucket = undefined
        let entry = ctx.devices.get(device.deviceId)
        if (!entry) {
          entry = { conns: new Set(), bucket: { tokens: ctx.limits.burst, at: ctx.now() } }
          ctx.devices.set(device.deviceId, entry)
        }
        entry.conns.add(conn)
      }
      return { conn, socket }
    },
    close() {
      stopped = true
      if (ctx.acks.timer) clearTimeout(ctx.acks.timer)
      void store.close() // SQLite closes synchronously inside
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Lets setImmediate and short timers run. */
export const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms))
