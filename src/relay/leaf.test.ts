import type { Hex } from 'viem'
import { afterEach, describe, expect, test } from 'vitest'
import { createTestRelay, type TestRelay, testDevice } from '../../test/utils/relayContext.js'
import { RelayInternalError } from './errors.js'
import { handleLeaf } from './leaf.js'

let relay: TestRelay | undefined
afterEach(() => relay?.close())

const topic: Hex = `0x${'1e'.repeat(32)}`
const leaf: Hex = `0x${'af'.repeat(32)}`

describe('handleLeaf', () => {
  test('hands the leaf to the sink with the authenticated device as submitter, then OK(0)', async () => {
    const submitted: unknown[] = []
    relay = createTestRelay({ anchorer: { submit: async (p) => void submitted.push(p) } })
    const device = testDevice()
    const { conn, socket } = relay.connect(device)
    await handleLeaf(relay.ctx, conn, { reqId: 3, topic, leaf })
    expect(submitted).toEqual([{ leaf, topic, submitter: device.deviceId }])
    expect(socket.take()).toEqual([{ type: 'ok', reqId: 3, value: 0n }])
  })

  test('without a sink, or when the sink fails, the answer is RELAY_INTERNAL', async () => {
    relay = createTestRelay()
    const none = relay.connect(testDevice())
    await handleLeaf(relay.ctx, none.conn, { reqId: 1, topic, leaf })
    expect(none.socket.take()).toEqual([{ type: 'error', reqId: 1, code: 'RELAY_INTERNAL' }])
    relay.close()

    relay = createTestRelay({
      anchorer: {
        submit: () => {
          throw new Error('anchor store down')
        },
      },
    })
    const errors: RelayInternalError[] = []
    relay.events.on('error', (e) => errors.push(e))
    const failing = relay.connect(testDevice())
    await handleLeaf(relay.ctx, failing.conn, { reqId: 2, topic, leaf })
    expect(failing.socket.take()).toEqual([{ type: 'error', reqId: 2, code: 'RELAY_INTERNAL' }])
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(RelayInternalError)
    expect(errors[0]?.metaMessages).toEqual(['Operation: anchor submit'])
  })
})
