import type { Hex } from 'viem'
import { createPublicClient, createWalletClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterEach, describe, expect, it } from 'vitest'
import { Anchorer, AnchorerInputError } from '../anchor/Anchorer.js'
import { anvilPrivateKeys } from '../chain/anvil.js'
import { forwardLeaves } from './forwardLeaves.js'

const h32 = (i: number): Hex => `0x${i.toString(16).padStart(64, '0')}`
const transport = http('http://127.0.0.1:9') // never called: the anchorer is not started
const anchorers: Anchorer[] = []
afterEach(async () => {
  for (const a of anchorers.splice(0)) await a.stop()
})

describe('forwardLeaves', () => {
  it("hands the relay's LEAF submissions to the anchorer, which persists them for the next batch", () => {
    const anchorer = new Anchorer({
      walletClient: createWalletClient({ account: privateKeyToAccount(anvilPrivateKeys[0]), transport }),
      publicClient: createPublicClient({ transport }),
      contract: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
      db: { path: ':memory:' },
    })
    anchorers.push(anchorer)
    const seen: Hex[] = []
    anchorer.on('leaf', ({ leaf }) => seen.push(leaf))
    const sink = forwardLeaves(anchorer)
    sink.submit({ leaf: h32(1), topic: h32(2), submitter: h32(3) })
    expect(seen).toEqual([h32(1)])
    expect(anchorer.stats().pending).toBe(1)
  })

  it('throws input errors back to the relay', () => {
    const calls: unknown[] = []
    const sink = forwardLeaves({
      submit: (s) => {
        calls.push(s)
        throw new AnchorerInputError({ field: 'leaf' })
      },
    })
    expect(() => sink.submit({ leaf: '0x12', topic: h32(2), submitter: h32(3) })).toThrow(AnchorerInputError)
    expect(calls).toEqual([{ leaf: '0x12', topic: h32(2), submitter: h32(3) }])
  })
})
