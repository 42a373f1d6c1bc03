/**
 * Issue 12 on the command line: `sealpost id rotate` (through the relay's sponsor: Alice has no ether) while Bob's
 * `inbox --follow` re-adds her new device, `id revoke-others`, and the `--max-key-age` rotation policy.
 */
import { expect, test } from 'vitest'
import { sealpost, sharedUp, startSealpost } from './utils/cli.js'

const { homes, joined } = sharedUp('cli rotation passphrase', ['--batch-ms', '300'])

const as = (home: string, args: string[]) =>
  sealpost(['--home', home, ...args], joined, { timeoutMs: 180_000 })

/** `id new` then `id add-device` (sponsored); returns the account. */
async function newUser(home: string): Promise<string> {
  const created = await as(home, ['--json', 'id', 'new'])
  expect(created.code, created.stderr).toBe(0)
  expect((await as(home, ['id', 'add-device'])).code).toBe(0)
  return JSON.parse(created.stdout).account
}

test('id rotate, id revoke-others and --max-key-age: new keys in one sponsored transaction, the conversation follows, the phone is revoked', async () => {
  const aliceHome = homes.make('alice')
  const bobHome = homes.make('bob')
  await newUser(aliceHome)
  const bob = await newUser(bobHome)
  // Bob's live client publishes his key packages and, as the conversation's committer, re-adds Alice's new keys.
  const follow = await startSealpost(['--home', bobHome, 'inbox', '--follow'], /Following/, joined)
  try {
    const sent = await as(aliceHome, ['send', bob, 'before the rotation'])
    expect(sent.code, sent.stderr).toBe(0)
    // A phone that never comes online (no key packages): it must not hold up the rotated device's return.
    expect((await as(aliceHome, ['id', 'add-device', '--device', 'phone'])).code).toBe(0)
    const rotated = await as(aliceHome, ['--json', 'id', 'rotate', '--wait', '90'])
    expect(rotated.code, rotated.stderr).toBe(0)
    const result = JSON.parse(rotated.stdout)
    expect(result.deviceId).not.toBe(result.oldDeviceId)
    expect({ conversations: result.conversations, rejoined: result.rejoined }).toEqual({
      conversations: 1,
      rejoined: 1,
    })
    expect(rotated.stderr).toContain('Rotating device "default" (EIP-712 RotateDevice, one transaction)')
    expect(rotated.stderr).toMatch(/Waiting for peers to re-add this device to 1 conversations: 1 of 1/)

    const revoked = await as(aliceHome, ['--json', 'id', 'revoke-others'])
    expect(revoked.code, revoked.stderr).toBe(0)
    const others = JSON.parse(revoked.stdout)
    expect(others.kept).toBe(result.deviceId)
    expect(others.revoked).toHaveLength(1)

    const bad = await as(aliceHome, ['--max-key-age', '30 days', 'inbox'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('--max-key-age must be a whole number followed by s, m, h or d')
    const aged = await as(aliceHome, ['inbox', '--max-key-age', '1s'])
    expect(aged.code, aged.stderr).toBe(0)
    expect(aged.stdout + aged.stderr).toContain(
      `Rotated this device's keys (older than --max-key-age): ${result.deviceId} →`,
    )
  } finally {
    await follow.stop()
  }
}, 400_000)
