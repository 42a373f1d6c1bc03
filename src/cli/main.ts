/** The `sealpost` command: global flags, help and version, dispatch to one file per command, one-line errors. */
import { readFileSync } from 'node:fs'
import { COMMANDS, dashboardSpec, deploySpec, findCommand, GLOBAL_OPTIONS, globalHelp } from './commands.js'
import { createContext } from './context.js'
import { ArgumentError } from './errors.js'
import { formatCommandHelp, parseCommandArgs } from './options.js'
import { createOutput, printError } from './output.js'

type GlobalValues = {
  home?: string
  rpc?: string
  deployment?: string
  'passphrase-env'?: string
  'max-key-age'?: string
  json?: boolean
  debug?: boolean
  help?: boolean
  version?: boolean
}

/**
 * Takes the global options (from GLOBAL_OPTIONS, anywhere on the line) out of `argv`; the rest is the command and its
 * own arguments.
 *
 * @example splitGlobals(['--home', '/tmp/a', 'inbox', '--json']) // { globals: { home: '/tmp/a', json: true }, rest: ['inbox'] }
 */
export function splitGlobals(argv: string[]): { globals: GlobalValues; rest: string[] } {
  const globals: Record<string, string | boolean> = {}
  const rest: string[] = []
  const byShort = new Map(
    Object.entries(GLOBAL_OPTIONS).flatMap(([name, o]) => ('short' in o ? [[`-${o.short}`, name]] : [])),
  )
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const [flag, inline] = arg.startsWith('--') ? splitOnce(arg.slice(2), '=') : [undefined, undefined]
    const name = byShort.get(arg) ?? flag
    const spec = name !== undefined ? GLOBAL_OPTIONS[name as keyof typeof GLOBAL_OPTIONS] : undefined
    if (name === undefined || spec === undefined) {
      rest.push(arg)
      continue
    }
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new ArgumentError(`--${name} takes no value.`)
      globals[name] = true
    } else {
      const value = inline ?? argv[++i]
      if (value === undefined || (inline === undefined && value.startsWith('--')))
        throw new ArgumentError(`--${name} needs a value.`, {
          metaMessages: ['Run `sealpost --help` for the global options.'],
        })
      globals[name] = value
    }
  }
  return { globals: globals as GlobalValues, rest }
}

const splitOnce = (s: string, sep: string): [string, string | undefined] => {
  const i = s.indexOf(sep)
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)]
}

/**
 * The version in package.json.
 *
 * @example version() // '0.1.0'
 */
export function version(): string {
  return (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code.
 *
 * @example process.exitCode = await main(process.argv.slice(2))
 */
export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json')
  const debug = argv.includes('--debug')
  try {
    const { globals, rest } = splitGlobals(argv)
    if (globals.version) {
      process.stdout.write(`sealpost ${version()}\n`)
      return 0
    }
    const [command, ...args] = rest
    if ((command === 'help' && !globals.help) || (globals.help && command === undefined)) {
      process.stdout.write(helpFor(args[0], args[1]))
      return 0
    }
    if (command === undefined) {
      process.stdout.write(globalHelp())
      return 2
    }
    const spec = COMMANDS.find((c) => c.name === command)
    if (!spec)
      throw new ArgumentError(`Unknown command "${command}".`, {
        metaMessages: ['Run `sealpost --help` for the list.'],
      })
    if (globals.help) {
      process.stdout.write(helpFor(command, args[0]))
      return 0
    }
    if (spec.subcommands) {
      const [sub] = args
      if (sub === undefined) {
        process.stdout.write(formatCommandHelp(spec))
        return 2
      }
      if (!spec.subcommands.some((s) => s.name === `${command} ${sub}`))
        throw new ArgumentError(`Unknown command "${command} ${sub}".`, {
          metaMessages: [`Run \`sealpost ${command} --help\` for its commands.`],
        })
    }
    const out = createOutput({ json: globals.json === true, debug: globals.debug === true })
    const ctx = createContext({
      home: globals.home,
      rpc: globals.rpc,
      deployment: globals.deployment,
      passphraseEnv: globals['passphrase-env'],
      maxKeyAge: globals['max-key-age'],
      out,
    })
    // Each command's module is loaded when it runs: help, errors and --version load none of them.
    switch (command) {
      case 'demo':
        return (await (await import('./demo.js')).demoCommand(ctx, args)).ok ? 0 : 1
      case 'deploy':
        parseCommandArgs(deploySpec, args)
        await (await import('./deploy.js')).deployCommand(ctx)
        return 0
      case 'id':
        await (await import('./id.js')).idCommand(ctx, args)
        return 0
      case 'up':
        // up and relay parse their flags with their own tables (parseStackFlags).
        await (await import('./up.js')).upCommand(ctx, args)
        return 0
      case 'relay':
        await (await import('./up.js')).relayCommand(ctx, args)
        return 0
      case 'dashboard':
        // dashboard parses its own flags; the table refuses what it does not list first.
        parseCommandArgs(dashboardSpec, args)
        await (await import('./dashboard.js')).dashboardCommand(ctx, args)
        return 0
      case 'send':
        await (await import('./send.js')).sendCommand(ctx, args)
        return 0
      case 'inbox':
        await (await import('./inbox.js')).inboxCommand(ctx, args)
        return 0
      case 'group':
        await (await import('./group.js')).groupCommand(ctx, args)
        return 0
      case 'log':
        await (await import('./log.js')).logCommand(ctx, args)
        return 0
      case 'history':
        await (await import('./history.js')).historyCommand(ctx, args)
        return 0
      case 'verify': {
        // 3: nothing failed, but something is not yet mirrored (--mirror): verify again later.
        const verdict = await (await import('./verify.js')).verifyCommand(ctx, args)
        return verdict === true ? 0 : verdict === 'pending' ? 3 : 1
      }
      case 'ids':
        await (await import('./ids.js')).idsCommand(ctx, args)
        return 0
      case 'validator':
        await (await import('./validator.js')).validatorCommand(ctx, args)
        return 0
      default:
        throw new ArgumentError(`Unknown command "${command}".`)
    }
  } catch (err) {
    printError(err, { json, debug })
    return 1
  }
}

/** The help of `command` (and `sub`), or the global help without one. */
function helpFor(command: string | undefined, sub: string | undefined): string {
  if (command === undefined) return globalHelp()
  const spec = findCommand(command, sub)
  if (!spec)
    throw new ArgumentError(`Unknown command "${command}".`, {
      metaMessages: ['Run `sealpost --help` for the list.'],
    })
  return formatCommandHelp(spec)
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
