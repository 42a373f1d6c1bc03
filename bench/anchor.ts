/** Anchor benchmark: gas per message and send-to-receipt time of Merkle-batched anchoring against one transaction per message. */
import { randomBytes } from 'node:crypto'
import { bytesToHex, type Hex } from 'viem'
import { anchorRoot } from '../src/chain/messageAnchor.js'
import { buildMerkleTree, inclusionProof } from '../src/protocol/merkle.js'
import { benchChain } from './lib/chain.js'
import { type BenchContext, type BenchOutput, target } from './lib/report.js'

/** Intrinsic transaction gas plus one fresh storage slot (cold SSTORE 0 → non-zero, EIP-2929/3529). */
export const STORAGE_FLOOR_GAS = 21_000 + 22_100

/** Runs the anchor benchmark. */
export async function runAnchor({ quick, log }: BenchContext): Promise<BenchOutput> {
  const sizes = [1, 10, 100, 1000, 10_000]
  const naiveCount = quick ? 10 : 100
  const chain = await benchChain()
  const contract = chain.contracts.messageAnchor
  const leaves = (n: number): Hex[] => Array.from({ length: n }, () => bytesToHex(randomBytes(32)))
  try {
    // Naive: one anchor transaction per message, each storing one leaf hash.
    let naiveGas = 0n
    const naiveStart = performance.now()
    for (const leaf of leaves(naiveCount)) {
      const { gasUsed } = await anchorRoot(chain.walletClient, {
        contract,
        root: leaf,
        leafCount: 1,
        meta: '0x',
      })
      naiveGas += gasUsed
    }
    const naiveMs = (performance.now() - naiveStart) / naiveCount
    const naivePerMsg = Number(naiveGas) / naiveCount
    log(`anchor: naive ${naivePerMsg.toFixed(0)} gas/msg, ${naiveMs.toFixed(1)} ms/msg`)

    const rows: Record<string, string | number>[] = []
    const perMsg = new Map<number, number>()
    for (const n of sizes) {
      const batch = leaves(n)
      const start = performance.now()
      const tree = buildMerkleTree(batch)
      const proofs = batch.map((_, i) => inclusionProof(tree, i))
      const built = performance.now()
      const { gasUsed } = await anchorRoot(chain.walletClient, {
        contract,
        root: tree.root,
        leafCount: n,
        meta: '0x',
      })
      const done = performance.now()
      const gas = Number(gasUsed)
      perMsg.set(n, gas / n)
      rows.push({
        'batch size': n,
        'gas (tx)': gas,
        'gas/msg': gas / n,
        'storage floor gas/msg': STORAGE_FLOOR_GAS / n,
        'naive gas/msg': naivePerMsg,
        'saving vs naive': naivePerMsg / (gas / n),
        'tree+proofs ms': built - start,
        'send to receipt ms': done - start,
        'proof hashes': proofs[0]?.length ?? 0,
      })
      log(`anchor: batch ${n}: ${gas} gas, ${(gas / n).toFixed(2)} gas/msg, ${(done - start).toFixed(1)} ms`)
    }
    const at1k = perMsg.get(1000)!
    const at10k = perMsg.get(10_000)!
    return {
      title: 'Anchoring: gas per message, batched vs one transaction per message',
      baseline: {
        name: 'naive: one MessageAnchor.anchor(leaf, 1) transaction per message',
        value: naivePerMsg,
        unit: 'gas/msg',
      },
      headline: { name: 'batched anchoring at 1,000 leaves', value: at1k, unit: 'gas/msg' },
      ratio: naivePerMsg / at1k,
      ratioMeaning:
        'naive gas per message divided by batched gas per message at 1,000 leaves; above 1 is cheaper',
      columns: [
        'batch size',
        'gas (tx)',
        'gas/msg',
        'storage floor gas/msg',
        'naive gas/msg',
        'saving vs naive',
        'tree+proofs ms',
        'send to receipt ms',
        'proof hashes',
      ],
      rows,
      targets: [
        target(
          'gas per message at 1k',
          at1k,
          '<=',
          25,
          'gas',
          `unreachable with any transaction that stores one slot: (21,000 intrinsic + 22,100 SSTORE) / 1,000 = ${(STORAGE_FLOOR_GAS / 1000).toFixed(1)}`,
        ),
        target('gas per message at 10k', at10k, '<=', 5, 'gas'),
      ],
      notes: [
        `Naive baseline: ${naiveCount} separate \`anchor(leafHash, 1, 0x)\` transactions, ${naivePerMsg.toFixed(0)} gas and ${naiveMs.toFixed(1)} ms each (send to receipt, anvil automine).`,
        `Storage-only floor: a transaction that stores one 32-byte slot costs at least 21,000 + 22,100 = ${STORAGE_FLOOR_GAS.toLocaleString('en-US')} gas; per message that is ${STORAGE_FLOOR_GAS} / batch size. MessageAnchor adds calldata, the packed (submitter, block, timestamp, leafCount) slot write and the Anchored event on top.`,
        'Send to receipt: building the RFC 6962 tree and every inclusion proof, submitting the root and waiting for the receipt on anvil (automine, 1 confirmation). On a real chain add the block time; in production a message also waits for its batch to close (N leaves or T ms, whichever first).',
        'Batches use leafCount equal to the batch size (the contract allows up to 2^24 − 1).',
      ],
      series: {
        gas: sizes
          .map((n) => ({ batch: n, kind: 'batched', gasPerMsg: perMsg.get(n)! }))
          .concat(sizes.map((n) => ({ batch: n, kind: 'storage floor', gasPerMsg: STORAGE_FLOOR_GAS / n })))
          .concat(sizes.map((n) => ({ batch: n, kind: 'naive', gasPerMsg: naivePerMsg }))),
      },
    }
  } finally {
    await chain.stop()
  }
}
