/** Gas of one on-chain authorship verification (StatementVerifier.verify) with proofs of 0, 10 and 14 hashes, and its parts. */
import { type Address, encodeFunctionData, type Hex, hexToBytes, toHex } from 'viem'
import { keyRegistryAbi } from '../contracts/artifacts/KeyRegistry.js'
import { messageAnchorAbi } from '../contracts/artifacts/MessageAnchor.js'
import { batchTree } from '../src/anchor/batchTree.js'
import { anchorRoot } from '../src/chain/messageAnchor.js'
import {
  encodeVerifyCalldata,
  prepareVerifyCall,
  type VerifyCallInput,
} from '../src/chain/statementVerifier.js'
import { signStatement } from '../src/crypto/statementSignature.js'
import { inclusionProof } from '../src/protocol/merkle.js'
import { statementLeaf, statementSigningInput } from '../src/protocol/statement.js'
import { registerTestDevice } from '../test/utils/devices.js'
import { benchChain } from './lib/chain.js'
import { type BenchContext, type BenchOutput, target } from './lib/report.js'

/** The gas limit for one verification with a 14-hash proof (a 16,384-leaf batch) that this benchmark checks. */
export const VERIFIER_GAS_TARGET = 150_000

const rand32 = (): Hex => toHex(crypto.getRandomValues(new Uint8Array(32)))

/** Calldata gas of `data` (EIP-2028: 4 per zero byte, 16 per other byte). */
function calldataGas(data: Hex): number {
  let gas = 0
  for (const b of hexToBytes(data)) gas += b === 0 ? 4 : 16
  return gas
}

/** Runs the verifier gas benchmark (deterministic gas: --quick measures the same, once). */
export async function runVerifierGas({ log }: BenchContext): Promise<BenchOutput> {
  const chain = await benchChain()
  try {
    const { keyRegistry: registry, messageAnchor, statementVerifier } = chain.contracts
    const alice = chain.walletClients[1]!
    const device = await registerTestDevice(chain, alice)
    const head = await chain.publicClient.getBlock()
    const signed = signStatement({
      key: device.keys.signingKey,
      statement: {
        version: 2,
        chainId: chain.anvil.chainId,
        registry,
        from: alice.account.address,
        device: device.deviceId,
        conversation: rand32(),
        epoch: 1n,
        recipientsRoot: rand32(),
        seq: 1n,
        sentAt: Date.now(),
        block: { number: head.number, hash: head.hash },
        bodyHash: rand32(),
        salt: rand32(),
      },
    })
    const leaf = statementLeaf(signed.bytes, signed.signature)
    const sizes = [1, 1024, 16_384] as const
    const inputs: { size: number; input: VerifyCallInput }[] = []
    for (const size of sizes) {
      const index = size === 1 ? 0 : size / 2 + 3
      const leaves = Array.from({ length: size }, (_, i) => (i === index ? leaf : rand32()))
      const tree = batchTree(leaves)
      await anchorRoot(chain.walletClient, { contract: messageAnchor, root: tree.root, leafCount: size })
      const receipt = {
        submitter: chain.walletClient.account.address,
        root: tree.root,
        index,
        treeSize: size,
        path: inclusionProof(tree, index),
      }
      inputs.push({
        size,
        input: await prepareVerifyCall(chain.publicClient, {
          registry,
          statement: signed.bytes,
          signature: signed.signature,
          receipt,
        }),
      })
    }
    await chain.mine()
    const from = chain.walletClient.account.address
    const measure = async (to: Address, data: Hex) => {
      const total = Number(await chain.publicClient.estimateGas({ account: from, to, data }))
      return { total, execution: total - 21_000 - calldataGas(data) }
    }

    const rows: Record<string, string | number>[] = []
    const verify: Record<number, { total: number; execution: number }> = {}
    for (const { size, input } of inputs) {
      const m = await measure(statementVerifier, encodeVerifyCalldata(input))
      verify[size] = m
      const hashes = input.receipt.path.length
      rows.push({
        call: `StatementVerifier.verify, proof of ${hashes} hashes (${size.toLocaleString('en-US')}-leaf batch)`,
        'tx gas': m.total,
        'execution gas': m.execution,
      })
      log(`verifier gas: proof of ${hashes} hashes: ${m.total} (execution ${m.execution})`)
    }
    const big = inputs[2]!.input
    const inclusion = await measure(
      messageAnchor,
      encodeFunctionData({
        abi: messageAnchorAbi,
        functionName: 'verifyInclusion',
        args: [
          big.receipt.submitter,
          big.receipt.root,
          leaf,
          BigInt(big.receipt.index),
          [...big.receipt.path],
        ],
      }),
    )
    rows.push({
      call: 'baseline: MessageAnchor.verifyInclusion, the same 14-hash proof',
      'tx gas': inclusion.total,
      'execution gas': inclusion.execution,
    })
    const digest = toHex(
      new Uint8Array(await crypto.subtle.digest('SHA-256', statementSigningInput(signed.bytes))),
    )
    const precompile = await measure(
      '0x0000000000000000000000000000000000000100',
      `${digest}${signed.signature.slice(2)}${device.keys.p256X.slice(2)}${device.keys.p256Y.slice(2)}` as Hex,
    )
    rows.push({
      call: 'P256VERIFY precompile alone (0x100)',
      'tx gas': precompile.total,
      'execution gas': precompile.execution,
    })
    const record = await measure(
      registry,
      encodeFunctionData({ abi: keyRegistryAbi, functionName: 'deviceRecord', args: [device.deviceId] }),
    )
    const index = await measure(
      registry,
      encodeFunctionData({
        abi: keyRegistryAbi,
        functionName: 'accountIndex',
        args: [alice.account.address],
      }),
    )
    rows.push({
      call: 'KeyRegistry reads alone (deviceRecord + accountIndex, each a cold call)',
      'tx gas': record.total + index.total,
      'execution gas': record.execution + index.execution,
    })
    const perHash = (verify[16_384]!.execution - verify[1]!.execution) / 14
    rows.push({
      call: 'one more proof hash (from the 0- and 14-hash rows)',
      'tx gas': '',
      'execution gas': Math.round(perHash),
    })

    const headline = verify[16_384]!.total
    const calldataBytes = hexToBytes(encodeVerifyCalldata(big)).length
    return {
      title: 'StatementVerifier gas: one on-chain authorship verification',
      baseline: {
        name: 'MessageAnchor.verifyInclusion, 14-hash proof (inclusion only)',
        value: inclusion.total,
        unit: 'gas',
      },
      headline: {
        name: 'StatementVerifier.verify, 14-hash proof (16,384-leaf batch)',
        value: headline,
        unit: 'gas',
      },
      ratio: headline / inclusion.total,
      ratioMeaning:
        'verify gas divided by an inclusion check of the same proof: what proving the signer, key validity and time costs on top',
      columns: ['call', 'tx gas', 'execution gas'],
      rows,
      targets: [
        target('verify, 14-hash proof (tx gas)', headline, '<=', VERIFIER_GAS_TARGET, 'gas'),
        target('verify, 10-hash proof (tx gas)', verify[1024]!.total, '<=', VERIFIER_GAS_TARGET, 'gas'),
      ],
      notes: [
        'eth_estimateGas of each call on `anvil --hardfork osaka` (EIP-7951 P256VERIFY at 0x100), one registered device, one anchored batch per proof length; gas does not vary between runs beyond calldata zero bytes, so --quick measures the same.',
        `"execution gas" is tx gas minus the 21,000 base and the calldata (4 gas per zero byte, 16 per other byte); verify's calldata with the 14-hash proof is ${calldataBytes} bytes (274-byte statement, 64-byte signature, key, the ${big.successorHeader.length / 2 - 1}-byte RLP header of the block after the referenced one, receipt and path).`,
        'The parts are measured as separate transactions (each with cold accounts and slots), so they add up to more than their share inside verify.',
      ],
    }
  } finally {
    await chain.stop()
  }
}
