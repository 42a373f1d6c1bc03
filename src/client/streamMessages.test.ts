import { EventEmitter } from 'node:events'
import type { Hex } from 'viem'
import { expect, test } from 'vitest'
import { streamMessages } from './streamMessages.js'
import type { ClientEvents, ReceivedMessage } from './types.js'
import { clientStateSource, waitForState } from './waitForState.js'

const message = (text: string) => ({ id: `0x${'01'.repeat(32)}`, text }) as unknown as ReceivedMessage

test('streamMessages yields every message event in order and ends when the client closes', async () => {
  const events = new EventEmitter<ClientEvents>()
  const stream = streamMessages(events)
  events.emit('message', message('one'))
  events.emit('message', message('two'))
  events.emit('closed')
  const texts: string[] = []
  for await (const m of stream) texts.push(m.text)
  expect(texts).toEqual(['one', 'two'])
})

test('leaving the loop stops listening', async () => {
  const events = new EventEmitter<ClientEvents>()
  const stream = streamMessages(events)
  events.emit('message', message('one'))
  for await (const m of stream) {
    expect(m.text).toBe('one')
    break
  }
  expect(events.listenerCount('message')).toBe(0)
  expect(events.listenerCount('closed')).toBe(0)
})

test('clientStateSource: waitForState resolves on a state event and then stops listening', async () => {
  const events = new EventEmitter<ClientEvents>()
  const id: Hex = `0x${'02'.repeat(32)}`
  let state: 'sent' | 'delivered' = 'sent'
  const messages = { get: () => ({ state }) as never }
  const waiting = waitForState(
    clientStateSource(events, messages, () => false),
    id,
    'delivered',
    {
      timeoutMs: 5000,
    },
  )
  state = 'delivered'
  events.emit('state', { id, state: 'delivered' } as never)
  expect(await waiting).toBe('delivered')
  expect(events.listenerCount('state')).toBe(0)
  expect(events.listenerCount('closed')).toBe(0)
})
