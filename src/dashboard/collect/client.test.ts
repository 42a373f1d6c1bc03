/** The client and relay collectors together: a rejected message is shown with the sender the relay saw. */
import { EventEmitter } from 'node:events'
import type { Address, Hex } from 'viem'
import { afterEach, expect, test } from 'vitest'
import type { Client } from '../../client/Client.js'
import { MlsRejectedError } from '../../client/verificationErrors.js'
import type { RelayServer } from '../../relay/RelayServer.js'
import type { MessageEvent } from '../events.js'
import { DashboardHub } from '../server.js'
import { attachClient } from './client.js'
import { type Collector, createCollector } from './collector.js'
import { attachRelayServer } from './relay.js'

const bytes32 = (byte: string) => `0x${byte.repeat(64)}` as Hex
const address = (byte: string) => `0x${byte.repeat(40)}` as Address
const mallory = { account: address('a'), deviceId: bytes32('a') }
const bob = { account: address('b'), deviceId: bytes32('b') }
const alice = address('c')
const topic = bytes32('1')
const envelopeId = bytes32('2')

/** The parts of a client the collector reads: Bob's device, in a conversation with Alice (not listed, so no safety number is asked for), no groups, an empty log, no key
 * changes. */
function fakeClient(): Client & { events: EventEmitter } {
  return {
    ...bob,
    events: new EventEmitter(),
    closed: false,
    log: { head: () => undefined, entries: () => [] },
    messages: { get: () => undefined },
    conversations: {
      get: (id: Hex) => (id === topic ? { peer: alice } : undefined),
      list: () => [],
    },
    groups: { list: () => [], get: () => undefined },
    keyChanges: () => [],
  } as unknown as Client & { events: EventEmitter }
}

let collector: Collector | undefined
afterEach(() => collector?.stop())

const rejectedRows = (hub: DashboardHub) =>
  hub.replay().filter((e): e is MessageEvent => e.type === 'message' && e.state === 'rejected')

test('a rejected message shows the publisher the relay saw as its sender, not the recipient', () => {
  const hub = new DashboardHub()
  collector = createCollector(hub)
  const server = new EventEmitter() as unknown as RelayServer
  attachRelayServer(collector, server, {
    accountOf: (deviceId) => (deviceId === mallory.deviceId ? mallory.account : undefined),
  })
  const client = fakeClient()
  attachClient(collector, client, { name: 'Bob' })

  server.emit('published', {
    topic,
    seq: 7n,
    id: envelopeId,
    kind: 'application',
    bytes: 512,
    publisher: mallory.deviceId,
  })
  client.events.emit('rejected', {
    envelopeId,
    topic,
    error: new MlsRejectedError({ reason: 'does not decrypt' }),
  })

  const rows = rejectedRows(hub)
  expect(rows).toHaveLength(1)
  expect(rows[0]).toMatchObject({ id: envelopeId, from: mallory.account, to: [bob.account], observer: 'Bob' })
  expect(hub.replay().some((e) => e.type === 'verification' && e.id === envelopeId && !e.ok)).toBe(true)
})

test('without a relay feed, the rejected message is shown as from the conversation peer', () => {
  const hub = new DashboardHub()
  collector = createCollector(hub)
  const client = fakeClient()
  attachClient(collector, client, { name: 'Bob' })
  client.events.emit('rejected', {
    envelopeId,
    topic,
    error: new MlsRejectedError({ reason: 'does not decrypt' }),
  })
  expect(rejectedRows(hub)[0]).toMatchObject({ from: alice, to: [bob.account] })
})
