/** `history send` and `id approve --send-history` arguments, checked before anything connects (in process, no chain). */
import { expect, test, vi } from 'vitest'
import { main } from '../src/cli/main.js'

async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = ''
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk)
    return true
  })
  try {
    return { code: await main(args), stderr }
  } finally {
    spy.mockRestore()
  }
}

test('history send needs --to-device as a 32-byte id and conversation ids as 32-byte ids', async () => {
  expect(await run(['history', 'send'])).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('Name the new device'),
  })
  expect(await run(['history', 'send', '--to-device', '0x12'])).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('The device id must be 0x followed by 64 hex digits'),
  })
  const device = `0x${'11'.repeat(32)}`
  expect(
    await run(['history', 'send', '--to-device', device, '--conversation', `${device},0xzz`]),
  ).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('A conversation id must be 0x followed by 64 hex digits'),
  })
  expect(await run(['history', 'send', '--to-device', device, '--wait', 'soon'])).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('--wait must be a number of seconds'),
  })
  expect(await run(['history', 'bogus'])).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('history bogus'),
  })
})

test('id approve --send-history checks its --wait before anything is read or signed', async () => {
  expect(
    await run(['id', 'approve', 'sealpost:link?v=1&r=AA', '--yes', '--send-history', '--wait', 'soon']),
  ).toMatchObject({ code: 1, stderr: expect.stringContaining('--wait must be a number of seconds') })
})
