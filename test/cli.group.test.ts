/**
 * Group chats from the command line, end to end: one `sealpost up`; Alice, Bob and Carol join with its printed line
 * (sponsored registrations); Alice creates a group, sends to it with `send --group`; Bob's inbox shows the message
 * with its sender and the group's name; Carol (no admin) is refused `group add` in one line with its hint; Alice's
 * `group show --json` lists the three members.
 */
import { expect, test } from 'vitest'
import { lines, sealpost, sharedUp } from './utils/cli.js'

const { homes, joined } = sharedUp('cli group passphrase', ['--batch-ms', '300'])

/** `sealpost --home HOME ARGS…` in a shell that typed the join line; fails the test on a non-zero exit unless told. */
async function as(home: string, args: string[], { fails = false } = {}) {
  const r = await sealpost(['--home', home, ...args], joined, { timeoutMs: 180_000 })
  if (!fails) expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0)
  return r
}

/** A new user registered through the relay's sponsor; resolves with the account address. */
async function newUser(home: string): Promise<string> {
  const created = await as(home, ['id', 'new'])
  const account = /^account\s+(0x[0-9a-fA-F]{40})$/m.exec(created.stdout)?.[1]
  expect(account, created.stdout).toBeDefined()
  await as(home, ['id', 'add-device'])
  return account as string
}

test('group create, send --group, inbox with sender and group, a non-admin refused, group show --json', async () => {
  const [aliceHome, bobHome, carolHome] = ['alice', 'bob', 'carol'].map((n) => homes.make(n)) as [
    string,
    string,
    string,
  ]
  const [alice, bob, carol] = (await Promise.all([aliceHome, bobHome, carolHome].map(newUser))) as [
    string,
    string,
    string,
  ]
  // Bob and Carol come online once: their devices publish key packages for Alice to claim.
  await Promise.all([as(bobHome, ['inbox']), as(carolHome, ['inbox'])])

  const created = await as(aliceHome, ['--json', 'group', 'create', 'ops', '--members', `${bob},${carol}`])
  const group = JSON.parse(created.stdout)
  expect(group).toMatchObject({ ok: true, name: 'ops', epoch: '1', admins: [alice], active: true })
  expect(group.members).toHaveLength(3)

  const sent = await as(aliceHome, ['send', '--group', 'ops', 'deploy', 'at', '5', '--wait', 'delivered'])
  expect(sent.stderr).toMatch(/✓ Opening the group ops: "ops", 3 members, epoch 1/)
  expect(sent.stdout).toMatch(/^state\s+(delivered|anchored|final)$/m)

  const inbox = await as(bobHome, ['inbox'])
  expect(inbox.stdout).toMatch(new RegExp(`${alice}\\s+in group "ops"\\s+✓ verified\\s+deploy at 5$`, 'im'))

  const refused = await as(carolHome, ['group', 'add', 'ops', alice], { fails: true })
  expect(refused.code).toBe(1)
  expect(lines(refused.stderr).filter((l) => !/^(…|✓) /.test(l))).toEqual([
    expect.stringMatching(
      /^NotGroupAdminError \[SEALPOST_NOT_GROUP_ADMIN\]: Only an admin of the group can change its members, admins or name\. \(Group: 0x[0-9a-f]{64}; Account: 0x[0-9a-fA-F]{40}; Only an admin can add or remove accounts, rename the group or change its admins; ask an admin or leave \(`sealpost group leave NAME`\)\)$/,
    ),
  ])

  const show = JSON.parse((await as(aliceHome, ['--json', 'group', 'show', 'ops'])).stdout)
  expect(show).toMatchObject({ ok: true, id: group.id, name: 'ops', epoch: '1', active: true })
  const members = show.members as {
    account: string
    admin: boolean
    devices: { status: string; inGroup: boolean }[]
  }[]
  expect(members.map((m) => m.account.toLowerCase()).sort()).toEqual(
    [alice, bob, carol].map((a) => a.toLowerCase()).sort(),
  )
  expect(members.filter((m) => m.admin).map((m) => m.account)).toEqual([alice])
  for (const m of members)
    expect(m.devices).toEqual([expect.objectContaining({ status: 'active', inGroup: true })])
}, 300_000)
