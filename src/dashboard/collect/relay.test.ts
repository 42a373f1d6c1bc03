/** The relay collector: one alert per refused login, though the relay reports it as 'auth' and as 'rejected'. */
import { EventEmitter } from 'node:events'
import type { Address, Hex } from 'viem'
import { afterEach, expect, test } from 'vitest'
import type { RelayServer } from '../../relay/RelayServer.js'
import { DashboardHub } from '../server.js'
import { type Collector, createCollector } from './collector.js'
import { attachRelayServer, relayAlertText } from './relay.js'

const deviceId = `0x${'d'.repeat(64)}` as Hex
const account = `0x${'a'.repeat(40)}` as Address

let collector: Collector | undefined
afterEach(() => collector?.stop())

const alerts = (hub: DashboardHub) => hub.replay().filter((e) => e.type === 'alert')

test('a revoked device that tries to log in raises one alert, naming the device', async () => {
  const hub = new DashboardHub()
  collector = createCollector(hub)
  const server = new EventEmitter() as unknown as RelayServer
  attachRelayServer(collector, server, { accountOf: () => undefined })
  // What the relay's failed AUTH emits, in order, in one turn: 'auth' (ok: false), then the ERROR frame's 'rejected'.
  server.emit('auth', { account, deviceId, ok: false, code: 'RELAY_DEVICE_REVOKED' })
  server.emit('rejected', { code: 'RELAY_DEVICE_REVOKED', reqId: 0 })
  await Promise.resolve()
  expect(alerts(hub)).toEqual([
    expect.objectContaining({ code: 'RELAY_DEVICE_REVOKED', deviceId, account, severity: 'critical' }),
  ])
  // A later refusal of the same code that no login reported is its own alert.
  server.emit('rejected', { code: 'RELAY_DEVICE_REVOKED', reqId: 0 })
  expect(alerts(hub)).toHaveLength(2)
})

test('a quarantined device refused on PUBLISH raises an alert saying so, naming the device', () => {
  const hub = new DashboardHub()
  collector = createCollector(hub)
  const server = new EventEmitter() as unknown as RelayServer
  attachRelayServer(collector, server, { accountOf: () => undefined })
  server.emit('rejected', { code: 'RELAY_QUARANTINED', reqId: 7, deviceId })
  expect(alerts(hub)).toEqual([
    expect.objectContaining({
      code: 'RELAY_QUARANTINED',
      deviceId,
      severity: 'warning',
      message: relayAlertText('RELAY_QUARANTINED'),
    }),
  ])
  expect(relayAlertText('RELAY_QUARANTINED')).toMatch(/quarantined/)
  expect(relayAlertText('RELAY_QUARANTINED')).not.toMatch(/Relay refused a request/)
})
