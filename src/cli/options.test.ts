import { describe, expect, test } from 'vitest'
import { COMMANDS, findCommand, GLOBAL_OPTIONS, globalHelp, relaySpec, upSpec } from './commands.js'
import { ArgumentError } from './errors.js'
import { type CommandSpec, formatCommandHelp, parseCommandArgs } from './options.js'
import { parseStackFlags } from './up.js'

const every = COMMANDS.flatMap((c) => [c, ...(c.subcommands ?? [])])

describe('one table per command parses and prints help', () => {
  test.each(every.map((c) => [c.name, c] as const))('%s --help lists every option it parses', (_, spec) => {
    const help = formatCommandHelp(spec)
    expect(help).toMatch(new RegExp(`^Usage: sealpost ${spec.name}`))
    for (const [name, option] of Object.entries(spec.options)) {
      const line = help.split('\n').find((l) => l.trimStart().startsWith(`--${name}`))
      expect(line, `--${name}`).toContain(option.description)
      // The option parses: a string takes a value, a boolean none.
      const args = option.type === 'string' ? [`--${name}`, 'x'] : [`--${name}`]
      expect(() => parseCommandArgs(spec, args)).not.toThrow()
    }
    expect(help).toContain('-h, --help')
    expect(help).not.toBe(globalHelp())
  })

  test('the global help lists every command and every global option', () => {
    const help = globalHelp()
    for (const spec of every) if (!spec.subcommands) expect(help).toContain(`  ${spec.name}`)
    for (const name of Object.keys(GLOBAL_OPTIONS)) expect(help).toContain(`--${name}`)
  })

  test('up and relay parse every option their table lists (the table gates what reaches them)', () => {
    for (const [spec, local] of [
      [upSpec, true],
      [relaySpec, false],
    ] as const) {
      for (const [name, option] of Object.entries(spec.options as CommandSpec['options'])) {
        // These read a key from the environment: covered by the CLI tests.
        if (name === 'anchor-key-env' || name === 'sponsor-key-env') continue
        const value = name.endsWith('host') ? '127.0.0.1' : name === 'nats' ? 'nats://127.0.0.1:4222' : '1'
        const args = option.type === 'string' ? [`--${name}`, value] : [`--${name}`]
        expect(() => parseStackFlags(spec, args, { local }), `${spec.name} --${name}`).not.toThrow()
      }
    }
  })

  test("up's and relay's sponsor flags are in their help and reach the stack; a flag the table lacks is refused", () => {
    for (const spec of [upSpec, relaySpec]) {
      const help = formatCommandHelp(spec)
      for (const flag of [
        '--sponsor-key-env VAR',
        '--no-sponsor',
        '--sponsor-per-ip N',
        '--sponsor-per-account N',
        '--sponsor-daily-budget-wei WEI',
      ])
        expect(help, `${spec.name} ${flag}`).toContain(flag)
    }
    const { stack } = parseStackFlags(
      upSpec,
      [
        '--no-sponsor',
        '--sponsor-per-ip',
        '3',
        '--sponsor-per-account',
        '2',
        '--sponsor-daily-budget-wei',
        '7',
      ],
      { local: true },
    )
    expect(stack).toMatchObject({
      noSponsor: true,
      sponsorPolicy: { perIp: 3, perAccount: 2, dailyBudgetWei: 7n },
    })
    expect(() => parseStackFlags(relaySpec, ['--demo'], { local: false })).toThrow(
      /^Unknown option --demo for `sealpost relay`\./,
    )
  })

  test('relay --nats takes comma-separated nats:// URLs to the stack; anything else is an ArgumentError', () => {
    const { stack } = parseStackFlags(relaySpec, ['--nats', 'nats://10.0.0.1:4222, nats://10.0.0.2:4222'], {
      local: false,
    })
    expect(stack.nats).toEqual(['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222'])
    expect(parseStackFlags(relaySpec, [], { local: false }).stack.nats).toBeUndefined()
    expect(() => parseStackFlags(relaySpec, ['--nats', 'http://x:1'], { local: false })).toThrow(
      /^--nats must be/,
    )
  })

  test('an unknown option, a missing value and an extra positional are ArgumentErrors naming the help', () => {
    const inbox = findCommand('inbox') as CommandSpec
    const cases: [string[], RegExp][] = [
      [['--nope'], /^Unknown option --nope for `sealpost inbox`\.$/],
      [['--relay'], /^--relay needs a value\.$/],
      [['--follow=yes'], /^--follow takes no value\.$/],
      [['extra'], /^`sealpost inbox` takes no argument "extra"\.$/],
    ]
    for (const [args, message] of cases) {
      let thrown: unknown
      try {
        parseCommandArgs(inbox, args)
      } catch (err) {
        thrown = err
      }
      expect(thrown).toBeInstanceOf(ArgumentError)
      expect((thrown as ArgumentError).shortMessage).toMatch(message)
      expect((thrown as ArgumentError).metaMessages).toEqual(['Run `sealpost inbox --help` for its options.'])
    }
  })

  test('defaults apply and subcommands resolve', () => {
    expect(parseCommandArgs(findCommand('send') as CommandSpec, ['0xabc', 'hi']).values).toEqual({
      device: 'default',
      wait: 'accepted',
      timeout: '120',
      via: 'relay',
    })
    expect(findCommand('id', 'new')?.name).toBe('id new')
    expect(findCommand('id')?.name).toBe('id')
    expect(findCommand('nope')).toBeUndefined()
  })
})

describe('IDS flags', () => {
  test('up runs the IDS unless --no-ids; relay only with --ids', () => {
    expect(parseStackFlags(upSpec, [], { local: true }).stack.ids).toBe(true)
    expect(parseStackFlags(upSpec, ['--no-ids'], { local: true }).stack.ids).toBe(false)
    expect(parseStackFlags(relaySpec, [], { local: false }).stack.ids).toBe(false)
    expect(parseStackFlags(relaySpec, ['--ids'], { local: false }).stack.ids).toBe(true)
    expect(formatCommandHelp(relaySpec)).toContain('--ids')
    expect(formatCommandHelp(upSpec)).toContain('--no-ids')
  })
})
