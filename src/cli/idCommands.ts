/** The `sealpost id` command and its subcommands as data (parsed and printed by options.ts). */
import { device, sponsorRelay } from './commonOptions.js'
import type { CommandSpec } from './options.js'

/** `sealpost id new`. @example parseCommandArgs(idNewSpec, ['--device', 'laptop']) */
export const idNewSpec = {
  name: 'id new',
  summary: 'create an account key and a first device (offline)',
  options: {
    device,
    'import-key-env': {
      type: 'string',
      value: 'VAR',
      description: 'import the account key (0x + 64 hex) from env VAR instead of generating one',
    },
  },
} as const satisfies CommandSpec

/** `sealpost id show`. @example parseCommandArgs(idShowSpec, []) */
export const idShowSpec = {
  name: 'id show',
  summary: 'the account, its devices and their on-chain status',
  options: {},
} as const satisfies CommandSpec

/** `sealpost id add-device`. @example parseCommandArgs(idAddDeviceSpec, ['--device', 'laptop']) */
export const idAddDeviceSpec = {
  name: 'id add-device',
  summary: 'create (if needed) and register a device on chain',
  details: [
    "Without ether in the account, the relay's sponsor (POST /v1/sponsor on --relay's port) submits the signed",
    'authorisation; `sealpost up` runs one.',
  ],
  options: { device, relay: sponsorRelay },
} as const satisfies CommandSpec

/** `sealpost id revoke-device`. @example parseCommandArgs(idRevokeDeviceSpec, ['laptop']) */
export const idRevokeDeviceSpec = {
  name: 'id revoke-device',
  args: 'DEVICE_ID|NAME',
  summary: 'revoke a device on chain (EIP-712 signed by the account)',
  details: ["Without ether in the account, the relay's sponsor submits it, as for `id add-device`."],
  options: { relay: sponsorRelay },
} as const satisfies CommandSpec

/** `sealpost id link`. @example parseCommandArgs(idLinkSpec, ['--account', '0xA…', '--name', 'laptop']) */
export const idLinkSpec = {
  name: 'id link',
  summary: 'create a device here and ask a device holding the account key to approve it',
  details: [
    'Prints a one-time link request (a sealpost:link URI and its QR code) for `sealpost id approve`, then waits until',
    'the registry shows the device active. The account key never comes to this machine.',
  ],
  options: {
    account: { type: 'string', value: '0xACCOUNT', description: 'the account this device joins (required)' },
    name: { type: 'string', value: 'NAME', description: "the new device's name", default: 'default' },
    ttl: { type: 'string', value: 'MIN', description: 'minutes the request stays valid', default: '10' },
    'no-wait': { type: 'boolean', description: 'print the request and exit', default: false },
  },
} as const satisfies CommandSpec

/** `sealpost id approve`. @example parseCommandArgs(idApproveSpec, ['sealpost:link?v=1&r=…', '--yes']) */
export const idApproveSpec = {
  name: 'id approve',
  args: 'REQUEST',
  summary: 'check a link request, show its device, and authorize it on chain',
  details: [
    'Shows the device name and both key fingerprints, asks for confirmation, then signs the EIP-712 AddDevice;',
    "without ether in the account, the relay's sponsor submits it, as for `id add-device`. With --send-history,",
    'once the device is active, this device seals its past conversations to it as soon as the new device has',
    'connected once (`sealpost inbox` there publishes its first key package).',
  ],
  options: {
    relay: sponsorRelay,
    yes: {
      type: 'boolean',
      description: 'approve without asking (check the fingerprints first)',
      default: false,
    },
    fingerprint: {
      type: 'string',
      value: 'HEX',
      description: 'the P-256 fingerprint the new device shows; refuse if the request differs',
    },
    'send-history': {
      type: 'boolean',
      description: "then send this device's past conversations to the new device (as `history send`)",
      default: false,
    },
    wait: {
      type: 'string',
      value: 'S',
      description: "with --send-history: wait up to S seconds for the new device's first key package",
      default: '300',
    },
    device: { ...device, description: 'with --send-history: the local device whose history is sent' },
  },
} as const satisfies CommandSpec

/** `sealpost id fingerprint`. @example parseCommandArgs(idFingerprintSpec, ['0xBob…']) */
export const idFingerprintSpec = {
  name: 'id fingerprint',
  args: '[0xACCOUNT]',
  summary: "an account's safety number over its current devices, to compare out of band",
  details: [
    'Read from the registry at the current block (default: this account); it changes whenever a device of the',
    'account is added, revoked or rotated (docs/protocol.md §2.5).',
  ],
  options: {},
} as const satisfies CommandSpec

/** `sealpost id rotate`. @example parseCommandArgs(idRotateSpec, ['--device', 'laptop']) */
export const idRotateSpec = {
  name: 'id rotate',
  summary: "replace a device's P-256 and MLS keys in one registry transaction",
  details: [
    'Needs the account key (EIP-712 RotateDevice). The old device id is revoked and the new one added in one block;',
    "peers' clients then swap the old leaf for the new device in every conversation (post-compromise security).",
    "Without ether in the account, the relay's sponsor submits it, as for `id add-device`.",
  ],
  options: {
    device,
    relay: sponsorRelay,
    wait: {
      type: 'string',
      value: 'S',
      description: 'seconds to wait for peers to re-add the device (0: do not wait)',
      default: '30',
    },
  },
} as const satisfies CommandSpec

/** `sealpost id revoke-others`. @example parseCommandArgs(idRevokeOthersSpec, ['--device', 'laptop']) */
export const idRevokeOthersSpec = {
  name: 'id revoke-others',
  summary: 'revoke every other device of the account (a lost or stolen device)',
  details: [
    'Needs the account key: one EIP-712 RevokeDevice per device, each its own transaction. Every conversation then',
    'evicts the revoked devices.',
  ],
  options: { device: { ...device, description: 'the local device to keep' }, relay: sponsorRelay },
} as const satisfies CommandSpec

/** `sealpost id`. @example formatCommandHelp(idSpec) */
export const idSpec = {
  name: 'id',
  summary: 'the account key and its devices',
  options: {},
  subcommands: [
    idNewSpec,
    idShowSpec,
    idAddDeviceSpec,
    idRevokeDeviceSpec,
    idLinkSpec,
    idApproveSpec,
    idFingerprintSpec,
    idRotateSpec,
    idRevokeOthersSpec,
  ],
} as const satisfies CommandSpec
