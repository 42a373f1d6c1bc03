/**
 * `sealpost id link` and `sealpost id approve` as people type them, against `sealpost up`: a new device on its own
 * home asks to join Alice's account, Alice's device (the only holder of the account key) approves it through the
 * relay's sponsor, and the waiting new device reports itself active; with --send-history Alice's device then seals
 * its history to the new device once it has connected. No ether anywhere, no key file copied.
 */
import { expect, test } from 'vitest'
import { type CliProcess, lines, sealpost, sharedUp, startSealpost, waitForOutput } from './utils/cli.js'

const { homes, joined } = sharedUp('cli link passphrase')

test('id link prints a request and a QR code and waits; id approve shows the fingerprints, refuses without a terminal, approves with --yes and sends its history (replays: test/linkDevice.e2e.test.ts)', async () => {
  const alice = homes.make('alice')
  const laptop = homes.make('laptop')
  const created = await sealpost(['--home', alice, 'id', 'new'], joined)
  expect(created.code, created.stderr).toBe(0)
  const account = /^account\s+(0x[0-9a-fA-F]{40})$/m.exec(created.stdout)?.[1] as string
  // Alice's own device is registered (through the sponsor), so it can send its history to the new one.
  const added = await sealpost(['--home', alice, 'id', 'add-device'], joined)
  expect(added.code, added.stderr).toBe(0)

  const linking = await startSealpost(
    ['--home', laptop, 'id', 'link', '--account', account, '--name', 'laptop'],
    /Waiting for the approval/,
    joined,
  )
  let approving: CliProcess | undefined
  try {
    const shown = linking.output()
    const uri = /sealpost id approve (sealpost:link\?v=1&r=[A-Za-z0-9_-]+)/.exec(shown)?.[1] as string
    expect(uri, shown).toBeDefined()
    expect(shown).toMatch(/[█▀▄]{20,}/) // the QR code
    const p256 = /^P-256\s+((?:[0-9a-f]{4} ){7}[0-9a-f]{4})$/m.exec(shown)?.[1] as string
    expect(p256, shown).toBeDefined()

    // No terminal and no --yes: the request is shown, then refused; nothing signed.
    const asked = await sealpost(['--home', alice, 'id', 'approve', uri], joined)
    expect(asked.code).toBe(1)
    expect(asked.stdout).toContain(`P-256    ${p256}`)
    expect(lines(asked.stderr).at(-1)).toMatch(
      /^LinkApprovalDeclinedError \[SEALPOST_LINK_APPROVAL_DECLINED\]/,
    )

    // --send-history: once approved, Alice's device waits for the laptop's first key package and sends its history.
    approving = await startSealpost(
      [
        '--home',
        alice,
        'id',
        'approve',
        uri,
        '--yes',
        '--fingerprint',
        p256,
        '--send-history',
        '--wait',
        '120',
      ],
      /active since block/,
      joined,
    )
    expect(approving.output()).toMatch(/device\s+laptop 0x[0-9a-f]{64} active since block \d+/)

    // The new device saw itself become active and exits.
    await waitForOutput(linking.output, 'active since block', 60_000)
    expect(await linking.exited).toBe(0)

    // The linked device works without the account key: it authenticates to the relay and reads its inbox.
    const inbox = await sealpost(['--home', laptop, 'inbox', '--device', 'laptop'], joined)
    expect(inbox.code, inbox.stderr).toBe(0)
    expect(inbox.stderr).toContain('authenticated')
    // That first connection published the laptop's key packages: the approving device sealed its history to one.
    expect(await approving.exited, approving.output()).toBe(0)
    expect(approving.output()).toMatch(/^history\s+0x[0-9a-f]{64}$/m)
  } finally {
    await linking.stop().catch(() => undefined)
    await approving?.stop().catch(() => undefined)
  }
}, 300_000)
