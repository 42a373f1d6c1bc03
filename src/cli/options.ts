/** Declarative command options: one table per command both parses its arguments and prints its --help. */
import { parseArgs } from 'node:util'
import { ArgumentError } from './errors.js'

/**
 * One option of a command: its flag, type, what it does, and its default (printed in --help).
 *
 * @example const relay: OptionSpec = { type: 'string', value: 'URL', description: 'relay WebSocket URL' }
 */
export type OptionSpec = {
  type: 'string' | 'boolean'
  /** One-letter alias, e.g. `h` for `-h`. */
  short?: string
  /** Placeholder for the value in --help, e.g. `URL` (string options only). */
  value?: string
  description: string
  /** The environment variable that sets it when the flag is absent (printed in --help). */
  env?: string
  /** Applied when the flag is absent, and printed in --help. */
  default?: string | boolean
  /** Printed in --help when the default comes from somewhere other than `default`. */
  defaultText?: string
}

/**
 * A command (or subcommand, e.g. `id new`): its usage line, what it does, its options, and how many positionals it
 * takes.
 *
 * @example const spec = { name: 'inbox', summary: 'what arrived while away', options: { follow: { type: 'boolean', description: 'stream live' } } } satisfies CommandSpec
 */
export type CommandSpec = {
  /** As typed: `send`, `id new`. */
  name: string
  /** Positional arguments, e.g. `PEER TEXT…`; empty when there are none. */
  args?: string
  /** One line for the command list. */
  summary: string
  /** More lines for the command's --help. */
  details?: readonly string[]
  options: Readonly<Record<string, OptionSpec>>
  /** Subcommands (`id`, `log`): the command itself only dispatches. */
  subcommands?: readonly CommandSpec[]
}

/** The parsed values of a command's options: booleans are booleans, strings with a default are strings. */
export type OptionValues<O extends Readonly<Record<string, OptionSpec>>> = {
  [K in keyof O]: O[K] extends { type: 'boolean' }
    ? boolean
    : O[K] extends { default: string }
      ? string
      : string | undefined
}

/**
 * Parses `argv` with the command's option table (node:util parseArgs, strict). An unknown option, a missing value
 * or an unexpected positional is an ArgumentError naming the flag and `sealpost <command> --help`.
 *
 * @example const { values, positionals } = parseCommandArgs(sendSpec, ['0xBob…', 'hi', '--wait', 'final'])
 */
export function parseCommandArgs<S extends CommandSpec>(
  spec: S,
  argv: string[],
): { values: OptionValues<S['options']>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }> =
    {}
  for (const [name, o] of Object.entries(spec.options))
    options[name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}),
    }
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals: spec.args !== undefined && spec.args !== '',
      strict: true,
    })
    return { values: values as OptionValues<S['options']>, positionals }
  } catch (err) {
    throw argumentErrorOf(spec, err)
  }
}

/** Turns node:util parseArgs's TypeError into an ArgumentError that names the flag and where help is. */
function argumentErrorOf(spec: CommandSpec, err: unknown): unknown {
  const code = (err as { code?: string }).code
  const message = (err as Error).message ?? ''
  const quoted = /'([^']+)'/.exec(message)?.[1]
  const help = `Run \`sealpost ${spec.name} --help\` for its options.`
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new ArgumentError(`Unknown option ${quoted} for \`sealpost ${spec.name}\`.`, {
        metaMessages: [help],
        cause: err,
      })
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = quoted?.split(' ')[0] ?? 'an option'
      const what = message.includes('does not take an argument')
        ? `${flag} takes no value.`
        : `${flag} needs a value.`
      return new ArgumentError(what, { metaMessages: [help], cause: err })
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new ArgumentError(`\`sealpost ${spec.name}\` takes no argument ${JSON.stringify(quoted)}.`, {
        metaMessages: [help],
        cause: err,
      })
    default:
      return err
  }
}

/**
 * The --help text of a command, from its table: usage, summary, details, subcommands and every option.
 *
 * @example process.stdout.write(formatCommandHelp(sendSpec))
 */
export function formatCommandHelp(spec: CommandSpec): string {
  const lines: string[] = []
  const hasOptions = Object.keys(spec.options).length > 0
  const usage = spec.subcommands
    ? `sealpost ${spec.name} <${spec.subcommands.map((s) => s.name.split(' ').at(-1)).join('|')}> [options]`
    : `sealpost ${spec.name}${hasOptions ? ' [options]' : ''}${spec.args ? ` ${spec.args}` : ''}`
  lines.push(`Usage: ${usage}`, '', `${spec.summary.charAt(0).toUpperCase()}${spec.summary.slice(1)}.`)
  if (spec.details?.length) lines.push('', ...spec.details)
  if (spec.subcommands) {
    lines.push('', 'Commands:')
    const width = Math.max(...spec.subcommands.map((s) => s.name.length)) + 2
    for (const s of spec.subcommands) lines.push(`  ${s.name.padEnd(width)} ${s.summary}`)
    lines.push('', `Run \`sealpost ${spec.name} <command> --help\` for a command's options.`)
  }
  lines.push('', 'Options:', ...formatOptions({ ...spec.options, help: HELP_OPTION }))
  lines.push(
    '',
    'Global options (--home, --rpc, --deployment, --passphrase-env, --json, --debug): `sealpost --help`.',
  )
  return `${lines.join('\n')}\n`
}

/** `-h, --help`: every command takes it. */
export const HELP_OPTION: OptionSpec = {
  type: 'boolean',
  short: 'h',
  description: 'this text',
}

/**
 * Option lines for --help: flag and value placeholder, then description and default, aligned.
 *
 * @example formatOptions({ follow: { type: 'boolean', description: 'stream live' } }) // ['  --follow  stream live']
 */
export function formatOptions(options: Readonly<Record<string, OptionSpec>>): string[] {
  const flags = Object.entries(options).map(
    ([name, o]) =>
      `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`,
  )
  const width = Math.max(0, ...flags.map((f) => f.length)) + 2
  return Object.values(options).map((o, i) => {
    const def =
      o.defaultText ??
      (typeof o.default === 'string' && o.default !== '' ? `default ${o.default}` : undefined)
    const notes = [o.env ? `env ${o.env}` : undefined, def].filter((n) => n !== undefined)
    return `  ${(flags[i] as string).padEnd(width)} ${o.description}${notes.length ? ` (${notes.join(', ')})` : ''}`
  })
}
