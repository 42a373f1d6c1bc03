/** Re-anchored batches: a reorg is a warning; a batch from another chain's database is said as such, not as a reorg. */
import type { Hex } from 'viem'
import { expect, test } from 'vitest'
import { reanchoredAlert } from './anchorer.js'

const h = (byte: string) => `0x${byte.repeat(64)}` as Hex
const event = { batchId: 4, root: h('1'), previousTxHash: h('2'), txHash: h('3') }

test('an anchor removed by a reorg and anchored again at or past its old block is ANCHOR_REORGED', () => {
  expect(reanchoredAlert({ ...event, previousBlockNumber: 40n, blockNumber: 42n })).toMatchObject({
    code: 'ANCHOR_REORGED',
    severity: 'warning',
  })
})

test('an anchor recorded past the head of a fresh chain is from an earlier run: ANCHOR_STATE_FOREIGN, info', () => {
  const alert = reanchoredAlert({ ...event, previousBlockNumber: 300n, blockNumber: 6n })
  expect(alert).toMatchObject({ code: 'ANCHOR_STATE_FOREIGN', severity: 'info' })
  expect(alert.message).toContain('another chain')
})
