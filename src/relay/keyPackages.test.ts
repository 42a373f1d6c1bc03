import { defaultCapabilities, defaultLifetime, encodeMlsMessage, generateKeyPackage } from 'ts-mls'
import type { Hex } from 'viem'
import { afterEach, describe, expect, test } from 'vitest'
import { createTestRelay, type TestRelay, testDevice } from '../../test/utils/relayContext.js'
import { getMlsCiphersuite } from '../crypto/mls.js'
import { CONVERSATION_CONTEXT_EXTENSION } from '../protocol/conversationContext.js'
import { createEnvelope, type EnvelopeKind, encodeEnvelope } from '../protocol/envelope.js'
import { LAST_RESORT_EXTENSION } from '../protocol/lastResortKeyPackage.js'
import { inboxTopic } from '../protocol/topics.js'
import { handleKeyPackageCount, handleKeyPackagePut, handleKeyPackageTake } from './keyPackages.js'

let relay: TestRelay | undefined
afterEach(() => relay?.close())

const kp = (topic: Hex, n: number, kind: EnvelopeKind = 'key-package') =>
  encodeEnvelope(createEnvelope({ kind, topic, payload: Uint8Array.of(n) }))

/** An encoded key-package envelope holding a real MLS KeyPackage, marked `last_resort` or not, whose leaf
 * advertises the conversation context extension unless `context` is false. */
async function mlsKp(
  topic: Hex,
  { lastResort, context = true }: { lastResort: boolean; context?: boolean },
): Promise<Uint8Array> {
  const impl = await getMlsCiphersuite()
  const extensions = lastResort
    ? [{ extensionType: LAST_RESORT_EXTENSION, extensionData: new Uint8Array(0) }]
    : []
  const { publicPackage } = await generateKeyPackage(
    { credentialType: 'basic', identity: new TextEncoder().encode('device') },
    context
      ? {
          ...defaultCapabilities(),
          extensions: [...defaultCapabilities().extensions, CONVERSATION_CONTEXT_EXTENSION],
        }
      : defaultCapabilities(),
    defaultLifetime,
    extensions,
    impl,
  )
  const payload = encodeMlsMessage({
    version: 'mls10',
    wireformat: 'mls_key_package',
    keyPackage: publicPackage,
  })
  return encodeEnvelope(createEnvelope({ kind: 'key-package', topic, payload }))
}

describe('key packages', () => {
  test('put on the own inbox, count, take oldest first, then none', async () => {
    relay = createTestRelay()
    const device = testDevice()
    const owner = relay.connect(device)
    const peer = relay.connect(testDevice())
    const own = inboxTopic(device.deviceId)
    const kps = [kp(own, 1), kp(own, 2)]
    await handleKeyPackagePut(relay.ctx, owner.conn, { reqId: 1, envelopes: kps })
    expect(owner.socket.take()).toEqual([{ type: 'ok', reqId: 1, value: 2n }])
    await handleKeyPackageCount(relay.ctx, peer.conn, { reqId: 2, deviceId: device.deviceId })
    await handleKeyPackageTake(relay.ctx, peer.conn, { reqId: 3, deviceId: device.deviceId })
    await handleKeyPackageTake(relay.ctx, peer.conn, { reqId: 4, deviceId: device.deviceId })
    await handleKeyPackageTake(relay.ctx, peer.conn, { reqId: 5, deviceId: device.deviceId })
    await handleKeyPackageCount(relay.ctx, peer.conn, { reqId: 6, deviceId: device.deviceId })
    expect(peer.socket.take()).toEqual([
      { type: 'ok', reqId: 2, value: 2n },
      { type: 'kp', reqId: 3, envelope: kps[0] },
      { type: 'kp', reqId: 4, envelope: kps[1] },
      { type: 'kp', reqId: 5, envelope: undefined },
      { type: 'ok', reqId: 6, value: 0n },
    ])
  })

  test("another device's inbox, another kind, a broken envelope and a full store are refused, storing none", async () => {
    relay = createTestRelay({ limits: { maxKeyPackagesPerDevice: 2 } })
    const device = testDevice()
    const { conn, socket } = relay.connect(device)
    const own = inboxTopic(device.deviceId)
    const theirs = inboxTopic(testDevice().deviceId)
    await handleKeyPackagePut(relay.ctx, conn, { reqId: 1, envelopes: [kp(own, 1), kp(theirs, 2)] })
    await handleKeyPackagePut(relay.ctx, conn, { reqId: 2, envelopes: [kp(own, 3, 'application')] })
    await handleKeyPackagePut(relay.ctx, conn, { reqId: 3, envelopes: [Uint8Array.of(0x53, 0x50)] })
    await handleKeyPackagePut(relay.ctx, conn, { reqId: 4, envelopes: [kp(own, 4), kp(own, 5), kp(own, 6)] })
    expect(socket.take()).toEqual([
      { type: 'error', reqId: 1, code: 'RELAY_FORBIDDEN' },
      { type: 'error', reqId: 2, code: 'RELAY_ENVELOPE_INVALID' },
      { type: 'error', reqId: 3, code: 'RELAY_ENVELOPE_INVALID' },
      { type: 'error', reqId: 4, code: 'RELAY_QUEUE_FULL' },
    ])
    expect(await relay.store.countKeyPackages(device.deviceId)).toBe(0)
  })

  test('the last-resort key package is handed out once the one-time ones are gone, again and again, and never counted', async () => {
    relay = createTestRelay()
    const device = testDevice()
    const owner = relay.connect(device)
    const peer = relay.connect(testDevice())
    const own = inboxTopic(device.deviceId)
    const oneTime = await mlsKp(own, { lastResort: false })
    const lastResort = await mlsKp(own, { lastResort: true })
    await handleKeyPackagePut(relay.ctx, owner.conn, { reqId: 1, envelopes: [lastResort, oneTime] })
    expect(owner.socket.take()).toEqual([{ type: 'ok', reqId: 1, value: 1n }])
    for (const reqId of [2, 3, 4])
      await handleKeyPackageTake(relay.ctx, peer.conn, { reqId, deviceId: device.deviceId })
    await handleKeyPackageCount(relay.ctx, peer.conn, { reqId: 5, deviceId: device.deviceId })
    expect(peer.socket.take()).toEqual([
      { type: 'kp', reqId: 2, envelope: oneTime },
      { type: 'kp', reqId: 3, envelope: lastResort },
      { type: 'kp', reqId: 4, envelope: lastResort },
      { type: 'ok', reqId: 5, value: 0n },
    ])
    expect(await relay.store.takeKeyPackage(device.deviceId)).toEqual(lastResort)
  })

  test('a new last-resort key package replaces the previous one; two in one KP_PUT, or one that no conversation could use, are refused, storing none', async () => {
    relay = createTestRelay()
    const device = testDevice()
    const { conn, socket } = relay.connect(device)
    const own = inboxTopic(device.deviceId)
    const [first, second, third] = [
      await mlsKp(own, { lastResort: true }),
      await mlsKp(own, { lastResort: true }),
      await mlsKp(own, { lastResort: true }),
    ]
    const oneTime = await mlsKp(own, { lastResort: false })
    const unusable = await mlsKp(own, { lastResort: true, context: false })
    await handleKeyPackagePut(relay.ctx, conn, { reqId: 1, envelopes: [first] })
    await handleKeyPackagePut(relay.ctx, conn, { reqId: 2, envelopes: [second] })
    await handleKeyPackagePut(relay.ctx, conn, { reqId: 3, envelopes: [oneTime, third, first] })
    await handleKeyPackagePut(relay.ctx, conn, { reqId: 4, envelopes: [oneTime, unusable] })
    expect(socket.take()).toEqual([
      { type: 'ok', reqId: 1, value: 0n },
      { type: 'ok', reqId: 2, value: 0n },
      { type: 'error', reqId: 3, code: 'RELAY_ENVELOPE_INVALID' },
      { type: 'error', reqId: 4, code: 'RELAY_ENVELOPE_INVALID' },
    ])
    expect(await relay.store.countKeyPackages(device.deviceId)).toBe(0)
    expect(await relay.store.takeKeyPackage(device.deviceId)).toEqual(second)
  })
})
