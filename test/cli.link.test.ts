/**
 * `sealpost id link` and `sealpost id approve` as people type them, against `sealpost up`: a new device on its own
 * home asks to join Alice's account, Alice's device (the only holder of the account key) approves it through the
 * relay's sponsor, and the waiting new device reports itself active. No ether anywhere, no key file copied.
 */
import { expect, test } from 'vitest'
import { lines, sealpost, sharedUp, startSealpost, waitForOutput } from './utils/cli.js'

const { homes, joined } = sharedUp('cli link passphrase')

test('id link prints a request and a QR code and waits; id approve shows the fingerprints, refuses without a terminal, approves with --yes (replays: test/linkDevice.e2e.test.ts)', async () => {
  const alice = homes.make('alice')
  const laptop = homes.make('laptop')
  const created = await sealpost(['--home', alice, 'id', 'new'], joined)
  expect(created.code, created.stderr).toBe(0)
  const account = /^account\s+(0x[0-9a-fA-F]{40})$/m.exec(created.stdout)?.[1] as string

  const linking = await startSealpost(
    ['--home', laptop, 'id', 'link', '--account', account, '--name', 'laptop'],
    /Waiting for the approval/,
    joined,
  )
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

    const approved = await sealpost(
      ['--home', alice, 'id', 'approve', uri, '--yes', '--fingerprint', p256],
      joined,
    )
    expect(approved.code, approved.stderr).toBe(0)
    expect(approved.stdout).toMatch(/device\s+laptop 0x[0-9a-f]{64} active since block \d+/)

    // The new device saw itself become active and exits.
    await waitForOutput(linking.output, 'active since block', 60_000)
    expect(await linking.exited).toBe(0)

    // The linked device works without the account key: it authenticates to the relay and reads its inbox.
    const inbox = await sealpost(['--home', laptop, 'inbox', '--device', 'laptop'], joined)
    expect(inbox.code, inbox.stderr).toBe(0)
    expect(inbox.stderr).toContain('authenticated')
  } finally {
    await linking.stop().catch(() => undefined)
  }
}, 300_000)
