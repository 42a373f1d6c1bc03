/** The relay-side state tracker: a message no hosted client reports still moves to delivered, anchored and final. */
import type { Address, Hex } from 'viem'
import { expect, test } from 'vitest'
import { createRelayStateTracker, LEAF_PAIRING_MS } from './relayStates.js'

const bytes32 = (byte: string) => `0x${byte.repeat(64)}` as Hex
const address = (byte: string) => `0x${byte.repeat(40)}` as Address
const alice = address('a')
const bob = address('b')
const aliceDevice = bytes32('a')
const topic = bytes32('1')

test('an envelope becomes delivered when another account acks it, then anchored and final from its receipt', () => {
  const tracker = createRelayStateTracker({ finality: 2 })
  tracker.published({ id: bytes32('2'), topic, seq: 1n, from: alice, device: aliceDevice })
  tracker.published({ id: bytes32('3'), topic, seq: 2n, from: alice, device: aliceDevice })
  tracker.leaf({ leaf: bytes32('4'), topic, submitter: aliceDevice })
  tracker.leaf({ leaf: bytes32('5'), topic, submitter: aliceDevice })

  // The sender's own ack delivers nothing; the recipient's ack delivers what it covers, to the recipient.
  expect(tracker.acked({ topic, seq: 2n, account: alice })).toEqual([])
  const delivered = tracker.acked({ topic, seq: 1n, account: bob })
  expect(delivered).toHaveLength(1)
  expect(delivered[0]).toMatchObject({ id: bytes32('2'), state: 'delivered', from: alice, to: [bob] })
  expect(tracker.acked({ topic, seq: 2n, account: bob }).map((e) => e.id)).toEqual([bytes32('3')])

  // The second leaf is the second envelope's: its receipt anchors that one only.
  const anchored = tracker.receipt({ leaf: bytes32('5'), blockNumber: 10n })
  expect(anchored).toEqual([
    expect.objectContaining({ id: bytes32('3'), state: 'anchored', leaf: bytes32('5'), to: [bob] }),
  ])
  expect(tracker.waitingForDepth).toBe(true)
  expect(tracker.head(10n)).toEqual([])
  expect(tracker.head(11n)).toEqual([expect.objectContaining({ id: bytes32('3'), state: 'final' })])
  expect(tracker.waitingForDepth).toBe(false)
  expect(tracker.head(20n)).toEqual([])
})

test('a leaf submitted long after its envelope, or by another device, is not paired with it', () => {
  let now = 1_000_000
  const tracker = createRelayStateTracker({ now: () => now })
  tracker.published({ id: bytes32('2'), topic, seq: 1n, from: alice, device: aliceDevice })
  tracker.leaf({ leaf: bytes32('4'), topic, submitter: bytes32('c') })
  expect(tracker.receipt({ leaf: bytes32('4'), blockNumber: 3n })).toEqual([])
  now += LEAF_PAIRING_MS + 1
  tracker.leaf({ leaf: bytes32('5'), topic, submitter: aliceDevice })
  expect(tracker.receipt({ leaf: bytes32('5'), blockNumber: 3n })).toEqual([])
})

test('it remembers a bounded number of envelopes', () => {
  const tracker = createRelayStateTracker({ limit: 2 })
  for (const b of ['2', '3', '4'])
    tracker.published({ id: bytes32(b), topic, seq: BigInt(b), from: alice, device: aliceDevice })
  expect(tracker.acked({ topic, seq: 9n, account: bob }).map((e) => e.id)).toEqual([
    bytes32('3'),
    bytes32('4'),
  ])
})
