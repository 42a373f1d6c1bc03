/** End to end on a real anvil: register, converse, rotate a device, and remove a revoked device from the group. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { KeyRevokedError, MlsRejectedError, ReplayError } from '../src/client/errors.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type TestNetwork, testNetwork } from './utils/clients.js'

let ctx: ChainContext
let net: TestNetwork

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
      ['device-registered', true],
      ['block-reference', true],
      ['signature', true],
      ['key-valid-at-block', true],
      ['body-hash', true],
      ['clock', true],
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
