/** The demo's waits: watchRejections forgets nothing it saw, pollUntil returns the probe's value, nextMessageIn filters by conversation. */
import { EventEmitter } from 'node:events'
import type { Hex } from 'viem'
import { expect, test } from 'vitest'
import type { Client } from '../client/Client.js'
import type { ReceivedMessage, Rejection } from '../client/types.js'
import { ReplayError } from '../client/verificationErrors.js'
import { DemoTimeoutError } from './errors.js'
import { nextMessageIn, pollUntil, watchRejections } from './waits.js'

const id = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}`
const rejection = (n: number): Rejection => ({
  envelopeId: id(n),
  topic: id(0),
  error: new ReplayError({ verdict: 'accepted' }),
})

test('watchRejections resolves with a refusal seen earlier or later, undefined on timeout, and stops', async () => {
  const events = new EventEmitter()
  const client = { events } as unknown as Client
  const watch = watchRejections(client)
  events.emit('rejected', rejection(1))
  expect(await watch.find(id(1), 1000)).toMatchObject({ envelopeId: id(1) })
  const later = watch.find(id(2), 1000)
  events.emit('rejected', rejection(3))
  events.emit('rejected', rejection(2))
  expect((await later)?.envelopeId).toBe(id(2))
  expect(await watch.find(id(4), 50)).toBeUndefined()
  watch.stop()
  expect(events.listenerCount('rejected')).toBe(0)
})

test('pollUntil resolves with the first truthy value of the probe, and names what it waited for when it gives up', async () => {
  let calls = 0
  expect(await pollUntil(() => ++calls >= 3 && `after ${calls}`, 5_000, 'three calls', 1)).toBe('after 3')
  const err = await pollUntil(() => false, 0, 'Dave to see his removal').catch((e: unknown) => e)
  expect(err).toBeInstanceOf(DemoTimeoutError)
  expect((err as DemoTimeoutError).shortMessage).toBe('Gave up waiting for Dave to see his removal.')
})

test('nextMessageIn resolves with the next message of its conversation only, and stops listening', async () => {
  const events = new EventEmitter()
  const client = { events } as unknown as Client
  const message = (conversation: Hex, text: string) => ({ conversation, text }) as ReceivedMessage
  const arriving = nextMessageIn(client, id(7), 5_000)
  events.emit('message', message(id(8), 'other conversation'))
  events.emit('message', message(id(7), 'team'))
  expect((await arriving)?.text).toBe('team')
  expect(events.listenerCount('message')).toBe(0)
})
