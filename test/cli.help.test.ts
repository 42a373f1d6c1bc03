/** `sealpost` help, version and argument errors as a user types them: real processes, no chain needed. */
import { describe, expect, test } from 'vitest'
import { COMMANDS } from '../src/cli/commands.js'
import { lines, sealpost, sealpostInProcess } from './utils/cli.js'

/** Runs main() in this process and captures what it writes. */
const inProcess = sealpostInProcess

describe('help and version', { timeout: 120_000 }, () => {
  test('every command has its own --help listing its options; -h and `help COMMAND` print the same', async () => {
    // In process (main() with stdout captured): 50 node processes would take minutes on a small machine.
    const global = await inProcess(['--help'])
    expect(global.code).toBe(0)
    const specs = COMMANDS.flatMap((c) => [c, ...(c.subcommands ?? [])])
    for (const spec of specs) {
      const words = spec.name.split(' ')
      const flag = await inProcess([...words, '--help'])
      expect(flag.code, spec.name).toBe(0)
      expect(flag.stdout).not.toBe(global.stdout)
      expect(lines(flag.stdout)[0]).toMatch(new RegExp(`^Usage: sealpost ${spec.name}\\b`))
      for (const name of Object.keys(spec.options))
        expect(flag.stdout, `${spec.name} --${name}`).toMatch(new RegExp(`^  --${name}\\b`, 'm'))
      expect((await inProcess(['-h', ...words])).stdout).toBe(flag.stdout)
      expect((await inProcess(['help', ...words])).stdout).toBe(flag.stdout)
    }
    const send = (await inProcess(['send', '--help'])).stdout
    for (const flag of ['--device', '--wait', '--timeout', '--relay']) expect(send).toContain(flag)
    expect((await inProcess(['log', 'export', '--help'])).stdout).toContain('--out FILE')
    expect((await inProcess(['id', 'new', '--help'])).stdout).toContain('--import-key-env VAR')
    expect(send).toContain('--group NAME|ID')
    const group = await inProcess(['group', '--help'])
    for (const sub of ['create', 'add', 'remove', 'leave', 'rename', 'admins', 'list', 'show'])
      expect(group.stdout).toMatch(new RegExp(`^  group ${sub}\\s+\\S`, 'm'))
    const create = (await inProcess(['group', 'create', '--help'])).stdout
    expect(lines(create)[0]).toBe('Usage: sealpost group create [options] NAME')
    for (const flag of ['--members 0xA,0xB', '--admins 0xA,…', '--relay URL', '--device NAME'])
      expect(create).toContain(flag)
    for (const command of ['up', 'relay']) {
      const help = (await inProcess([command, '--help'])).stdout
      for (const flag of [
        '--sponsor-key-env VAR',
        '--no-sponsor',
        '--sponsor-per-ip N',
        '--sponsor-per-account N',
      ])
        expect(help, `${command} ${flag}`).toContain(flag)
      expect(help).toContain('--sponsor-daily-budget-wei WEI')
    }
    for (const sub of ['add-device', 'revoke-device'])
      expect((await inProcess(['id', sub, '--help'])).stdout).toMatch(
        /^ {2}--relay URL\s+relay whose sponsor/m,
      )
    // And through the real binary once.
    const real = await sealpost(['send', '--help'])
    expect(real.code).toBe(0)
    expect(real.stdout).toBe(send)
  }, 120_000)

  test('`sealpost id` alone prints its subcommands one per line and exits 2', async () => {
    const r = await sealpost(['id'])
    expect(r.code).toBe(2)
    expect(r.stdout).not.toContain(';')
    for (const sub of ['new', 'show', 'add-device', 'revoke-device'])
      expect(lines(r.stdout)).toContainEqual(expect.stringMatching(new RegExp(`^  id ${sub}\\s+\\S`)))
  })

  test('--version and help', async () => {
    const version = await sealpost(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^sealpost \d+\.\d+\.\d+\n$/)
    const help = await sealpost(['help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Commands:')
  })
})

describe('bad arguments: one line, a stable code, a hint that works', { timeout: 120_000 }, () => {
  const peer = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'

  test('an unknown option names the flag and the command help', async () => {
    const r = await sealpost(['inbox', '--passphrase', 'x'])
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toMatch(
      /^ArgumentError \[SEALPOST_BAD_ARGUMENT\]: Unknown option --passphrase for `sealpost inbox`\. \(Run `sealpost inbox --help` for its options\.\)/,
    )
    expect(r.stderr).not.toContain('TypeError')
    const up = await sealpost(['up', '--nope'])
    expect(up.code).toBe(1)
    expect(up.stderr).toMatch(
      /^ArgumentError \[SEALPOST_BAD_ARGUMENT\]: Unknown option --nope for `sealpost up`/,
    )
  })

  test('a malformed address and a bad checksum name the address problem', async () => {
    const cases: [string, RegExp][] = [
      ['0x1234', /it has 4 hex digits, not 40/],
      [`${peer.slice(0, 41)}c`, /EIP-55 checksum does not match/],
      ['bob', /does not start with 0x/],
    ]
    for (const [address, reason] of cases) {
      const r = await sealpost(['send', address, 'hi'])
      expect(r.code, address).toBe(1)
      expect(lines(r.stderr)).toHaveLength(1)
      expect(r.stderr).toMatch(/^AddressArgumentError \[SEALPOST_BAD_ADDRESS\]: PEER "/)
      expect(r.stderr).toMatch(reason)
    }
  })

  test('SEALPOST_RELAY=http://… is refused: ws:// or wss:// only', async () => {
    const r = await sealpost(['send', peer, 'hi'], { SEALPOST_RELAY: 'http://127.0.0.1:8787' })
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toMatch(
      /^RelayUrlError \[SEALPOST_BAD_RELAY_URL\]: SEALPOST_RELAY "http:\/\/127\.0\.0\.1:8787" is not a relay URL: use ws:\/\/ or wss:\/\//,
    )
    const flag = await sealpost(['inbox', '--relay', 'localhost:8787'])
    expect(flag.stderr).toMatch(/^RelayUrlError \[SEALPOST_BAD_RELAY_URL\]: --relay "localhost:8787"/)
  })

  test('group arguments are checked before anything connects', async () => {
    const noMembers = await sealpost(['group', 'create', 'ops'])
    expect(noMembers.code).toBe(1)
    expect(lines(noMembers.stderr)).toHaveLength(1)
    expect(noMembers.stderr).toMatch(
      /^ArgumentError \[SEALPOST_BAD_ARGUMENT\]: Name the other members with --members 0xA,0xB\./,
    )
    const badMember = await sealpost(['group', 'add', 'ops', `${peer},0x12`])
    expect(badMember.stderr).toMatch(/^AddressArgumentError \[SEALPOST_BAD_ADDRESS\]: ACCOUNT "0x12"/)
    const noAdmins = await sealpost(['group', 'admins', 'ops'])
    expect(noAdmins.code).toBe(1)
    expect(lines(noAdmins.stderr)).toHaveLength(1)
    const noText = await sealpost(['send', '--group', 'ops'])
    expect(noText.stderr).toMatch(
      /^ArgumentError \[SEALPOST_BAD_ARGUMENT\]: Name a text to send to the group\./,
    )
    const unknown = await sealpost(['group', 'frobnicate'])
    expect(unknown.stderr).toMatch(
      /^ArgumentError \[SEALPOST_BAD_ARGUMENT\]: Unknown command "group frobnicate"/,
    )
  })

  test('send --wait and --timeout are checked', async () => {
    const r = await sealpost(['send', peer, 'hi', '--wait', 'soon'])
    expect(r.stderr).toMatch(
      /^ArgumentError \[SEALPOST_BAD_ARGUMENT\]: --wait must be one of accepted, delivered, anchored, final\./,
    )
    const t = await sealpost(['send', peer, 'hi', '--timeout', 'never'])
    expect(t.stderr).toMatch(/^ArgumentError \[SEALPOST_BAD_ARGUMENT\]: --timeout must be a positive number/)
  })
})
