// Issue 9, item 1 (migration): key packages published before the conversation context existed cannot join a
// Sealpost group. Whoever claims them skips them and takes the next one.
import { defaultCapabilities, defaultLifetime, generateKeyPackageWithKey } from 'ts-mls'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { NoKeyPackageError } from '../../src/client/errors.js'
import { loadDevice } from '../../src/client/identity.js'
import { encodeMls } from '../../src/client/mls.js'
import { getMlsCiphersuite } from '../../src/crypto/mls.js'
import { encodeDeviceIdentity } from '../../src/protocol/credential.js'
import { createEnvelope } from '../../src/protocol/envelope.js'
import { inboxTopic } from '../../src/protocol/topics.js'
import { testPassphrase } from '../utils/clients.js'
import { conversationWorld, syncUntil } from './conversation-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>

beforeAll(async () => {
  world = await conversationWorld()
})

afterAll(async () => {
  await world?.cleanup()
})

describe('key packages without the conversation context capability', () => {
  test('are skipped: with only old ones, NoKeyPackageError; a fresh one behind them opens the conversation', async () => {
    const erin = await world.manual(6)
    const frank = await world.manual(7, { keyPackages: 0 })
    // Frank's older client published key packages with the library's default capabilities only.
    const impl = await getMlsCiphersuite(frank.ciphersuite)
    const keys = await loadDevice({ home: frank.home, passphrase: testPassphrase })
    const old = async () => {
      const { publicPackage } = await generateKeyPackageWithKey(
        { credentialType: 'basic', identity: encodeDeviceIdentity(frank.identity) },
        defaultCapabilities(),
        defaultLifetime,
        [],
        { signKey: keys.mls.signKey, publicKey: keys.mls.publicKey },
        impl,
      )
      return createEnvelope({
        kind: 'key-package',
        topic: inboxTopic(frank.deviceId),
        payload: encodeMls({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage }),
      })
    }
    await frank.transport.putKeyPackages({ deviceId: frank.deviceId, envelopes: [await old(), await old()] })
    expect(await erin.conversations.open(frank.account).catch((e: unknown) => e)).toBeInstanceOf(
      NoKeyPackageError,
    )
    expect(erin.conversations.list()).toEqual([])

    await frank.transport.putKeyPackages({ deviceId: frank.deviceId, envelopes: [await old()] })
    await frank.publishKeyPackages(1)
    const chat = await erin.conversations.open(frank.account)
    expect((await syncUntil(frank, (r) => r.joined.length > 0)).joined).toEqual([chat.id])
    expect(await frank.transport.countKeyPackages({ deviceId: frank.deviceId })).toBe(0)
  })
})
