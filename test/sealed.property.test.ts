/** Property: flipping any byte of a sealed message makes opening it fail with a typed error, and changes nothing. */
import fc from 'fast-check'
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Client, SentMessage } from '../src/client/Client.js'
import { CodecError, VerificationError } from '../src/errors.js'
import { createEnvelope, encodeEnvelope } from '../src/protocol/envelope.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type TestNetwork, testNetwork } from './utils/clients.js'

let ctx: ChainContext
let net: TestNetwork
let alice: Client
let bob: Client
let sealed: SentMessage

beforeAll(async () => {
  ctx = await setupChain()
  net = testNetwork(ctx)
  alice = await net.client({ account: net.account(1) })
  bob = await net.client({ account: net.account(2) })
  await alice.register()
  await bob.register()
  const chat = await alice.conversations.open(bob.account)
  await bob.sync()
  sealed = await chat.send('a message that must survive every forgery attempt')
})

afterAll(async () => {
  await net?.cleanup()
  await ctx?.stop()
})

const typed = (err: unknown) => err instanceof VerificationError || err instanceof CodecError

test('flipping any byte of the encoded envelope is refused with a CodecError or VerificationError', async () => {
  const bytes = encodeEnvelope(sealed.envelope)
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: bytes.length - 1 }),
      fc.integer({ min: 1, max: 255 }),
      async (i, mask) => {
        const flipped = bytes.slice()
        flipped[i] = (flipped[i] ?? 0) ^ mask
        const err = await bob.receive(flipped).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(typed(err)).toBe(true)
      },
    ),
    { numRuns: 150 },
  )
})

test('flipping any payload byte, even with the envelope id recomputed (a malicious relay), fails to open', async () => {
  const payload = sealed.envelope.payload
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: payload.length - 1 }),
      fc.integer({ min: 1, max: 255 }),
      async (i, mask) => {
        const forged = payload.slice()
        forged[i] = (forged[i] ?? 0) ^ mask
        const envelope = createEnvelope({
          kind: 'application',
          topic: sealed.envelope.topic,
          payload: forged,
        })
        const err = await bob.receive(envelope).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(typed(err)).toBe(true)
      },
    ),
    { numRuns: 150 },
  )
})

test('after every forgery was refused, the genuine message still opens exactly once', async () => {
  const { received } = await bob.sync()
  expect(received.map((m) => m.text)).toEqual(['a message that must survive every forgery attempt'])
  expect((await bob.sync()).received).toEqual([])
})
