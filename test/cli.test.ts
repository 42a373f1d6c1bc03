/** The `sealpost` CLI as a user runs it: real processes, a real anvil, one-line typed errors and exit codes. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startAnvil } from '../src/chain/anvil.js'
import { writeDeployment } from '../src/client/deployment.js'
import { DEVICE_STEPS } from '../src/demo/devices.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type CliResult, sealpost as runSealpost } from './utils/cli.js'

/** `sealpost ARGS…` with a passphrase set (a test may override or empty it). */
const sealpost = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
  runSealpost(args, { SEALPOST_PASSPHRASE: 'cli test passphrase', ...env }, { timeoutMs: 180_000 })

let ctx: ChainContext
let home: string

beforeAll(async () => {
  ctx = await setupChain()
  home = mkdtempSync(join(tmpdir(), 'sealpost-cli-'))
  writeDeployment(home, {
    chainId: ctx.anvil.chainId,
    keyRegistry: ctx.contracts.keyRegistry,
    messageAnchor: ctx.contracts.messageAnchor,
    deployBlock: ctx.deployBlock,
    rpcUrl: ctx.anvil.rpcUrl,
  })
})

afterAll(async () => {
  await ctx?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

test('demo --json runs the whole scenario and exits 0 with every step passing; --out writes the same summary', async () => {
  const out = join(home, 'demo.json')
  const { code, stdout } = await sealpost(['demo', '--json', '--out', out])
  const summary = JSON.parse(stdout)
  expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(summary)
  expect(summary.steps.filter((s: { ok: boolean }) => !s.ok)).toEqual([])
  expect(code).toBe(0)
  expect(summary.ok).toBe(true)
  const names = summary.steps.map((s: { name: string }) => s.name)
  expect(names).toEqual(
    expect.arrayContaining([
      'deploy contracts',
      'start relay',
      'register Alice',
      'register Bob',
      'Alice sends while Bob is offline',
      'Bob comes back: everything, in order',
      'receipts arrive and verify',
      'messages reach final',
      'tampered envelope (id recomputed)',
      'replayed envelope',
      "a revoked device's message, forwarded anyway",
      'export and verify a transcript',
      'a tampered transcript fails verification',
      "attack 1 refused: outsider's planted 1:1 group",
      'attack 2 refused: revoked device sending from an old epoch',
      "attack 2 refused at the statement layer: revoked device's late statement",
      'attack 3 refused: forged transcript against a look-alike registry',
    ]),
  )
  expect(summary.steps.every((s: { ok: boolean }) => s.ok)).toBe(true)
  const late = summary.steps.find((s: { name: string }) => s.name.includes('at the statement layer'))
  expect(late?.detail).toBe(
    "the thief's transcript fails verify with RevokedBeforeAnchorError [SEALPOST_REVOKED_BEFORE_ANCHOR]",
  )
  // Issue 11: the team group's steps, in order, each with its outcome.
  const detail = (name: string) => summary.steps.find((s: { name: string }) => s.name === name)?.detail
  const team = [
    'register Carol and Dave',
    'Alice creates the team group "ops"',
    "a member's message reaches every member, verified",
    "a non-admin's change is refused by the SDK",
    "attack 4 refused: a non-admin's forged commit promoting itself in the team group",
    'Alice removes Dave from "ops"',
    "the removed member's saved state fails to open the next message",
  ]
  expect(names.filter((n: string) => team.includes(n))).toEqual(team)
  expect(detail(team[1] as string)).toMatch(/^4 accounts, 4 devices, epoch 1; admin: Alice$/)
  expect(detail(team[2] as string)).toContain(
    'from Bob, verified by Alice, Carol and Dave; Bob sees it delivered to 3 of 3 members',
  )
  expect(detail(team[3] as string)).toBe('rejected with NotGroupAdminError [SEALPOST_NOT_GROUP_ADMIN]')
  expect(detail(team[4] as string)).toBe(
    'Alice, Bob, Dave refused it with ConversationPolicyError [SEALPOST_CONVERSATION_POLICY], rule not-admin',
  )
  expect(detail(team[5] as string)).toMatch(
    /^epoch 2: (Alice|Bob|Carol), (Alice|Bob|Carol), (Alice|Bob|Carol);/,
  )
  expect(detail(team[6] as string)).toBe("Dave's saved state of epoch 1 cannot open the message of epoch 2")
  // Issue 12: the devices act, in order: a laptop linked by approval, a rotation, a revocation, peers alerted.
  const devices = Object.values(DEVICE_STEPS) as string[]
  expect(names.filter((n: string) => devices.includes(n))).toEqual(devices)
  expect(detail(DEVICE_STEPS.approve)).toMatch(/^shown "laptop", fingerprints match the laptop's;/)
  expect(detail(DEVICE_STEPS.autoJoin)).toMatch(/^member of 2 of 2 conversations /)
  expect(detail(DEVICE_STEPS.history)).toMatch(/^\d+ messages of 2 conversations verified/)
  expect(detail(DEVICE_STEPS.addedAlert)).toMatch(/^2 of 2 peers;/)
  expect(detail(DEVICE_STEPS.afterRotation)).toContain(
    "from Bob's new device, verified by Alice and her laptop",
  )
  expect(detail(DEVICE_STEPS.rotatedAlert)).toMatch(/^3 of 3 peers;/)
  expect(detail(DEVICE_STEPS.revoke)).toMatch(/; the laptop is in 0 of 2 conversations$/)
  expect(detail(DEVICE_STEPS.revokedAlert)).toBe(
    "2 of 2 peers; Alice's safety number is back to the one before the laptop",
  )
}, 200_000)

describe('id commands against a real chain', () => {
  test('new, add-device, show, revoke-device', async () => {
    const created = await sealpost(['--home', home, '--json', 'id', 'new'])
    expect(created.code).toBe(0)
    const { account } = JSON.parse(created.stdout)
    expect(account).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(statSync(join(home, 'account.json')).mode & 0o777).toBe(0o600)
    expect(statSync(join(home, 'devices', 'default', 'device.json')).mode & 0o777).toBe(0o600)

    // A fresh account has no ether; fund it on the local chain so it can submit its own registrations.
    await ctx.publicClient.request({
      method: 'anvil_setBalance' as never,
      params: [account, '0xde0b6b3a7640000'] as never,
    })

    const added = await sealpost(['--home', home, '--json', 'id', 'add-device'])
    expect(added.stderr).toContain('Registering the device')
    expect(added.code).toBe(0)
    expect(JSON.parse(added.stdout)).toMatchObject({ ok: true, txHash: expect.stringMatching(/^0x/) })

    const laptop = await sealpost(['--home', home, '--json', 'id', 'add-device', '--device', 'laptop'])
    expect(laptop.code).toBe(0)
    const laptopId = JSON.parse(laptop.stdout).deviceId

    const revoked = await sealpost(['--home', home, '--json', 'id', 'revoke-device', 'laptop'])
    expect(revoked.code).toBe(0)
    expect(JSON.parse(revoked.stdout)).toMatchObject({ ok: true, deviceId: laptopId })

    const shown = await sealpost(['--home', home, 'id', 'show'])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain(account)
    expect(shown.stdout).toMatch(/default\s+0x[0-9a-f]{64}\s+active since block \d+/)
    expect(shown.stdout).toMatch(/laptop\s+0x[0-9a-f]{64}\s+revoked at block \d+/)
  }, 180_000)
})

describe('bad input: one line, a stable code, a non-zero exit', () => {
  const oneLine = (r: CliResult) => r.stderr.trim().split('\n')

  test('wrong passphrase', async () => {
    const r = await sealpost(['--home', home, 'id', 'add-device'], { SEALPOST_PASSPHRASE: 'not it' })
    expect(r.code).toBe(1)
    expect(oneLine(r)).toHaveLength(1)
    expect(r.stderr).toMatch(/^WrongPassphraseError \[SEALPOST_WRONG_PASSPHRASE\]: /)
  })

  test('unreachable RPC', async () => {
    const r = await sealpost(['--home', home, '--rpc', 'http://127.0.0.1:9', 'id', 'add-device'])
    expect(r.code).toBe(1)
    expect(oneLine(r)).toHaveLength(1)
    expect(r.stderr).toMatch(/^RpcUnreachableError \[SEALPOST_RPC_UNREACHABLE\]: /)
    expect(r.stderr).toContain('start a local stack with `sealpost up`, or point --rpc')
  })

  test('wrong chain id', async () => {
    await using other = await startAnvil({ chainId: 999 })
    const r = await sealpost(['--home', home, '--rpc', other.rpcUrl, 'id', 'add-device'])
    expect(r.code).toBe(1)
    expect(oneLine(r)).toHaveLength(1)
    expect(r.stderr).toMatch(/^WrongChainError \[SEALPOST_WRONG_CHAIN\]: .*chain 999/)
  })

  test('no identity under --home', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sealpost-cli-empty-'))
    const r = await sealpost(['--home', empty, 'id', 'show'])
    rmSync(empty, { recursive: true, force: true })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^IdentityNotFoundError \[SEALPOST_IDENTITY_NOT_FOUND\]: /)
  })

  test('missing passphrase', async () => {
    const r = await sealpost(['--home', home, 'id', 'add-device'], { SEALPOST_PASSPHRASE: '' })
    expect(r.code).toBe(1)
    expect(oneLine(r)).toHaveLength(1)
    expect(r.stderr).toMatch(/^MissingPassphraseError \[SEALPOST_MISSING_PASSPHRASE\]: /)
    // The hint names what exists: the variable, or --passphrase-env (there is no --passphrase option).
    expect(r.stderr).toContain(
      'Set SEALPOST_PASSPHRASE, or name another variable holding it with --passphrase-env VAR',
    )
    expect(r.stderr).not.toMatch(/--passphrase\b(?!-)/)
  })

  test('malformed device id and unknown command', async () => {
    const bad = await sealpost(['--home', home, 'id', 'revoke-device', '0x1234'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^ArgumentError \[SEALPOST_BAD_ARGUMENT\]: Device id must be/)
    const unknown = await sealpost(['frobnicate'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/^ArgumentError \[SEALPOST_BAD_ARGUMENT\]: Unknown command "frobnicate"/)
  })

  test('verify: every malformed file is one typed line and exit 1; nothing pinned is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-cli-verify-'))
    const file = (name: string, content: string | Uint8Array) => {
      writeFileSync(join(dir, name), content)
      return join(dir, name)
    }
    const png = Uint8Array.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
    ])
    const cases: [string, RegExp][] = [
      [file('null.json', 'null'), /^EvidenceKindError \[SEALPOST_EVIDENCE_UNKNOWN\]: .*Got: null/],
      [file('number.json', '42'), /^EvidenceKindError \[SEALPOST_EVIDENCE_UNKNOWN\]: .*Got: a number/],
      [file('array.json', '[1,2]'), /^EvidenceKindError \[SEALPOST_EVIDENCE_UNKNOWN\]: .*Got: an array of 2/],
      [file('object.json', '{"hello":1}'), /^EvidenceKindError \[SEALPOST_EVIDENCE_UNKNOWN\]/],
      [file('empty.json', ''), /^JsonSyntaxError \[SEALPOST_JSON_INVALID\]: .*empty input/],
      [
        file('dup.json', '{"entries":[],"entries":[]}'),
        /^JsonSyntaxError \[SEALPOST_JSON_INVALID\]: .*duplicate key "entries"/,
      ],
      [file('image.png', png), /^EvidenceFileError \[SEALPOST_EVIDENCE_UNREADABLE\]: .*not UTF-8/],
      [join(dir, 'missing.json'), /^EvidenceFileError \[SEALPOST_EVIDENCE_UNREADABLE\]: .*no such file/],
      [dir, /^EvidenceFileError \[SEALPOST_EVIDENCE_UNREADABLE\]: .*is a directory/],
      [
        file('bad-transcript.json', '{"version":1,"entries":[null]}'),
        /^TranscriptFormatError \[SEALPOST_TRANSCRIPT_MALFORMED\]/,
      ],
      [file('bad-receipt.json', '{"root":"0x12"}'), /^[A-Za-z]+Error \[SEALPOST_[A-Z_]+\]: /],
    ]
    try {
      for (const [path, expected] of cases) {
        const r = await sealpost(['--home', home, 'verify', path])
        expect(r.code, path).toBe(1)
        expect(oneLine(r), path).toHaveLength(1)
        expect(r.stderr, path).toMatch(expected)
      }
      const empty = mkdtempSync(join(tmpdir(), 'sealpost-cli-empty-'))
      const r = await sealpost(['--home', empty, '--rpc', ctx.anvil.rpcUrl, 'verify', join(dir, 'null.json')])
      rmSync(empty, { recursive: true, force: true })
      expect(r.code).toBe(1)
      expect(oneLine(r)).toHaveLength(1)
      expect(r.stderr).toMatch(/^DeploymentRequiredError \[SEALPOST_DEPLOYMENT_REQUIRED\]: /)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 300_000)

  test("sending to one's own address is refused before any MLS work", async () => {
    const { account } = JSON.parse((await sealpost(['--home', home, '--json', 'id', 'show'])).stdout)
    const r = await sealpost(['--home', home, 'send', account.toLowerCase(), 'hi me'])
    expect(r.code).toBe(1)
    expect(oneLine(r)).toHaveLength(1)
    expect(r.stderr).toMatch(
      /^SelfMessageError \[SEALPOST_SEND_TO_SELF\]: 0x[0-9a-fA-F]{40} is this home's own account/,
    )
    expect(r.stderr).not.toContain('Connecting')
  })

  test('an unreachable relay says what to start', async () => {
    const peer = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
    const r = await sealpost(['--home', home, 'send', peer, 'hi', '--relay', 'ws://127.0.0.1:9'])
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      /^RelayUnreachableError \[SEALPOST_RELAY_UNREACHABLE\]: .*start a local stack with `sealpost up`, or point --relay/,
    )
  }, 60_000)

  test('no deployment: the hint names --deployment FILE and SEALPOST_DEPLOYMENT', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'sealpost-cli-bare-'))
    try {
      expect((await sealpost(['--home', bare, 'id', 'new'])).code).toBe(0)
      const r = await sealpost(['--home', bare, 'id', 'add-device'])
      expect(r.code).toBe(1)
      expect(oneLine(r)).toHaveLength(1)
      expect(r.stderr).toMatch(/^DeploymentNotFoundError \[SEALPOST_NO_DEPLOYMENT\]: /)
      expect(r.stderr).toContain('--deployment FILE or SEALPOST_DEPLOYMENT')
      expect(r.stderr).not.toContain('--registry')
    } finally {
      rmSync(bare, { recursive: true, force: true })
    }
  })

  test('no ether: add-device with no sponsor reachable, and deploy, say what is missing and what to do', async () => {
    // Progress lines (`… Deploying keyRegistry`) may come first; the error itself is one line.
    const errorLines = (r: CliResult) => oneLine(r).filter((l) => !l.startsWith('… '))
    const poor = mkdtempSync(join(tmpdir(), 'sealpost-cli-poor-'))
    try {
      const created = await sealpost(['--home', poor, '--rpc', ctx.anvil.rpcUrl, '--json', 'id', 'new'])
      expect(created.code).toBe(0)
      const deployment = ['--deployment', join(home, 'deployment.json')]
      const add = await sealpost([
        '--home',
        poor,
        ...deployment,
        'id',
        'add-device',
        '--relay',
        'ws://127.0.0.1:9',
      ])
      expect(add.code).toBe(1)
      expect(errorLines(add)).toHaveLength(1)
      expect(errorLines(add)[0]).toMatch(
        /^SponsorUnreachableError \[SEALPOST_SPONSOR_UNREACHABLE\]: .*URL: http:\/\/127\.0\.0\.1:9\/v1\/sponsor; .*`sealpost up`.*--relay.*fund the account/,
      )
      const deploy = await sealpost(['--home', poor, '--rpc', ctx.anvil.rpcUrl, 'deploy'])
      expect(deploy.code).toBe(1)
      expect(errorLines(deploy)).toHaveLength(1)
      expect(errorLines(deploy)[0]).toMatch(
        /^InsufficientFundsError \[SEALPOST_INSUFFICIENT_FUNDS\]: .*too little ether.*fund the account/,
      )
    } finally {
      rmSync(poor, { recursive: true, force: true })
    }
  }, 120_000)

  test('--json puts the error on stdout as an object', async () => {
    const r = await sealpost(['--home', home, '--json', 'id', 'add-device'], {
      SEALPOST_PASSPHRASE: 'not it',
    })
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'SEALPOST_WRONG_PASSPHRASE' } })
  })
})
