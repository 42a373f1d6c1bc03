/** End to end on a real anvil: register, converse, rotate a device, and remove a revoked device from the group. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createKeyPackage, encodeMls } from '../src/client/mls.js'
import {
  KeyPackageRejectedError,
  KeyRevokedError,
  MlsRejectedError,
  ReplayError,
} from '../src/client/verificationErrors.js'
import { DEFAULT_CIPHERSUITE, getMlsCiphersuite, supportedCiphersuites } from '../src/crypto/mls.js'
import { createEnvelope } from '../src/protocol/envelope.js'
import { inboxTopic } from '../src/protocol/topics.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type TestNetwork, testNetwork } from './utils/clients.js'

let ctx: ChainContext
let net: TestNetwork

// The supported suites whose HPKE primitives are installed here (ML-KEM and ChaCha20-Poly1305 come from optional
// packages); the default suite and the classical X25519 one must always be among them.
const installedSuites = (
  await Promise.all(
    supportedCiphersuites.map((suite) =>
      getMlsCiphersuite(suite).then(
        () => suite,
        () => undefined,
      ),
    ),
  )
).filter((suite) => suite !== undefined)

beforeAll(async () => {
  ctx = await setupChain()
  net = testNetwork(ctx)
})

afterAll(async () => {
  await net?.cleanup()
  await ctx?.stop()
})

describe('two accounts on a real chain', () => {
  test('register, open a conversation, exchange verified messages both ways', async () => {
    const alice = await net.client({ account: net.account(1) })
    const bob = await net.client({ account: net.account(2) })
    const reg = await alice.register()
    expect(reg.txHash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(reg.gasUsed).toBeGreaterThan(21_000n)
    await bob.register()

    const chat = await alice.conversations.open(bob.account)
    const joined = await bob.sync()
    expect(joined.joined).toEqual([chat.id])

    const sent = await chat.send('hello bob')
    const { received, rejected } = await bob.sync()
    expect(rejected).toEqual([])
    expect(received).toHaveLength(1)
    const [msg] = received
    expect(msg?.text).toBe('hello bob')
    expect(msg?.from).toBe(alice.account)
    expect(msg?.device).toBe(alice.deviceId)
    expect(msg?.leaf).toBe(sent.leaf)
    expect(msg?.report.ok).toBe(true)
    expect(msg?.report.steps.map((s) => [s.name, s.ok])).toEqual([
      ['mls', true],
      ['chain', true],
      ['sender-binding', true],
      ['epoch', true],
      ['recipients', true],
      ['device-registered', true],
      ['block-reference', true],
      ['signature', true],
      ['key-valid-at-block', true],
      ['body-hash', true],
      ['body-text', true],
      ['clock', true],
      // no 'freshness': `sync()` is catch-up, bounded by the anchor window rather than the live window (§11.1)
      ['sequence', true],
    ])
    expect(msg?.report.mls).toMatchObject({ ciphersuite: 'MLS_256_XWING_AES256GCM_SHA512_Ed25519' })

    const bobChat = bob.conversations.get(chat.id)
    await bobChat?.send('hi alice')
    const back = await alice.sync()
    expect(back.received.map((m) => m.text)).toEqual(['hi alice'])

    // Re-opening returns the same conversation, and a replayed envelope is refused.
    expect((await alice.conversations.open(bob.account)).id).toBe(chat.id)
    await expect(bob.receive(sent.envelope)).rejects.toBeInstanceOf(ReplayError)
  })

  test('rotation: the new device reads and sends; the old device is rejected after its revocation block', async () => {
    const account = net.account(3)
    const carol = await net.client({ account, device: 'phone' })
    const dave = await net.client({ account: net.account(4) })
    await carol.register()
    await dave.register()
    const chat = await dave.conversations.open(carol.account)
    await carol.sync()

    // Carol gets a new laptop: register it, then revoke the phone.
    const laptop = await net.client({ account, device: 'laptop', home: carol.home })
    await laptop.register()
    const revoked = await laptop.revokeDevice(carol.deviceId)
    expect(revoked.blockNumber).toBeGreaterThan(0n)

    // Before anyone removes it from the group, the old phone signs a message after its revocation block.
    const carolChat = carol.conversations.get(chat.id)
    await carolChat?.send('sent from a revoked phone', { unsafeSkipRegistrationCheck: true })
    const first = await dave.sync()
    expect(first.received).toEqual([])
    expect(first.rejected).toHaveLength(1)
    expect(first.rejected[0]?.error).toBeInstanceOf(KeyRevokedError)
    expect(first.rejected[0]?.report?.failedStep).toBe('key-valid-at-block')

    // Dave's client reconciles the group with the registry: phone out, laptop in.
    const change = await chat.syncMembers()
    expect(change.removed).toEqual([carol.deviceId])
    expect(change.added).toEqual([laptop.deviceId])
    const joined = await laptop.sync()
    expect(joined.joined).toEqual([chat.id])

    await chat.send('welcome, laptop')
    const got = await laptop.sync()
    expect(got.received.map((m) => m.text)).toEqual(['welcome, laptop'])
    await laptop.conversations.get(chat.id)?.send('laptop here')
    const reply = await dave.sync()
    expect(reply.received.map((m) => [m.text, m.device])).toEqual([['laptop here', laptop.deviceId]])

    // The revoked phone processes its removal and can no longer read anything new.
    const removal = await carol.sync()
    expect(removal.commits).toBe(1) // its own removal; the later add commit is no longer readable
    expect(removal.rejected.every((r) => r.error instanceof MlsRejectedError)).toBe(true)
    expect(carol.conversations.get(chat.id)?.info().active).toBe(false)
    await chat.send('the phone must not read this')
    const after = await carol.sync()
    expect(after.received).toEqual([])
    expect(after.rejected[0]?.error).toBeInstanceOf(MlsRejectedError)
  })
})

describe('configuration, persistence and forged key packages', () => {
  // The core exchange over every supported suite; the chain is reverted after each, so the accounts start clean.
  test('the default and the classical suites are installed', () => {
    expect(installedSuites).toEqual(
      expect.arrayContaining([DEFAULT_CIPHERSUITE, 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519']),
    )
  })

  test.each(installedSuites)('%s: a conversation works end to end in both directions', async (suite) => {
    const snapshot = await ctx.snapshot()
    const erin = await net.client({ account: net.account(5), ciphersuite: suite })
    const frank = await net.client({ account: net.account(6), ciphersuite: suite })
    try {
      await erin.register()
      await frank.register()
      const chat = await erin.conversations.open(frank.account)
      expect((await frank.sync()).joined).toEqual([chat.id])
      await chat.send(`hello over ${suite}`)
      const [msg] = (await frank.sync()).received
      expect(msg?.text).toBe(`hello over ${suite}`)
      expect(msg?.report.ok).toBe(true)
      expect(msg?.report.mls?.ciphersuite).toBe(suite)
      await frank.conversations.get(chat.id)?.send('and back')
      const back = await erin.sync()
      expect(back.received.map((m) => [m.text, m.report.mls?.ciphersuite])).toEqual([['and back', suite]])
    } finally {
      await erin.close()
      await frank.close()
      await ctx.revert(snapshot)
    }
  })

  test('group state, sequence numbers and history survive a restart', async () => {
    const grace = await net.client({ account: net.account(7) })
    const heidi = await net.client({ account: net.account(8) })
    await grace.register()
    await heidi.register()
    const chat = await grace.conversations.open(heidi.account)
    await heidi.sync()
    await chat.send('before the restart')
    await heidi.sync()
    await heidi.conversations.get(chat.id)?.send('reply before the restart')
    await grace.sync()
    await heidi.close()

    const again = await net.client({ account: net.account(8), home: heidi.home })
    expect(again.deviceId).toBe(heidi.deviceId)
    await chat.send('after the restart')
    const { received, rejected } = await again.sync()
    expect(rejected).toEqual([])
    expect(received.map((m) => m.text)).toEqual(['after the restart'])
    const sent = await again.conversations.get(chat.id)?.send('reply after the restart')
    // Heidi's sequence survived: 1 was her reply, 2 the signed delivery receipt for Grace's first message (sent
    // when she closed), so this reply is 3.
    expect(sent?.statement.seq).toBe(3n)
    expect((await grace.sync()).received.map((m) => m.text)).toEqual(['reply after the restart'])
    expect(
      again.conversations
        .get(chat.id)
        ?.messages()
        .map((m) => m.body),
    ).toEqual([
      'before the restart',
      'reply before the restart',
      'after the restart',
      'reply after the restart',
    ])
  })

  test('a key package that does not match the registry is refused and nothing is created', async () => {
    const ivan = await net.client({ account: net.account(9) })
    const judy = await net.client({ account: net.account(0), device: 'judy' })
    await ivan.register()
    await judy.register({ keyPackages: 0 })

    // Someone publishes a key package that claims Judy's device but carries an MLS key she never registered.
    const impl = await getMlsCiphersuite()
    const forged = await createKeyPackage({
      identity: judy.identity,
      mls: await impl.signature.keygen(),
      impl,
    })
    await judy.transport.putKeyPackages({
      deviceId: judy.deviceId,
      envelopes: [
        createEnvelope({
          kind: 'key-package',
          topic: inboxTopic(judy.deviceId),
          payload: encodeMls({
            version: 'mls10',
            wireformat: 'mls_key_package',
            keyPackage: forged.publicPackage,
          }),
        }),
      ],
    })
    const err = await ivan.conversations.open(judy.account).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KeyPackageRejectedError)
    expect((err as KeyPackageRejectedError).metaMessages).toContain(
      'Reason: MLS key differs from the registered key',
    )
    expect(ivan.conversations.list()).toEqual([])

    // Once Judy publishes genuine key packages, the conversation opens.
    await judy.publishKeyPackages(1)
    const chat = await ivan.conversations.open(judy.account)
    expect((await judy.sync()).joined).toEqual([chat.id])
  })
})
