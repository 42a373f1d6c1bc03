import type { Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { ExpiryNoticeBuffer } from './expiryNoticeBuffer.js'
import type { ExpiryNotice } from './transport.js'

const notice = (n: number): ExpiryNotice => ({
  topic: `0x${'aa'.repeat(32)}`,
  seq: BigInt(n),
  id: `0x${n.toString(16).padStart(64, 'B')}` as Hex,
  expiredAt: 1000 + n,
  recipients: [`0x${'cc'.repeat(32)}`],
})

describe('ExpiryNoticeBuffer', () => {
  test('each envelope id is handed on once (ids compared case-insensitively); a late listener gets what was kept', async () => {
    const buffer = new ExpiryNoticeBuffer()
    const early: ExpiryNotice[] = []
    buffer.listen((n) => early.push(n))
    expect(buffer.add(notice(1))).toBe(true)
    expect(buffer.add({ ...notice(1), id: notice(1).id.toLowerCase() as Hex })).toBe(false) // the relay repeats it
    expect(buffer.add(notice(2))).toBe(true)
    expect(early.map((n) => n.seq)).toEqual([1n, 2n])
    const late: ExpiryNotice[] = []
    const stop = buffer.listen((n) => late.push(n))
    await Promise.resolve()
    expect(late.map((n) => n.seq)).toEqual([1n, 2n])
    stop()
    buffer.add(notice(3))
    expect(late).toHaveLength(2)
    expect(early).toHaveLength(3)
  })
})
