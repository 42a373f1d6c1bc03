/** Options shared by several `sealpost` commands: the relay, the sponsoring relay and the local device. */
import type { OptionSpec } from './options.js'

/** `--relay URL[,URL…]` (also `SEALPOST_RELAY`). @example const spec = { options: { relay } } */
export const relay = {
  type: 'string',
  value: 'URL',
  description:
    'relay WebSocket URL, ws:// or wss://; several relays of one cluster comma-separated (fails over)',
  env: 'SEALPOST_RELAY',
  defaultText: 'default ws://127.0.0.1:8787',
} as const satisfies OptionSpec
/** `--relay URL` of a relay whose sponsor pays. @example const spec = { options: { relay: sponsorRelay } } */
export const sponsorRelay = {
  ...relay,
  description: 'relay whose sponsor submits the operation when the account has no ether',
} as const satisfies OptionSpec
/** `--device NAME`, the local device. @example const spec = { options: { device } } */
export const device = {
  type: 'string',
  value: 'NAME',
  description: 'the local device to use',
  default: 'default',
} as const satisfies OptionSpec
