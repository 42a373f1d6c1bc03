import type { Hex } from 'viem'
import { afterEach, describe, expect, test } from 'vitest'
import { createTestRelay, type TestRelay, testDevice, tick } from '../../test/utils/relayContext.js'
import {
  type ClientFrameType,
  encodeClientFrame,
  RETIRED_CLIENT_FRAME_TYPES,
  relayFrameTypes,
} from '../protocol/relayFrames.js'
import { dispatchFrame, type FrameTypeHandler, frameHandlers } from './dispatch.js'

let relay: TestRelay | undefined
afterEach(() => relay?.close())

const deviceId: Hex = `0x${'d1'.repeat(32)}`
const kpCount = (reqId: number) => encodeClientFrame({ type: 'kp-count', reqId, deviceId })

/** A table whose every handler records the frame type it got. */
function recordingHandlers(calls: string[]) {
  const record: FrameTypeHandler<ClientFrameType> = (_ctx, _conn, frame) => void calls.push(frame.type)
  return Object.fromEntries(
    Object.keys(frameHandlers).map((type) => [type, record]),
  ) as unknown as typeof frameHandlers
}

describe('frameHandlers', () => {
  test('has a handler for every client frame type', () => {
    const clientTypes = Object.entries(relayFrameTypes).filter(([, code]) => code < 0x80)
    expect(Object.keys(frameHandlers).sort()).toEqual(
      ['ack', 'auth', 'kp-count', 'kp-put', 'kp-take', 'leaf', 'publish', 'subscribe', 'unsubscribe'].sort(),
    )
    expect(Object.keys(frameHandlers)).toHaveLength(clientTypes.length)
  })
})

describe('dispatchFrame', () => {
  test('an unknown frame type, a relay frame and a text frame get RELAY_FRAME_MALFORMED and reach no handler', () => {
    relay = createTestRelay()
    const errors: unknown[] = []
    relay.events.on('error', (e) => errors.push(e))
    const calls: string[] = []
    const handlers = recordingHandlers(calls)
    const { conn, socket } = relay.connect(testDevice())
    dispatchFrame(relay.ctx, conn, Uint8Array.of(0x42, 0, 0, 0, 9), true, handlers)
    dispatchFrame(relay.ctx, conn, Uint8Array.of(relayFrameTypes.ok, 0, 0, 0, 9), true, handlers)
    dispatchFrame(relay.ctx, conn, kpCount(5), false, handlers)
    // A known type that does not decode is answered with its own reqId.
    dispatchFrame(relay.ctx, conn, kpCount(6).subarray(0, 10), true, handlers)
    expect(socket.take()).toEqual([
      { type: 'error', reqId: 0, code: 'RELAY_FRAME_MALFORMED' },
      { type: 'error', reqId: 0, code: 'RELAY_FRAME_MALFORMED' },
      { type: 'error', reqId: 0, code: 'RELAY_FRAME_MALFORMED' },
      { type: 'error', reqId: 6, code: 'RELAY_FRAME_MALFORMED' },
    ])
    expect(calls).toEqual([])
    expect(errors).toEqual([])
  })

  test('SUBSCRIBE v1 (retired) gets RELAY_FRAME_OUTDATED with its reqId and reaches no handler', () => {
    relay = createTestRelay()
    const calls: string[] = []
    const { conn, socket } = relay.connect(testDevice())
    const v1 = Uint8Array.of(RETIRED_CLIENT_FRAME_TYPES.subscribeV1, 0, 0, 0, 7, ...new Uint8Array(40))
    dispatchFrame(relay.ctx, conn, v1, true, recordingHandlers(calls))
    expect(socket.take()).toEqual([{ type: 'error', reqId: 7, code: 'RELAY_FRAME_OUTDATED' }])
    expect(calls).toEqual([])
  })

  test('routes each frame to the handler of its type; only AUTH passes before authentication', () => {
    relay = createTestRelay()
    const calls: string[] = []
    const handlers = recordingHandlers(calls)
    const anon = relay.connect()
    dispatchFrame(relay.ctx, anon.conn, kpCount(1), true, handlers)
    dispatchFrame(
      relay.ctx,
      anon.conn,
      encodeClientFrame({
        type: 'auth',
        account: `0x${'11'.repeat(20)}`,
        deviceId,
        signature: `0x${'22'.repeat(64)}`,
      }),
      true,
      handlers,
    )
    expect(anon.socket.take()).toEqual([{ type: 'error', reqId: 1, code: 'RELAY_UNAUTHENTICATED' }])
    expect(calls).toEqual(['auth'])
    const authed = relay.connect(testDevice())
    dispatchFrame(relay.ctx, authed.conn, kpCount(2), true, handlers)
    dispatchFrame(
      relay.ctx,
      authed.conn,
      encodeClientFrame({ type: 'ack', topic: deviceId, seq: 1n }),
      true,
      handlers,
    )
    expect(calls).toEqual(['auth', 'kp-count', 'ack'])
  })

  test('an oversized frame gets RELAY_FRAME_TOO_LARGE; a throwing handler RELAY_INTERNAL and an error event', () => {
    relay = createTestRelay({ limits: { maxFrameBytes: 64 } })
    const errors: unknown[] = []
    relay.events.on('error', (e) => errors.push(e))
    const handlers = {
      ...frameHandlers,
      'kp-count': () => {
        throw new Error('boom')
      },
    }
    const { conn, socket } = relay.connect(testDevice())
    const big = new Uint8Array(100)
    big.set(kpCount(8))
    dispatchFrame(relay.ctx, conn, big, true, handlers)
    dispatchFrame(relay.ctx, conn, kpCount(9), true, handlers)
    expect(socket.take()).toEqual([
      { type: 'error', reqId: 8, code: 'RELAY_FRAME_TOO_LARGE' },
      { type: 'error', reqId: 9, code: 'RELAY_INTERNAL' },
    ])
    expect(errors).toHaveLength(1)
  })

  test('a decoded frame costs one token; a failed connection is ignored', async () => {
    relay = createTestRelay({ limits: { burst: 5, ratePerSecond: 0.001 }, now: () => 0 })
    const { conn, socket } = relay.connect(testDevice())
    const bucket = relay.ctx.devices.get(conn.deviceId!)!.bucket
    dispatchFrame(relay.ctx, conn, kpCount(1), true)
    expect(bucket.tokens).toBe(4)
    await tick()
    expect(socket.take()).toEqual([{ type: 'ok', reqId: 1, value: 0n }])
    conn.closing = true
    dispatchFrame(relay.ctx, conn, kpCount(2), true)
    expect(socket.frames).toEqual([])
  })
})
