/** Every `sealpost` command and global option as data: the one table that parses arguments and prints help. */
import { device, relay } from './commonOptions.js'
import { groupSpec } from './groupSpecs.js'
import { idSpec } from './idCommands.js'
import { idsSpec } from './idsSpecs.js'
import { type CommandSpec, formatOptions, type OptionSpec } from './options.js'
import { validatorSpec } from './validatorSpec.js'

const port = (what: string, def: string) =>
  ({ type: 'string', value: 'PORT', description: `${what} port (0: any free port)`, default: def }) as const
const host = (what: string) =>
  ({ type: 'string', value: 'HOST', description: `${what} listen address`, default: '127.0.0.1' }) as const
const anchorerOptions = {
  'anchor-key-env': {
    type: 'string',
    value: 'VAR',
    description: 'read the anchorer key (0x + 64 hex) from env VAR',
    defaultText: 'an anvil test key on a local chain',
  },
  'batch-size': { type: 'string', value: 'N', description: 'anchor at most N leaves per transaction' },
  'batch-ms': { type: 'string', value: 'MS', description: 'anchor a batch every MS milliseconds' },
  confirmations: { type: 'string', value: 'N', description: 'blocks before an anchor counts as final' },
} as const satisfies Record<string, OptionSpec>
const sponsorOptions = {
  'sponsor-key-env': {
    type: 'string',
    value: 'VAR',
    description: "pay users' registry operations (POST /v1/sponsor) with the key (0x + 64 hex) in env VAR",
    defaultText: 'an anvil test key on a local chain, else no sponsor',
  },
  'no-sponsor': { type: 'boolean', description: 'do not sponsor registry operations', default: false },
  'sponsor-per-ip': {
    type: 'string',
    value: 'N',
    description: 'sponsored operations per client IP per window',
    defaultText: 'default 20 per hour',
  },
  'sponsor-per-account': {
    type: 'string',
    value: 'N',
    description: 'sponsored operations per account per window',
    defaultText: 'default 5 per hour',
  },
  'sponsor-daily-budget-wei': {
    type: 'string',
    value: 'WEI',
    description: 'most the sponsor spends on gas per day, in wei',
    defaultText: 'default 0.1 ETH',
  },
} as const satisfies Record<string, OptionSpec>

/** `sealpost up`. @example parseCommandArgs(upSpec, ['--demo']) */
export const upSpec = {
  name: 'up',
  summary: 'local chain + contracts + relay (with anchorer) + dashboard until Ctrl-C',
  details: [
    'Starts anvil, deploys KeyRegistry and MessageAnchor, records them under --home, and serves the relay.',
  ],
  options: {
    port: port('relay', '8787'),
    host: host('relay'),
    'chain-port': port('anvil', '8545'),
    'block-time': { type: 'string', value: 'S', description: 'anvil block time in seconds', default: '1' },
    ...anchorerOptions,
    ...sponsorOptions,
    demo: { type: 'boolean', description: 'add a scripted exchange with bad actors', default: false },
    cluster: {
      type: 'string',
      value: 'N',
      description:
        'N nats-server nodes (JetStream) and N relays on them instead of one SQLite relay (docs/operations.md)',
    },
    chains: {
      type: 'string',
      value: 'N',
      description:
        '2: also chain 31338, mirrored from the first through Hyperlane (3 validators, keeper, relayer; docs/cross-chain.md)',
      default: '1',
    },
    'validator-confirmations': {
      type: 'string',
      value: 'N',
      description: 'with --chains 2: confirmations the validators wait for on the first chain',
      default: '2',
    },
    'dashboard-port': port('dashboard', '8788'),
    'dashboard-host': host('dashboard'),
    'no-ids': {
      type: 'boolean',
      description:
        "do not run the relay's IDS (on by default: ids-alerts.jsonl and ids-events.jsonl in relay/)",
      default: false,
    },
  },
} as const satisfies CommandSpec

/** `sealpost relay`. @example parseCommandArgs(relaySpec, ['--port', '8787']) */
export const relaySpec = {
  name: 'relay',
  summary: 'a relay (with anchorer) for --rpc and the recorded deployment, until Ctrl-C',
  options: {
    port: port('relay', '8787'),
    host: host('relay'),
    ...anchorerOptions,
    ...sponsorOptions,
    dashboard: { type: 'boolean', description: "also serve the relay's dashboard", default: false },
    'dashboard-port': port('dashboard', '8788'),
    'dashboard-host': host('dashboard'),
    nats: {
      type: 'string',
      description:
        'NATS JetStream URLs (comma-separated): keep envelopes and relay state there, not in SQLite',
    },
    ids: {
      type: 'boolean',
      description: 'run the IDS: alert log and model state in the relay home (docs/ids.md)',
      default: false,
    },
    'ids-events': {
      type: 'boolean',
      description:
        'with --ids: also write every IDS event to ids-events.jsonl (for replay; costs relay throughput)',
      default: false,
    },
    'hyperlane-relayer': {
      type: 'string',
      value: 'FILE',
      description: 'also deliver cross-chain mirror messages as configured in FILE (docs/cross-chain.md)',
    },
  },
} as const satisfies CommandSpec

/** `sealpost dashboard`. @example parseCommandArgs(dashboardSpec, ['--port', '0']) */
export const dashboardSpec = {
  name: 'dashboard',
  summary: 'this device on a real network, live, in the browser',
  options: { relay, device, port: port('dashboard', '8788'), host: host('dashboard') },
} as const satisfies CommandSpec

/** `sealpost demo`. @example parseCommandArgs(demoSpec, ['--out', 'demo.json']) */
export const demoSpec = {
  name: 'demo',
  summary: 'the whole system end to end through a real relay, including rejected attacks',
  details: [
    'Exits 0 only if every step passed. With --json the summary is the only thing on stdout; through npm, run',
    '`npm run --silent demo -- --json` (npm prints a banner on stdout otherwise), or write it with --out FILE.',
  ],
  options: {
    keep: { type: 'boolean', description: 'keep the temporary homes', default: false },
    out: { type: 'string', value: 'FILE', description: 'also write the JSON summary to FILE' },
    chains: {
      type: 'string',
      value: 'N',
      description:
        '2: end with the cross-chain act on a second chain through Hyperlane (docs/cross-chain.md); 1: skip it',
      default: '2',
    },
  },
} as const satisfies CommandSpec

/** `sealpost deploy`. @example parseCommandArgs(deploySpec, []) */
export const deploySpec = {
  name: 'deploy',
  summary: 'deploy KeyRegistry and MessageAnchor through --rpc; record them under --home',
  options: {},
} as const satisfies CommandSpec

/** `sealpost send`. @example parseCommandArgs(sendSpec, ['0xBob…', 'hi']) */
export const sendSpec = {
  name: 'send',
  args: 'PEER TEXT…',
  summary: 'send one message to PEER (an account address) and follow it to --wait',
  details: [
    "With --group NAME|ID there is no PEER: every word is the text, sealed once for all the group's member devices.",
    'With --via hyperlane the same sealed envelope also goes through the SealpostInbox pair (dispatch on chain A,',
    'validator signatures, delivery on chain B), paid by the account key, with the gas reported; --timeout bounds it.',
  ],
  options: {
    relay,
    device,
    group: {
      type: 'string',
      value: 'NAME|ID',
      description: 'send to this group (its name or id) instead of a PEER',
    },
    wait: {
      type: 'string',
      value: 'STATE',
      description: 'wait until accepted, delivered, anchored or final',
      default: 'accepted',
    },
    timeout: { type: 'string', value: 'S', description: 'give up waiting after S seconds', default: '120' },
    via: {
      type: 'string',
      value: 'PATH',
      description:
        'relay (default), or hyperlane: also carry the sealed envelope through Hyperlane to the inbox on the second chain',
      default: 'relay',
    },
    hyperlane: {
      type: 'string',
      value: 'FILE',
      description:
        'the inbox pair record for --via hyperlane (default: hyperlane-inbox.json next to the deployment)',
    },
  },
} as const satisfies CommandSpec

/** `sealpost inbox`. @example parseCommandArgs(inboxSpec, ['--follow']) */
export const inboxSpec = {
  name: 'inbox',
  summary: 'what arrived while away, with its verification',
  details: [
    'With hyperlane-inbox.json next to the deployment (`up --chains 2`), also reads the SealpostInbox on chain B:',
    'each message is shown once, marked "via Hyperlane" when its envelope was delivered there (docs/cross-chain.md).',
  ],
  options: {
    relay,
    device,
    follow: {
      type: 'boolean',
      description: 'then keep streaming live messages until Ctrl-C',
      default: false,
    },
  },
} as const satisfies CommandSpec

/** `sealpost log export`. @example parseCommandArgs(logExportSpec, ['--out', 'alice.json']) */
export const logExportSpec = {
  name: 'log export',
  summary: "write this device's tamper-evident log as a transcript anyone can verify",
  options: {
    out: { type: 'string', value: 'FILE', description: 'write to FILE', defaultText: 'default stdout' },
    device,
  },
} as const satisfies CommandSpec

/** `sealpost log proof`. @example parseCommandArgs(logProofSpec, ['0xab…', '--out', 'proof.json']) */
export const logProofSpec = {
  name: 'log proof',
  args: '0xMESSAGE|ENTRY',
  summary: 'write the statement proof of an anchored message, for `verify --on-chain` or a contract',
  details: [
    'The message is its id (as `send` prints it) or its entry index in the log; it must be anchored: its receipt',
    'in the log. The proof is { statement, signature, receipt } (protocol §15).',
  ],
  options: {
    out: { type: 'string', value: 'FILE', description: 'write to FILE', defaultText: 'default stdout' },
    device,
  },
} as const satisfies CommandSpec

/** `sealpost log`. @example formatCommandHelp(logSpec) */
export const logSpec = {
  name: 'log',
  summary: "this device's tamper-evident log",
  options: {},
  subcommands: [logExportSpec, logProofSpec],
} as const satisfies CommandSpec

/** `sealpost history send`. @example parseCommandArgs(historySendSpec, ['--to-device', laptopId]) */
export const historySendSpec = {
  name: 'history send',
  summary:
    "seal this device's past conversations to a new device of the account (it verifies and imports them)",
  details: [
    'Run it on a device that has the history, once the new device is registered and has connected once.',
  ],
  options: {
    'to-device': {
      type: 'string',
      value: '0xID',
      description: 'the new device (another device of this account)',
    },
    conversation: {
      type: 'string',
      value: '0xID[,0xID…]',
      description: 'only these conversations',
      defaultText: 'default all',
    },
    wait: {
      type: 'string',
      value: 'S',
      description: 'wait up to S seconds for the new device to publish its first key package',
      default: '0',
    },
    device,
    relay,
  },
} as const satisfies CommandSpec

/** `sealpost history`. @example formatCommandHelp(historySpec) */
export const historySpec = {
  name: 'history',
  summary: 'history for a new device of this account',
  options: {},
  subcommands: [historySendSpec],
} as const satisfies CommandSpec

/** `sealpost verify`. @example parseCommandArgs(verifySpec, ['alice.transcript.json']) */
export const verifySpec = {
  name: 'verify',
  args: 'FILE',
  summary:
    'check a transcript, a receipt or a statement proof against the pinned deployment (exit 1 on failure)',
  details: [
    'The deployment trusted is --registry/--anchor, else --deployment FILE (env SEALPOST_DEPLOYMENT), else',
    '<home>/deployment.json: never the addresses the file names.',
  ],
  options: {
    registry: { type: 'string', value: 'ADDR', description: 'trust this KeyRegistry (with --anchor)' },
    anchor: { type: 'string', value: 'ADDR', description: 'trust this MessageAnchor (with --registry)' },
    'on-chain': {
      type: 'boolean',
      description:
        'for a statement proof (`log proof`) or each anchored message of a transcript: ask the StatementVerifier too',
      default: false,
    },
    verifier: {
      type: 'string',
      value: 'ADDR',
      description: 'trust this StatementVerifier (with --on-chain)',
    },
    mirror: {
      type: 'string',
      value: 'FILE',
      description:
        'check a statement proof or transcript from chain B alone: FILE pins its SealpostMirror ({ rpcUrl, chainId, mirror }); exit 3 while not yet mirrored',
    },
    'chain-id': {
      type: 'string',
      value: 'N',
      description: 'the chain of --registry/--anchor',
      defaultText: "default the RPC's",
    },
  },
} as const satisfies CommandSpec

/** `sealpost help`. @example parseCommandArgs(helpSpec, ['send']) */
export const helpSpec = {
  name: 'help',
  args: '[COMMAND]',
  summary: 'this list, or the help of COMMAND',
  options: {},
} as const satisfies CommandSpec

/**
 * Every top-level command, in the order `sealpost --help` lists them.
 *
 * @example COMMANDS.map((c) => c.name) // ['up', 'relay', …]
 */
export const COMMANDS: readonly CommandSpec[] = [
  upSpec,
  relaySpec,
  dashboardSpec,
  demoSpec,
  deploySpec,
  idSpec,
  sendSpec,
  inboxSpec,
  groupSpec,
  logSpec,
  historySpec,
  verifySpec,
  idsSpec,
  validatorSpec,
  helpSpec,
]

/**
 * The options every command takes (main strips them before the command parses its own).
 *
 * @example GLOBAL_OPTIONS.home.type // 'string'
 */
export const GLOBAL_OPTIONS = {
  home: {
    type: 'string',
    value: 'DIR',
    description: 'key store and state',
    env: 'SEALPOST_HOME',
    defaultText: 'default ~/.sealpost',
  },
  rpc: {
    type: 'string',
    value: 'URL',
    description: 'EVM JSON-RPC endpoint',
    env: 'SEALPOST_RPC',
    defaultText: "default the deployment's, else http://127.0.0.1:8545",
  },
  deployment: {
    type: 'string',
    value: 'FILE',
    description: 'the deployment to use and trust',
    env: 'SEALPOST_DEPLOYMENT',
    defaultText: 'default <home>/deployment.json',
  },
  'passphrase-env': {
    type: 'string',
    value: 'VAR',
    description: 'read the key-store passphrase from env VAR',
    defaultText: 'default SEALPOST_PASSPHRASE',
  },
  'max-key-age': {
    type: 'string',
    value: 'AGE',
    description: "inbox, send, group: first rotate the device's keys if older than AGE (30d, 12h, 90m)",
    env: 'SEALPOST_MAX_KEY_AGE',
  },
  json: { type: 'boolean', description: 'machine-readable result on stdout; progress stays on stderr' },
  debug: { type: 'boolean', description: 'print stack traces' },
  help: { type: 'boolean', short: 'h', description: 'this text, or with a command its own help' },
  version: { type: 'boolean', description: 'print the version' },
} as const satisfies Record<string, OptionSpec>

/**
 * Finds the spec for `command` (and `sub`, for `id`, `group` and `log`): the subcommand's if it names one.
 *
 * @example findCommand('id', 'new')?.name // 'id new'
 */
export function findCommand(command: string, sub?: string): CommandSpec | undefined {
  const spec = COMMANDS.find((c) => c.name === command)
  return spec?.subcommands?.find((s) => s.name === `${command} ${sub}`) ?? spec
}

/**
 * `sealpost --help`: every command (and subcommand) and the global options.
 *
 * @example process.stdout.write(globalHelp())
 */
export function globalHelp(): string {
  const rows: [string, string][] = []
  for (const c of COMMANDS) {
    if (c.subcommands) for (const s of c.subcommands) rows.push([nameWithArgs(s), s.summary])
    else rows.push([nameWithArgs(c), c.summary])
  }
  const width = Math.max(...rows.map(([n]) => n.length)) + 2
  return `${[
    'sealpost: secure messaging with identities on Ethereum and MLS end-to-end encryption',
    '',
    'Usage: sealpost [global options] <command> [options]',
    '',
    'Commands:',
    ...rows.map(([n, s]) => `  ${n.padEnd(width)} ${s}`),
    '',
    'Global options:',
    ...formatOptions(GLOBAL_OPTIONS),
    '',
    'Run `sealpost <command> --help` (or `sealpost help <command>`) for the options of a command.',
  ].join('\n')}\n`
}

const nameWithArgs = (c: CommandSpec) => (c.args ? `${c.name} ${c.args}` : c.name)
