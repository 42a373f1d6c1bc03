import { afterEach, describe, expect, test } from 'vitest'
import { createTestRelay, type TestRelay, testDevice, tick } from '../../test/utils/relayContext.js'
import { encodeClientFrame } from '../protocol/relayFrames.js'
import type { TokenBucket } from './context.js'
import { bucketOf, clearThrottled, refillBucket, shapeFrame, takeToken } from './rateShaping.js'

let relay: TestRelay | undefined
afterEach(() => relay?.close())

const kpCount = (reqId: number) =>
  Buffer.from(encodeClientFrame({ type: 'kp-count', reqId, deviceId: `0x${'01'.repeat(32)}` }))

describe('refillBucket', () => {
  test('adds ratePerSecond tokens per second, capped at burst', () => {
    const bucket: TokenBucket = { tokens: 0, at: 1000 }
    expect(refillBucket(bucket, { ratePerSecond: 10, burst: 5 }, 1050)).toBe(false)
    expect(bucket).toEqual({ tokens: 0.5, at: 1050 })
    expect(refillBucket(bucket, { ratePerSecond: 10, burst: 5 }, 1100)).toBe(true)
    expect(bucket.tokens).toBe(1)
    refillBucket(bucket, { ratePerSecond: 10, burst: 5 }, 60_000)
    expect(bucket.tokens).toBe(5)
  })
})

describe('takeToken', () => {
  test('draws from the connection before AUTH and from the shared device bucket after', () => {
    relay = createTestRelay({ limits: { burst: 3, ratePerSecond: 0.001 }, now: () => 0 })
    const anon = relay.connect()
    takeToken(relay.ctx, anon.conn)
    expect(anon.conn.bucket?.tokens).toBe(2)
    const device = testDevice()
    const a = relay.connect(device)
    const b = relay.connect(device)
    takeToken(relay.ctx, a.conn)
    takeToken(relay.ctx, b.conn)
    expect(bucketOf(relay.ctx, a.conn)).toBe(bucketOf(relay.ctx, b.conn))
    expect(bucketOf(relay.ctx, a.conn)?.tokens).toBe(1)
  })
})

describe('shapeFrame', () => {
  test('frames over the rate wait in order with the socket paused, then resume', async () => {
    let clock = 0
    relay = createTestRelay({ limits: { burst: 2, ratePerSecond: 1000 }, now: () => clock })
    const { conn, socket } = relay.connect()
    const handled: number[] = []
    const handle = (_: unknown, data: Buffer) => {
      handled.push(data.readUInt32BE(1))
      takeToken(relay!.ctx, conn)
    }
    for (let i = 1; i <= 6; i++) shapeFrame(relay.ctx, conn, kpCount(i), true, handle)
    expect(handled).toEqual([1, 2])
    expect(conn.throttled).toHaveLength(4)
    expect(socket._socket.paused).toBe(true)
    while (handled.length < 6) {
      clock += 1
      await tick(2)
    }
    expect(handled).toEqual([1, 2, 3, 4, 5, 6])
    expect(socket._socket.paused).toBe(false)
    expect(socket.frames).toEqual([])
  })

  test('beyond maxThrottledFrames a frame gets RELAY_RATE_LIMITED with its own reqId', () => {
    relay = createTestRelay({
      limits: { burst: 1, ratePerSecond: 0.001, maxThrottledFrames: 1 },
      now: () => 0,
    })
    const { conn, socket } = relay.connect()
    const handled: number[] = []
    const handle = (_: unknown, data: Buffer) => {
      handled.push(data.readUInt32BE(1))
      takeToken(relay!.ctx, conn)
    }
    for (let i = 1; i <= 3; i++) shapeFrame(relay.ctx, conn, kpCount(i), true, handle)
    expect(handled).toEqual([1])
    expect(socket.take()).toEqual([{ type: 'error', reqId: 3, code: 'RELAY_RATE_LIMITED' }])
    clearThrottled(conn)
    expect(conn.throttled).toEqual([])
    expect(conn.throttleTimer).toBeUndefined()
  })

  test('a failed connection handles nothing', () => {
    relay = createTestRelay()
    const { conn } = relay.connect()
    conn.closing = true
    let calls = 0
    shapeFrame(relay.ctx, conn, kpCount(1), true, () => calls++)
    expect(calls).toBe(0)
  })
})
