/** watchRejections finds a refusal whether it came before or after the call, and forgets nothing it saw. */
import { EventEmitter } from 'node:events'
import type { Hex } from 'viem'
import { expect, test } from 'vitest'
import type { Client } from '../client/Client.js'
import type { Rejection } from '../client/types.js'
import { ReplayError } from '../client/verificationErrors.js'
import { watchRejections } from './waits.js'

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
