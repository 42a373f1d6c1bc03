/** The key-change collector: recorded changes first, then live ones (Alerts-tab rows and Keys-tab records), and contacts' safety numbers. */
import { EventEmitter } from 'node:events'
import type { Address, Hex } from 'viem'
import { expect, test } from 'vitest'
import type { Client, KeyChangeEvent } from '../../client/Client.js'
import { alertEventSchema, type DashboardEvent, dashboardEventSchema } from '../events.js'
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

const carol = `0x${'c'.repeat(40)}` as Address

test('recorded key changes are shown on attach, live ones as they come, until detached; safety numbers of contacts', async () => {
  const events = new EventEmitter()
  const recorded = [change('added', 10n, [`0x${'1'.repeat(64)}`])]
  const asked: Address[] = []
  const client = {
    events,
    closed: false,
    keyChanges: () => recorded,
    conversations: { list: () => [{ peer: carol }] },
    safetyNumber: async (account: Address) => {
      asked.push(account)
      return {
        account,
        block: 20n,
        devices: [`0x${'2'.repeat(64)}`],
        safetyNumber: '33333 '.repeat(12).trim(),
      }
    },
  } as unknown as Client
  const shown: DashboardEvent[] = []
  const detach = attachKeyChanges((e) => shown.push(e), client, 'Alice')
  events.emit('keyChange', change('rotated', 12n, [`0x${'1'.repeat(64)}`, `0x${'2'.repeat(64)}`]))
  await new Promise((resolve) => setImmediate(resolve))
  detach()
  events.emit('keyChange', change('revoked', 13n, [`0x${'2'.repeat(64)}`]))
  await new Promise((resolve) => setImmediate(resolve))
  for (const e of shown) expect(dashboardEventSchema.safeParse(e).success, JSON.stringify(e)).toBe(true)

  const alerts = shown.flatMap((e) => (e.type === 'alert' ? [alertEventSchema.parse(e)] : []))
  expect(alerts.map((a) => [a.code, a.account, a.deviceId?.slice(0, 4)])).toEqual([
    [KEY_CHANGE_CODE, bob, '0x11'],
    [KEY_CHANGE_CODE, bob, '0x22'],
  ])
  expect(alerts[1]?.message).toBe(
    `Alice: ${bob} rotated a device at block 12. Safety number now ${'22222 '.repeat(12).trim()} (was ${'11111 '.repeat(12).trim()}).`,
  )
  // The Keys tab's records: both changes, with devices, block, transaction and both safety numbers.
  const records = shown.flatMap((e) => (e.type === 'keyChange' ? [e] : []))
  expect(records.map((r) => [r.kind, r.block, r.added.length, r.revoked.length, r.observer])).toEqual([
    ['added', '10', 1, 0, 'Alice'],
    ['rotated', '12', 1, 1, 'Alice'],
  ])
  expect(records[1]?.safetyNumberAfter).toBe('22222 '.repeat(12).trim())
  // Safety numbers: Bob (recorded change) and Carol (a peer) on attach, Bob again after his live change; none after detach.
  expect(asked.map((a) => a.toLowerCase())).toEqual([bob, carol, bob].map((a) => a.toLowerCase()))
  const numbers = shown.flatMap((e) => (e.type === 'safetyNumber' ? [e] : []))
  expect(numbers.map((n) => [n.account, n.block, n.devices])).toEqual([
    [bob, '20', 1],
    [carol, '20', 1],
    [bob, '20', 1],
  ])
})
