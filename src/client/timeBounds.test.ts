import { describe, expect, it } from 'vitest'
import { defaultTimeWindows, judgeAnchor, judgeAnchored, judgeExpired, judgeLive } from './timeBounds.js'

const statement = { device: `0x${'d1'.repeat(32)}` as const, block: { number: 100n } }
const succ = { timestamp: 1_000_000n }
const at = (number: bigint, secondsAfterSucc: number) => ({
  number,
  timestamp: succ.timestamp + BigInt(secondsAfterSucc),
})

describe('judgeAnchored', () => {
  it('verifies a statement anchored within the window by a device never revoked', () => {
    const j = judgeAnchored({ statement, referencedSuccessor: succ, anchorBlock: at(105n, 30), device: {} })
    expect(j).toEqual({ ok: true, detail: 'anchored in block 105, 30 s after block 101' })
  })

  it('verifies an anchor exactly at the window, and refuses one a second later', () => {
    const edge = judgeAnchored({
      statement,
      referencedSuccessor: succ,
      anchorBlock: at(200n, 3600),
      device: {},
    })
    expect(edge.ok).toBe(true)
    const late = judgeAnchored({
      statement,
      referencedSuccessor: succ,
      anchorBlock: at(200n, 3601),
      device: {},
    })
    expect(late.ok).toBe(false)
    if (!late.ok) {
      expect(late.error.code).toBe('SEALPOST_ANCHOR_WINDOW')
      expect(late.error.message).toContain('anchored 3601 s after block 101, window 3600 s')
    }
  })

  it('refuses an anchor at or before the referenced block', () => {
    const j = judgeAnchored({ statement, referencedSuccessor: succ, anchorBlock: at(100n, 0), device: {} })
    expect(j.ok).toBe(false)
    if (!j.ok) expect(j.error.name).toBe('AnchorWindowError')
  })

  it('refuses when the successor block is unknown', () => {
    const j = judgeAnchored({
      statement,
      referencedSuccessor: undefined,
      anchorBlock: at(105n, 1),
      device: {},
    })
    expect(j.ok).toBe(false)
    if (!j.ok) expect(j.error.code).toBe('SEALPOST_ANCHOR_WINDOW')
  })

  it('refuses a revoked device whose revocation is at or before the anchor block', () => {
    for (const revokedAt of [105n, 101n]) {
      const j = judgeAnchored({
        statement,
        referencedSuccessor: succ,
        anchorBlock: at(105n, 10),
        device: { revokedAt },
      })
      expect(j.ok).toBe(false)
      if (!j.ok) {
        expect(j.error.code).toBe('SEALPOST_REVOKED_BEFORE_ANCHOR')
        expect(j.error.message).toContain(`Revoked at block ${revokedAt}, anchored in block 105`)
      }
    }
  })

  it('verifies a device revoked after the anchor block (no false refusal)', () => {
    const j = judgeAnchored({
      statement,
      referencedSuccessor: succ,
      anchorBlock: at(105n, 10),
      device: { revokedAt: 106n },
    })
    expect(j).toEqual({
      ok: true,
      detail: 'anchored in block 105, 10 s after block 101, before the revocation at block 106',
    })
  })

  it('takes configured windows', () => {
    const j = judgeAnchored({
      statement,
      referencedSuccessor: succ,
      anchorBlock: at(105n, 61),
      device: {},
      windows: { anchorWindowMs: 60_000 },
    })
    expect(j.ok).toBe(false)
  })
})

describe('judgeLive', () => {
  const nowAfter = (seconds: number) => Number(succ.timestamp) * 1000 + seconds * 1000

  it('passes when the referenced block is still the head', () => {
    expect(judgeLive({ statement, referencedSuccessor: undefined, now: nowAfter(10_000) })).toEqual({
      ok: true,
      detail: 'block 100 is the chain head',
    })
  })

  it('passes within the live window and at its edge', () => {
    expect(judgeLive({ statement, referencedSuccessor: succ, now: nowAfter(5) })).toEqual({
      ok: true,
      detail: 'block 101 is 5 s old',
    })
    expect(judgeLive({ statement, referencedSuccessor: succ, now: nowAfter(600) }).ok).toBe(true)
  })

  it('refuses a successor older than the live window', () => {
    const j = judgeLive({ statement, referencedSuccessor: succ, now: nowAfter(601) })
    expect(j.ok).toBe(false)
    if (!j.ok) {
      expect(j.error.code).toBe('SEALPOST_STALE_BLOCK_REFERENCE')
      expect(j.error.name).toBe('StaleBlockReferenceError')
    }
  })

  it('measures at the chain head when the chain is ahead of the clock, at the clock otherwise', () => {
    const head = { timestamp: succ.timestamp + 30n * 24n * 3600n }
    const ahead = judgeLive({ statement, referencedSuccessor: succ, now: nowAfter(5), head })
    expect(ahead.ok).toBe(false)
    if (!ahead.ok) expect(ahead.error.code).toBe('SEALPOST_STALE_BLOCK_REFERENCE')
    const behind = judgeLive({ statement, referencedSuccessor: succ, now: nowAfter(5), head: succ })
    expect(behind).toEqual({ ok: true, detail: 'block 101 is 5 s old' })
  })

  it('takes configured windows', () => {
    const j = judgeLive({
      statement,
      referencedSuccessor: succ,
      now: nowAfter(61),
      windows: { liveWindowMs: 60_000 },
    })
    expect(j.ok).toBe(false)
  })
})

describe('judgeExpired', () => {
  it('keeps a statement pending while the window is open, or while the referenced block is the head', () => {
    expect(judgeExpired({ statement, referencedSuccessor: succ, head: at(150n, 3600) })).toEqual({
      ok: true,
      detail: 'the anchor window is open for 0 s more',
    })
    expect(judgeExpired({ statement, referencedSuccessor: undefined, head: at(100n, 99_999) }).ok).toBe(true)
  })

  it('refuses once the chain head is past the window', () => {
    const j = judgeExpired({ statement, referencedSuccessor: succ, head: at(150n, 3601) })
    expect(j.ok).toBe(false)
    if (!j.ok) {
      expect(j.error.code).toBe('SEALPOST_ANCHOR_WINDOW')
      expect(j.error.message).toContain('no receipt')
    }
  })

  it('uses defaults of 1 h and 10 min', () => {
    expect(defaultTimeWindows).toEqual({ anchorWindowMs: 3_600_000, liveWindowMs: 600_000 })
  })
})

describe('judgeAnchor (the chain reads of judgeAnchored, shared by receipt and transcript)', () => {
  const blocks = new Map<bigint, bigint>([
    [101n, succ.timestamp],
    [105n, succ.timestamp + 30n],
  ])
  const chain = (revokedAt?: bigint) => {
    const reads: [string, bigint][] = []
    return {
      reads,
      block: async (n: bigint) => {
        reads.push(['block', n])
        const timestamp = blocks.get(n)
        return timestamp === undefined ? undefined : { hash: '0x' as const, timestamp }
      },
      device: async (_id: `0x${string}`, atLeast: bigint) => {
        reads.push(['device', atLeast])
        return revokedAt === -1n
          ? undefined
          : {
              account: '0x' as const,
              p256X: '0x' as const,
              p256Y: '0x' as const,
              mlsPublicKey: '0x' as const,
              addedAt: 1n,
              ...(revokedAt === undefined ? {} : { revokedAt }),
            }
      },
    }
  }

  it('reads the anchor block, the block after the referenced one and the device synced to the anchor, then judges', async () => {
    const view = chain()
    expect(await judgeAnchor({ statement, anchorBlock: 105n, chain: view as never })).toEqual({
      ok: true,
      detail: 'anchored in block 105, 30 s after block 101',
    })
    expect(view.reads.sort()).toEqual([
      ['block', 101n],
      ['block', 105n],
      ['device', 105n],
    ])
  })

  it('refuses a device revoked at or before the anchor, and leaves the verdict open without a device record', async () => {
    const j = await judgeAnchor({ statement, anchorBlock: 105n, chain: chain(104n) as never })
    expect(j?.ok === false && j.error.code).toBe('SEALPOST_REVOKED_BEFORE_ANCHOR')
    expect(await judgeAnchor({ statement, anchorBlock: 105n, chain: chain(-1n) as never })).toBeUndefined()
  })
})
