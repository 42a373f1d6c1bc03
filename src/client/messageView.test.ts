import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { MessageState } from '../protocol/messageState.js'
import { type Receipt, receiptToJson } from '../protocol/receipt.js'
import { DeviceStore, type StoredMessage } from '../store/deviceStore.js'
import { ClientClosedError, MessageStateTimeoutError } from './errors.js'
import { MessageView } from './messageView.js'
import { type StateSource, waitForState } from './waitForState.js'

const h32 = (byte: string) => `0x${byte.repeat(32)}` as Hex
const CONV = h32('c0')
const LEAF = h32('22')
const receipt: Receipt = {
  chainId: 31337,
  contract: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
  root: h32('11'),
  leaf: LEAF,
  index: 0,
  treeSize: 1,
  path: [],
  txHash: h32('66'),
  blockNumber: 7n,
  blockTimestamp: 1_700_000_000n,
}

let dir: string
let store: DeviceStore
let view: MessageView

function message(id: Hex, patch: Partial<StoredMessage> = {}): StoredMessage {
  return {
    id,
    conversation: CONV,
    direction: 'out',
    from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    device: h32('dd'),
    seq: 1n,
    sentAt: 1,
    body: `body of ${id.slice(0, 6)}`,
    report: '{}',
    receivedAt: Date.now(),
    leaf: LEAF,
    state: 'queued',
    ...patch,
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sealpost-view-'))
  store = DeviceStore.open({ path: join(dir, 'state.sqlite'), storageKey: new Uint8Array(randomBytes(32)) })
  view = new MessageView(store)
})

afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('MessageView', () => {
  test('reads messages, their states, verdicts and receipts without exposing the store', () => {
    store.putMessage(message(h32('01')))
    store.putMessage(message(h32('02'), { direction: 'in', state: 'received', conversation: h32('c1') }))
    store.markProcessed(h32('02'), 'rejected:SEALPOST_STALE_SEQ')
    store.updateMessage(h32('01'), { state: 'anchored', receipt: JSON.stringify(receiptToJson(receipt)) })

    expect(view.get(h32('01'))?.state).toBe('anchored')
    expect(view.get(h32('09'))).toBeUndefined()
    expect(view.list().map((m) => m.id)).toEqual([h32('01'), h32('02')])
    expect(view.list({ conversation: h32('c1') }).map((m) => m.id)).toEqual([h32('02')])
    expect(view.list({ limit: 1 })).toHaveLength(1)
    expect(view.byLeaf(LEAF)).toHaveLength(2)
    expect(view.inState(['anchored', 'final'], 'out').map((m) => m.id)).toEqual([h32('01')])
    expect(view.inState(['received'], 'out')).toEqual([])
    expect(view.verdict(h32('02'))).toBe('rejected:SEALPOST_STALE_SEQ')
    expect(view.verdict(h32('01'))).toBeUndefined()
    // The time-bound verdict of a received message (protocol §11.1) is on its record, separate from its state.
    expect(view.get(h32('02'))?.verdict).toBe('pending')
    expect(view.get(h32('01'))?.verdict).toBeUndefined()
    store.settleVerdict(h32('02'), 'refused', 'SEALPOST_REVOKED_BEFORE_ANCHOR')
    expect(view.get(h32('02'))).toMatchObject({
      state: 'received',
      verdict: 'refused',
      verdictReason: 'SEALPOST_REVOKED_BEFORE_ANCHOR',
    })
    expect(view.receipt(h32('01'))).toEqual(receipt)
    expect(view.receipt(h32('02'))).toBeUndefined()
  })

  test('a late observation never moves a message back (the store writes monotonically)', () => {
    store.putMessage(message(h32('01')))
    store.updateMessage(h32('01'), { state: 'anchored' })
    store.updateMessage(h32('01'), { state: 'delivered' })
    expect(view.get(h32('01'))?.state).toBe('anchored')
  })
})

describe('waitForState', () => {
  function source() {
    const events = new EventEmitter()
    let closed = false
    const s: StateSource = {
      messages: view,
      closed: () => closed,
      listen: (onState, onClosed) => {
        events.on('state', onState)
        events.on('closed', onClosed)
        return () => {
          events.off('state', onState)
          events.off('closed', onClosed)
        }
      },
    }
    const move = (id: Hex, state: MessageState) => {
      store.updateMessage(id, { state })
      events.emit('state', { id, state })
    }
    const close = () => {
      closed = true
      events.emit('closed')
    }
    return { s, move, close, events }
  }

  test('resolves at once when the message is already there, or past it', async () => {
    store.putMessage(message(h32('01'), { state: 'delivered' }))
    await expect(waitForState(source().s, h32('01'), 'accepted', { timeoutMs: 1000 })).resolves.toBe(
      'delivered',
    )
  })

  test('resolves as soon as the state is reached, and stops listening', async () => {
    store.putMessage(message(h32('01')))
    const { s, move, events } = source()
    const waiting = waitForState(s, h32('01'), 'delivered', { timeoutMs: 5000 })
    move(h32('01'), 'accepted')
    move(h32('02'), 'final')
    move(h32('01'), 'anchored')
    await expect(waiting).resolves.toBe('anchored')
    expect(events.listenerCount('state')).toBe(0)
  })

  test('rejects with the last state after the timeout', async () => {
    store.putMessage(message(h32('01')))
    const { s, move } = source()
    const waiting = waitForState(s, h32('01'), 'final', { timeoutMs: 50 })
    move(h32('01'), 'accepted')
    const err = await waiting.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MessageStateTimeoutError)
    expect((err as MessageStateTimeoutError).lastState).toBe('accepted')
    expect((err as MessageStateTimeoutError).code).toBe('SEALPOST_MESSAGE_STATE_TIMEOUT')
  })

  test('rejects with ClientClosedError when the client closes first, or is closed already', async () => {
    store.putMessage(message(h32('01')))
    const { s, close } = source()
    const waiting = waitForState(s, h32('01'), 'final', { timeoutMs: 5000 })
    close()
    await expect(waiting).rejects.toBeInstanceOf(ClientClosedError)
    await expect(waitForState(s, h32('01'), 'queued', { timeoutMs: 5000 })).rejects.toBeInstanceOf(
      ClientClosedError,
    )
  })
})
