/** The key-change collector: recorded alerts first, then live ones, each an Alerts-tab row naming the contact. */
import { EventEmitter } from 'node:events'
import type { Address, Hex } from 'viem'
import { expect, test } from 'vitest'
import type { Client, KeyChangeEvent } from '../../client/Client.js'
import { alertEventSchema, type DashboardEvent } from '../events.js'
import { attachKeyChanges, KEY_CHANGE_CODE } from './keyChanges.js'

const bob = `0x${'b'.repeat(40)}` as Address
const change = (kind: KeyChangeEvent['kind'], block: bigint, ids: Hex[]): KeyChangeEvent => ({
  account: bob,
  kind,
  deviceIds: ids,
  added: kind === 'revoked' ? [] : ids.slice(-1),
  revoked: kind === 'added' ? [] : ids.slice(0, 1),
  block,
  txHash: `0x${'7'.repeat(64)}`,
  fingerprintBefore: '11111 '.repeat(12).trim(),
  fingerprintAfter: '22222 '.repeat(12).trim(),
})

test('recorded key changes are shown on attach, live ones as they come, until detached', () => {
  const events = new EventEmitter()
  const recorded = [change('added', 10n, [`0x${'1'.repeat(64)}`])]
  const client = { events, keyChanges: () => recorded } as unknown as Client
  const shown: DashboardEvent[] = []
  const detach = attachKeyChanges((e) => shown.push(e), client, 'Alice')
  events.emit('keyChange', change('rotated', 12n, [`0x${'1'.repeat(64)}`, `0x${'2'.repeat(64)}`]))
  detach()
  events.emit('keyChange', change('revoked', 13n, [`0x${'2'.repeat(64)}`]))
  const alerts = shown.map((e) => alertEventSchema.parse(e))
  expect(alerts.map((a) => [a.code, a.account, a.deviceId?.slice(0, 4)])).toEqual([
    [KEY_CHANGE_CODE, bob, '0x11'],
    [KEY_CHANGE_CODE, bob, '0x22'],
  ])
  expect(alerts[1]?.message).toBe(
    `Alice: ${bob} rotated a device at block 12. Safety number now ${'22222 '.repeat(12).trim()} (was ${'11111 '.repeat(12).trim()}).`,
  )
})
