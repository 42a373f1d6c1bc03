/** The demo's peer alerts: found in each peer's recorded key changes; all alerted only with one pair of safety numbers. */
import { EventEmitter } from 'node:events'
import type { Address, Hex } from 'viem'
import { expect, test } from 'vitest'
import type { Client, KeyChangeEvent } from '../client/Client.js'
import { alertLines, allAlerted, peerAlerts } from './peerAlerts.js'

const alice = `0x${'a'.repeat(40)}` as Address
const laptop = `0x${'1'.repeat(64)}` as Hex

const change = (before: string, after: string): KeyChangeEvent => ({
  account: alice,
  kind: 'added',
  deviceIds: [laptop],
  added: [laptop],
  revoked: [],
  block: 25n,
  txHash: `0x${'2'.repeat(64)}`,
  fingerprintBefore: before,
  fingerprintAfter: after,
})

const peer = (recorded: KeyChangeEvent[]) =>
  ({ events: new EventEmitter(), keyChanges: () => recorded }) as unknown as Client

test('every peer alerted with the same safety numbers passes; a silent peer or a disagreeing number fails', async () => {
  const seen = await peerAlerts({
    peers: { Bob: peer([change('111', '222')]), Carol: peer([change('111', '222')]) },
    account: alice,
    match: (c) => c.kind === 'added',
  })
  expect(allAlerted(seen)).toBe(true)
  expect(alertLines(seen)).toEqual([
    'Bob: keyChange "added" at block 25, added 0x11111111…',
    'Carol: keyChange "added" at block 25, added 0x11111111…',
    'safety number before: 111',
    'safety number after:  222',
  ])

  const partial = await peerAlerts({
    peers: { Bob: peer([change('111', '222')]), Carol: peer([]) },
    account: alice,
    match: (c) => c.kind === 'added',
    timeoutMs: 200,
  })
  expect(partial.map((a) => a.change !== undefined)).toEqual([true, false])
  expect(allAlerted(partial)).toBe(false)
  expect(alertLines(partial)[1]).toBe('Carol: no alert')
  expect(
    allAlerted([
      { peer: 'Bob', change: change('111', '222') },
      { peer: 'Carol', change: change('111', '333') },
    ]),
  ).toBe(false)
})
