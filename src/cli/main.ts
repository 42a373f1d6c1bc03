/** The `sealpost` command: global flags, dispatch to one file per command, one-line errors. */
import { parseArgs } from 'node:util'
import { createContext } from './context.js'
import { dashboardCommand } from './dashboard.js'
import { demoCommand } from './demo.js'
import { deployCommand } from './deploy.js'
import { ArgumentError } from './errors.js'
import { idCommand } from './id.js'
import { inboxCommand } from './inbox.js'
import { logCommand } from './log.js'
import { createOutput, printError } from './output.js'
import { sendCommand } from './send.js'
import { relayCommand, upCommand } from './up.js'
import { verifyCommand } from './verify.js'

const help = `sealpost: secure messaging with identities on Ethereum and MLS end-to-end encryption

Usage: sealpost [global options] <command> [options]

Commands:
  up [--demo]          local chain + contracts + relay (with anchorer) + dashboard until Ctrl-C;
                       --demo adds a scripted exchange with bad actors
  dashboard            this device on a real network, live (--relay URL)
  relay                a relay (with anchorer) for --rpc and the deployment under --home
  demo                 the whole system end to end through a real relay, including rejected attacks
  deploy               deploy KeyRegistry and MessageAnchor through --rpc; record them under --home
  id new               create an account key and a first device (offline)
  id show              the account, its devices and their on-chain status
  id add-device        create (if needed) and register a device on chain
  id revoke-device     revoke a device on chain
  send PEER TEXT       send one message (--wait accepted|delivered|anchored|final)
  inbox [--follow]     what arrived while away; --follow streams live
  log export           write this device's tamper-evident log as a transcript (--out FILE)
  verify FILE          check a transcript or a receipt against the pinned deployment (--deployment,
                       --home, or --registry ADDR --anchor ADDR); non-zero exit on any failure

Global options:
  --home DIR           key store and state (env SEALPOST_HOME, default ~/.sealpost)
  --rpc URL            EVM JSON-RPC endpoint (env SEALPOST_RPC, default the recorded deployment's, or http://127.0.0.1:8545)
  --deployment FILE    the deployment to use and to trust when verifying (env SEALPOST_DEPLOYMENT,
                       default <home>/deployment.json)
  --relay URL          relay WebSocket URL for send/inbox (env SEALPOST_RELAY, default ws://127.0.0.1:8787)
  --passphrase-env V   read the key-store passphrase from env V (default SEALPOST_PASSPHRASE)
  --json               machine-readable result on stdout; progress stays on stderr
  --debug              print stack traces
  -h, --help           this text`

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code.
 *
 * @example process.exitCode = await main(process.argv.slice(2))
 */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      home: { type: 'string' },
      rpc: { type: 'string' },
      deployment: { type: 'string' },
      'passphrase-env': { type: 'string' },
      json: { type: 'boolean', default: false },
      debug: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  const json = values.json === true
  const debug = values.debug === true
  const out = createOutput({ json, debug })
  // Global flags may come anywhere; pass the command its own arguments only.
  const globals = new Set(['--json', '--debug', '--help', '-h'])
  const valued = new Set(['--home', '--rpc', '--deployment', '--passphrase-env'])
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (globals.has(a)) continue
    if (valued.has(a)) {
      i++
      continue
    }
    if ([...valued].some((v) => a.startsWith(`${v}=`))) continue
    rest.push(a)
  }
  const [command, ...args] = rest
  if (values.help || !command) {
    process.stdout.write(`${help}\n`)
    return command || values.help ? 0 : 2
  }
  try {
    const ctx = createContext({
      home: values.home as string | undefined,
      rpc: values.rpc as string | undefined,
      deployment: values.deployment as string | undefined,
      passphraseEnv: values['passphrase-env'] as string | undefined,
      out,
    })
    switch (command) {
      case 'demo':
        return (await demoCommand(ctx, args)).ok ? 0 : 1
      case 'deploy':
        await deployCommand(ctx)
        return 0
      case 'id':
        await idCommand(ctx, args)
        return 0
      case 'up':
        await upCommand(ctx, args)
        return 0
      case 'relay':
        await relayCommand(ctx, args)
        return 0
      case 'dashboard':
        await dashboardCommand(ctx, args)
        return 0
      case 'send':
        await sendCommand(ctx, args)
        return 0
      case 'inbox':
        await inboxCommand(ctx, args)
        return 0
      case 'log':
        await logCommand(ctx, args)
        return 0
      case 'verify':
        return (await verifyCommand(ctx, args)) ? 0 : 1
      default:
        throw new ArgumentError(`Unknown command "${command}".`, {
          metaMessages: ['Run `sealpost --help` for the list.'],
        })
    }
  } catch (err) {
    printError(err, { json, debug })
    return 1
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli/main.ts')) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err) => {
      printError(err, { json: false, debug: true })
      process.exitCode = 1
    },
  )
}
