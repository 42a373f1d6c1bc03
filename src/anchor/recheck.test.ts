import type { Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import { recheckVerdict } from './recheck.js'

const hash: Hex = `0x${'ab'.repeat(32)}`
const stored = { blockNumber: 10n, blockHash: hash }

describe('recheckVerdict', () => {
  it('keeps a batch that is still in place and not yet deep enough', () => {
    expect(
      recheckVerdict({ stored, anchorBlock: 10n, chainBlockHash: hash, head: 20n, finalityDepth: 12 }),
    ).toBe('keep')
  })

  it('finalizes a batch finalityDepth blocks deep (its own block counts)', () => {
    expect(
      recheckVerdict({ stored, anchorBlock: 10n, chainBlockHash: hash, head: 21n, finalityDepth: 12 }),
    ).toBe('final')
  })

  it('reports a vanished anchor, a moved anchor, a replaced or missing block as moved', () => {
    const at = { stored, head: 100n, finalityDepth: 12 }
    expect(recheckVerdict({ ...at, anchorBlock: undefined, chainBlockHash: undefined })).toBe('moved')
    expect(recheckVerdict({ ...at, anchorBlock: 11n, chainBlockHash: hash })).toBe('moved')
    expect(recheckVerdict({ ...at, anchorBlock: 10n, chainBlockHash: `0x${'cd'.repeat(32)}` })).toBe('moved')
    expect(recheckVerdict({ ...at, anchorBlock: 10n, chainBlockHash: undefined })).toBe('moved')
  })
})
