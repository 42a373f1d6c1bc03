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
  summary: "check an alert log's hash chain (exit 1 at the first tampered entry)",
  options: { log: { ...logOption, default: 'ids-alerts.jsonl' } },
} as const satisfies CommandSpec

/** `sealpost ids`. @example formatCommandHelp(idsSpec) */
export const idsSpec = {
  name: 'ids',
  summary: 'intrusion detection over relay, client and chain events',
  options: {},
  subcommands: [idsReportSpec, idsTailSpec, idsVerifySpec],
} as const satisfies CommandSpec
