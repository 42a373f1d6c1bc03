import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createEnvelope, encodeEnvelope } from '../protocol/envelope.js'
import type { MessageState } from '../protocol/messageState.js'
import { DeviceStore } from '../store/deviceStore.js'
import { LeafSubmitter } from './leafSubmitter.js'
import { Outbox } from './outbox.js'
import { offlineTransport, type Transport } from './transport.js'
import type { ClientEvents, ReceivedMessage } from './types.js'
import { AnchorWindowError } from './verificationErrors.js'

const h32 = (b: string) => `0x${b.repeat(32)}` as Hex
const TOPIC = h32('c0')
const INBOX = h32('1b')

let dir: string
let store: DeviceStore
let events: EventEmitter<ClientEvents>
let states: [Hex, MessageState][]
let leaves: { topic: Hex; leaf: Hex }[]
let published: Hex[]
let outbox: Outbox
let submitter: LeafSubmitter

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sealpost-outbox-'))
  store = DeviceStore.open({ path: join(dir, 'state.sqlite'), storageKey: new Uint8Array(randomBytes(32)) })
  events = new EventEmitter<ClientEvents>()
  states = []
  events.on('state', (e) => states.push([e.id, e.state]))
  leaves = []
  published = []
  let cursor = 0n
  const transport: Transport = {
    ...offlineTransport,
    publish: async (envelope) => {
      published.push(envelope.id)
      cursor++
      return { cursor }
    },
    submitLeaf: async (leaf) => {
      leaves.push(leaf)
    },
  }
  submitter = new LeafSubmitter({ transport, store, inbox: INBOX, logAnchors: () => [], resubmitMs: 1000 })
  outbox = new Outbox({ store, events, leaves: submitter, transport })
})

afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

function enqueue(text: string, leaf: Hex, alongside = () => {}) {
  const envelope = createEnvelope({
    kind: 'application',
    topic: TOPIC,
    payload: new TextEncoder().encode(text),
  })
  outbox.enqueue(
    {
      id: envelope.id,
      conversation: TOPIC,
      from: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      device: h32('dd'),
      seq: 1n,
      sentAt: Date.now(),
      body: text,
      report: '{}',
      receivedAt: Date.now(),
      leaf,
      envelope: encodeEnvelope(envelope),
    },
    alongside,
  )
  return envelope.id
}

describe('Outbox', () => {
  test('walks a message through queued, accepted, delivered, anchored and final, emitting each once', () => {
    const id = enqueue('hello', h32('01'))
    expect(store.getMessage(id)?.envelope).toBeDefined()
    outbox.accepted(id, TOPIC, 4n, h32('01'))
    expect(store.getMessage(id)?.envelope).toBeUndefined() // dropped once the relay has it
    expect(leaves).toEqual([{ topic: TOPIC, leaf: h32('01') }])
    outbox.delivered(TOPIC, 3n) // acks below its cursor: not yet
    outbox.delivered(TOPIC, 4n)
    outbox.delivered(TOPIC, 9n) // already delivered: no second event
    const anchored = outbox.anchored(h32('01'), '{"leaf":"x"}', () => {})
    expect(anchored.map((m) => m.id)).toEqual([id])
    expect(outbox.awaitingFinality().map((m) => m.id)).toEqual([id])
    outbox.final(id, TOPIC)
    expect(states).toEqual([
      [id, 'queued'],
      [id, 'accepted'],
      [id, 'delivered'],
      [id, 'anchored'],
      [id, 'final'],
    ])
    expect(store.getMessage(id)).toMatchObject({ state: 'final', delivered: true, receipt: '{"leaf":"x"}' })
  })

  test('a late observation never moves a message back, and emits nothing', () => {
    const id = enqueue('late', h32('02'))
    outbox.accepted(id, TOPIC, 1n, h32('02'))
    outbox.anchored(h32('02'), '{}', () => {})
    states = []
    outbox.accepted(id, TOPIC, 1n, h32('02'))
    outbox.delivered(TOPIC, 1n)
    expect(states).toEqual([])
    expect(store.getMessage(id)?.state).toBe('anchored')
  })

  test('enqueue writes the message with what goes alongside, or neither', () => {
    expect(() =>
      enqueue('doomed', h32('03'), () => {
        store.markProcessed(h32('aa'), 'sent')
        throw new Error('disk full')
      }),
    ).toThrow('disk full')
    expect(store.processed(h32('aa'))).toBeUndefined()
    expect(store.listMessages()).toEqual([])
    expect(states).toEqual([])
  })

  test('resendQueued publishes what the relay never accepted, oldest first, and submits their leaves', async () => {
    const first = enqueue('one', h32('04'))
    const second = enqueue('two', h32('05'))
    await outbox.resendQueued()
    expect(published).toEqual([first, second])
    expect(store.getMessage(first)?.state).toBe('accepted')
    expect(leaves.map((l) => l.leaf)).toEqual([h32('04'), h32('05')])
  })
})

describe('LeafSubmitter', () => {
  test('resubmits the leaves of accepted messages and pending log heads, overdue ones on the sweep', () => {
    const id = enqueue('slow', h32('06'))
    outbox.accepted(id, TOPIC, 1n, h32('06'))
    leaves = []
    submitter.resubmitAll()
    expect(leaves).toEqual([{ topic: TOPIC, leaf: h32('06') }])
    leaves = []
    submitter.sweep(Date.now()) // within the interval: nothing
    expect(leaves).toEqual([])
    submitter.sweep(Date.now() + 5000)
    expect(leaves).toEqual([{ topic: TOPIC, leaf: h32('06') }])
  })
})

describe('Outbox: verdicts of received messages', () => {
  const received = (id: Hex, leaf: Hex) => {
    store.putMessage({
      id,
      conversation: TOPIC,
      direction: 'in',
      from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      device: h32('dd'),
      seq: 1n,
      sentAt: 1,
      body: 'hi',
      report: '{"block":{"number":"7"}}',
      receivedAt: Date.now(),
      leaf,
      state: 'received',
    })
    events.emit('message', { id, conversation: TOPIC, leaf } as ReceivedMessage)
  }

  test('a received message is pending and its leaf is submitted by the recipient, again when overdue', () => {
    received(h32('a1'), h32('b1'))
    expect(store.getMessage(h32('a1'))?.verdict).toBe('pending')
    expect(outbox.pendingVerdicts().map((m) => m.id)).toEqual([h32('a1')])
    expect(leaves).toEqual([{ topic: TOPIC, leaf: h32('b1') }])
    leaves = []
    outbox.resubmitPending() // just submitted: nothing
    expect(leaves).toEqual([])
    outbox.resubmitPending(Date.now() + 60_000)
    expect(leaves).toEqual([{ topic: TOPIC, leaf: h32('b1') }])
  })

  test('settling emits verdict (and rejected for a refusal) once; a settled message stays as it is', () => {
    const verdicts: unknown[] = []
    const rejected: unknown[] = []
    events.on('verdict', (v) => verdicts.push(v))
    events.on('rejected', (r) => rejected.push(r.error.code))
    received(h32('a2'), h32('b2'))
    received(h32('a3'), h32('b3'))
    outbox.settle(store.getMessage(h32('a2'))!, 'verified', 'anchored in time')
    const error = new AnchorWindowError({ block: 7n, reason: 'late' })
    outbox.settle(store.getMessage(h32('a3'))!, 'refused', 'late', error)
    outbox.settle(store.getMessage(h32('a3'))!, 'verified', 'again')
    expect(verdicts).toEqual([
      {
        id: h32('a2'),
        conversation: TOPIC,
        verdict: 'verified',
        reason: 'anchored in time',
        error: undefined,
      },
      { id: h32('a3'), conversation: TOPIC, verdict: 'refused', reason: 'late', error },
    ])
    expect(rejected).toEqual(['SEALPOST_ANCHOR_WINDOW'])
    expect(store.getMessage(h32('a3'))).toMatchObject({
      verdict: 'refused',
      verdictReason: 'SEALPOST_ANCHOR_WINDOW',
    })
    expect(outbox.pendingVerdicts()).toEqual([])
  })
})
