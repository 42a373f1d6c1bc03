/** The option tables of `sealpost ids` and its subcommands (kept apart so the help loads no IDS code). */
import type { CommandSpec } from './options.js'

const logOption = {
  type: 'string',
  value: 'FILE',
  description: 'the alert log (JSON lines, hash-chained)',
} as const

/** `sealpost ids report`. @example parseCommandArgs(idsReportSpec, ['--events', 'events.jsonl']) */
export const idsReportSpec = {
  name: 'ids report',
  summary: 'run the IDS over an events file (JSON lines); print incidents, append alerts to the alert log',
  details: [
    'Malformed and out-of-order lines are counted and skipped. Anomaly models stay silent for --warmup-hours of',
    'event time (rules fire at once); --state restores the models first and saves them after.',
  ],
  options: {
    events: { type: 'string', value: 'FILE', description: 'the events file (required)' },
    log: { ...logOption, default: 'ids-alerts.jsonl' },
    ocsf: {
      type: 'string',
      value: 'FILE',
      description: 'also write the alerts as OCSF Detection Findings (JSON lines)',
    },
    state: {
      type: 'string',
      value: 'FILE',
      description: 'restore the model state from FILE if it exists; save it there',
    },
    'warmup-hours': {
      type: 'string',
      value: 'H',
      description: 'hours of event time before anomaly alerts',
      default: '24',
    },
    anchorers: {
      type: 'string',
      value: '0xA,…',
      description: 'known anchorers (besides a config line in the file)',
    },
  },
} as const satisfies CommandSpec

/** `sealpost ids tail`. @example parseCommandArgs(idsTailSpec, ['--log', 'ids-alerts.jsonl', '--once']) */
export const idsTailSpec = {
  name: 'ids tail',
  summary: 'print an alert log (checking its hash chain) and follow new alerts until Ctrl-C',
  options: {
    log: { ...logOption, default: 'ids-alerts.jsonl' },
    once: { type: 'boolean', description: 'print what is there and exit', default: false },
  },
} as const satisfies CommandSpec

/** `sealpost ids verify`. @example parseCommandArgs(idsVerifySpec, ['--log', 'ids-alerts.jsonl']) */
export const idsVerifySpec = {
  name: 'ids verify',
  summary: "check an alert log's hash chain and its anchored heads (exit 1 at the first tampered entry)",
  details: [
    'With anchor records (<log>.anchors.jsonl, written by a relay that anchors), the log must reach every anchored',
    'head with the same hash, and each receipt is checked against the chain (--rpc, the recorded deployment).',
  ],
  options: {
    log: { ...logOption, default: 'ids-alerts.jsonl' },
    anchors: {
      type: 'string',
      value: 'FILE',
      description: 'the anchor records (default: <log>.anchors.jsonl beside the log)',
    },
    offline: {
      type: 'boolean',
      description: 'check the anchor records against the log only, not their receipts on chain',
      default: false,
    },
  },
} as const satisfies CommandSpec

const dirOption = {
  type: 'string',
  value: 'DIR',
  description: "the relay's IDS directory (default: <home>/relay)",
} as const

const deviceOption = { type: 'string', value: 'ID', description: 'the device id (required)' } as const
const byOption = <const D extends string>(description: D) =>
  ({ type: 'string', value: 'NAME', description, default: 'operator' }) as const

/** `sealpost ids quarantine list`. @example parseCommandArgs(idsQuarantineListSpec, ['--dir', 'relay']) */
export const idsQuarantineListSpec = {
  name: 'ids quarantine list',
  summary: 'list the devices the IDS quarantined (their publishes get RELAY_QUARANTINED)',
  options: { dir: dirOption },
} as const satisfies CommandSpec

/** `sealpost ids quarantine lift`. @example parseCommandArgs(idsQuarantineLiftSpec, ['--device', '0xab…']) */
export const idsQuarantineLiftSpec = {
  name: 'ids quarantine lift',
  summary: "lift a device's quarantine after review (a running relay applies it within a second)",
  options: {
    dir: dirOption,
    device: deviceOption,
    by: byOption('who lifts it (recorded)'),
  },
} as const satisfies CommandSpec

/** `sealpost ids quarantine add`. @example parseCommandArgs(idsQuarantineAddSpec, ['--device', '0xab…']) */
export const idsQuarantineAddSpec = {
  name: 'ids quarantine add',
  summary: 'quarantine a device by hand: its publishes are refused until it is lifted',
  options: {
    dir: dirOption,
    device: deviceOption,
    by: byOption('who quarantines it (recorded)'),
  },
} as const satisfies CommandSpec

/** `sealpost ids quarantine`. @example formatCommandHelp(idsQuarantineSpec) */
export const idsQuarantineSpec = {
  name: 'ids quarantine',
  summary: 'devices quarantined pending review: list, lift, add',
  options: {},
  subcommands: [idsQuarantineListSpec, idsQuarantineLiftSpec, idsQuarantineAddSpec],
} as const satisfies CommandSpec

/** `sealpost ids suspects`. @example parseCommandArgs(idsSuspectsSpec, ['--clear', '0xab…']) */
export const idsSuspectsSpec = {
  name: 'ids suspects',
  summary:
    'contacts whose messages `sealpost inbox` marks suspicious (a revoked key in use); mark or clear one',
  options: {
    mark: { type: 'string', value: 'ACCOUNT', description: 'mark this contact suspicious (with --reason)' },
    reason: {
      type: 'string',
      value: 'TEXT',
      description: 'why (recorded with --mark)',
      default: 'marked by hand',
    },
    clear: {
      type: 'string',
      value: 'ACCOUNT',
      description: "clear this contact's mark after checking with them",
    },
  },
} as const satisfies CommandSpec

/** `sealpost ids`. @example formatCommandHelp(idsSpec) */
export const idsSpec = {
  name: 'ids',
  summary: 'intrusion detection over relay, client and chain events',
  options: {},
  subcommands: [idsReportSpec, idsTailSpec, idsVerifySpec, idsQuarantineSpec, idsSuspectsSpec],
} as const satisfies CommandSpec
