/**
 * The README's CLI journey, command for command: `sealpost up` in the background; Alice and Bob, each with their own
 * home, join it with only the line `up` printed; nobody funds anything or copies a file (the relay sponsors
 * registrations); Bob away while Alice writes three times; Bob's inbox, inbox --follow, send --wait final,
 * log export, verify, and a revoked device refused.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPublicClient, http } from 'viem'
import { expect, test } from 'vitest'
import { lines, sealpost, sharedUp, startSealpost, waitForOutput } from './utils/cli.js'

/** `joined`: what another user's shell holds after typing the line `up` printed. */
const { homes, joined } = sharedUp('cli journey passphrase', ['--batch-ms', '300'])

/** Every journey command as typed (`sealpost` and its arguments), in order, to compare with the README. */
const typed: string[][] = []

/** `sealpost --home HOME ARGS…` in a shell that typed the join line. */
const as = (home: string, args: string[]) => {
  typed.push(['sealpost', '--home', home, ...args])
  return sealpost(['--home', home, ...args], joined)
}

/** The `sealpost` lines of the README's CLI section, split as a shell would (comments dropped). */
function readmeJourney(): string[][] {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8')
  const start = readme.indexOf('## The CLI\n')
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
  return block
    .split('\n')
    .filter((l) => l.startsWith('sealpost '))
    .map((l) =>
      [...l.replace(/\s+#.*$/, '').matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] ?? m[2]) as string),
    )
}

/** `sealpost --home HOME id new` then `id add-device`: a new user with no ether, registered through the sponsor. */
async function newUser(home: string): Promise<string> {
  const created = await as(home, ['id', 'new'])
  expect(created.code, created.stderr).toBe(0)
  const account = /^account\s+(0x[0-9a-fA-F]{40})$/m.exec(created.stdout)?.[1] as string
  expect(account, created.stdout).toBeDefined()
  const added = await as(home, ['id', 'add-device'])
  expect(added.code, added.stderr).toBe(0)
  expect(added.stdout).toMatch(/device\s+default 0x[0-9a-f]{64} active since block \d+/)
  return account
}

test('the README journey: join with the printed line, Bob away for three messages, inbox, --follow, --wait final, export, verify, revoked device refused', async () => {
  const aliceHome = homes.make('alice')
  const bobHome = homes.make('bob')
  const alice = await newUser(aliceHome)
  const bob = await newUser(bobHome)

  // Bob comes online once (his device publishes its key packages), then goes away.
  const first = await as(bobHome, ['inbox'])
  expect(first.code, first.stderr).toBe(0)
  expect(first.stderr).toContain('Catching up with the relay: 0 new')

  // Alice writes three times while Bob is away.
  const texts = ['first while away', 'second while away', 'third while away']
  for (const text of texts) {
    const sent = await as(aliceHome, ['send', bob, text])
    expect(sent.code, sent.stderr).toBe(0)
  }

  // Bob is back: all three, in order, each verified.
  const inbox = await as(bobHome, ['inbox'])
  expect(inbox.code, inbox.stderr).toBe(0)
  const away = inbox.stdout.split('\n').filter((l) => l.includes('while away'))
  expect(away).toHaveLength(3)
  for (const [i, text] of texts.entries())
    expect(away[i]).toMatch(new RegExp(`${alice}\\s+✓ verified\\s+${text}$`, 'i'))
  expect(inbox.stderr).toContain('Catching up with the relay: 3 new')

  // Live: Bob follows while Alice sends and waits until her message is final.
  typed.push(['sealpost', '--home', bobHome, 'inbox', '--follow', '&'])
  const follow = await startSealpost(
    ['--home', bobHome, 'inbox', '--follow'],
    /Following; Ctrl-C to stop/,
    joined,
  )
  try {
    const sent = await as(aliceHome, ['send', bob, 'live hello', '--wait', 'final'])
    expect(sent.code, sent.stderr).toBe(0)
    // One line per state after accepted, in order, ending at the one asked for.
    const waits = [...sent.stderr.matchAll(/✓ Waiting until the message is (\w+)/g)].map((m) => m[1])
    expect(waits).toEqual(['delivered', 'anchored', 'final'])
    expect(sent.stdout).toMatch(/^state\s+final$/m)
    await waitForOutput(follow.output, 'live hello')
    expect(follow.output()).toMatch(new RegExp(`${alice}\\s+✓ verified\\s+live hello`, 'i'))
  } finally {
    expect(await follow.stop()).toBe(0)
  }

  // Alice's log as a transcript anyone can verify from the chain alone.
  const transcript = join(aliceHome, 'alice.json')
  const exported = await as(aliceHome, ['log', 'export', '--out', transcript])
  expect(exported.code, exported.stderr).toBe(0)
  const verified = await as(aliceHome, ['verify', transcript])
  expect(verified.code, verified.stdout + verified.stderr).toBe(0)
  expect(verified.stdout).not.toContain('✗')
  // Every line once: the verdict is printed once, last.
  const out = lines(verified.stdout)
  expect(out.at(-1)).toMatch(/^✓ transcript verified \(\d+ checks/)
  expect(out.filter((l) => l === out.at(-1))).toHaveLength(1)
  expect(new Set(out).size, verified.stdout).toBe(out.length)
  // A forged entry fails verify, naming it.
  const forged = JSON.parse(readFileSync(transcript, 'utf8'))
  const entry = forged.entries.find((e: { kind: string }) => e.kind === 'sent')
  entry.data.body = 'hello from a forger'
  const forgedFile = join(aliceHome, 'forged.json')
  writeFileSync(forgedFile, JSON.stringify(forged))
  // (Not a README step: a check that verify is not a rubber stamp.)
  const refuted = await sealpost(['--home', aliceHome, 'verify', forgedFile], joined)
  expect(refuted.code).toBe(1)
  expect(refuted.stdout).toMatch(new RegExp(`✗.*entry ${entry.index}`))
  const refutedLines = lines(refuted.stdout)
  expect(refutedLines.at(-1)).toMatch(/^✗ transcript does not verify/)
  expect(new Set(refutedLines).size, refuted.stdout).toBe(refutedLines.length)

  // A second device for Alice, revoked on chain (sponsored too): it can no longer send.
  expect((await as(aliceHome, ['id', 'add-device', '--device', 'phone'])).code).toBe(0)
  const revoked = await as(aliceHome, ['id', 'revoke-device', 'phone'])
  expect(revoked.code, revoked.stderr).toBe(0)
  expect(revoked.stdout).toMatch(/revoked at block \d+/)
  const refused = await as(aliceHome, ['send', '--device', 'phone', bob, 'hi'])
  expect(refused.code).toBe(1)
  // One line (after the progress line), a stable code, and a hint naming what to use instead.
  expect(lines(refused.stderr).at(-1)).toMatch(
    /^RelayAuthError \[SEALPOST_RELAY_AUTH_REFUSED\]: .*RELAY_DEVICE_REVOKED.*revoked on chain.*--device NAME/,
  )

  // The README's CLI section is this journey: the same commands, in the same order (`up` here adds free ports).
  const names = new Map([
    [aliceHome, '~/alice'],
    [bobHome, '~/bob'],
    [bob, '0xBob…'],
    [transcript, 'alice.json'],
  ])
  expect([['sealpost', 'up', '&'], ...typed.map((args) => args.map((a) => names.get(a) ?? a))]).toEqual(
    readmeJourney(),
  )

  // Nobody funded anything: both accounts still hold no ether; every transaction was the relay's.
  const chain = createPublicClient({ transport: http(joined.SEALPOST_RPC) })
  for (const account of [alice, bob])
    expect(await chain.getBalance({ address: account as `0x${string}` })).toBe(0n)
}, 600_000)
