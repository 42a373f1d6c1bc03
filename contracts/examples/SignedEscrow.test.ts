/** SignedEscrow on anvil: pays out on the named account's anchored instruction, and on nothing else. */
import {
  type Abi,
  type Address,
  type BaseError,
  bytesToHex,
  ContractFunctionRevertedError,
  type Hex,
  parseEther,
  toHex,
} from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { compileExample } from '../../scripts/build-contracts.js'
import { batchTree } from '../../src/anchor/batchTree.js'
import { anchorRoot } from '../../src/chain/messageAnchor.js'
import { prepareVerifyCall, type VerifyCallInput, verifyArgs } from '../../src/chain/statementVerifier.js'
import type { DeviceSigningKey } from '../../src/crypto/p256.js'
import { signStatement } from '../../src/crypto/statementSignature.js'
import { inclusionProof } from '../../src/protocol/merkle.js'
import { hashBodyV2, statementLeaf } from '../../src/protocol/statement.js'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'
import { registerTestDevice } from '../../test/utils/devices.js'
import { statementVerifierAbi } from '../artifacts/StatementVerifier.js'

const { SignedEscrow } = compileExample('SignedEscrow.sol')
// The escrow's own errors plus the verifier's, which bubble up through release().
const abi = [...(SignedEscrow!.abi as Abi), ...statementVerifierAbi.filter((e) => e.type === 'error')] as Abi
const instruction = new TextEncoder().encode('release the escrow to the contractor')

let ctx: ChainContext
let escrow: Address
const inputs: Record<'valid' | 'otherText' | 'otherAccount' | 'forged', VerifyCallInput> = {} as never
const beneficiary = '0x000000000000000000000000000000000000bEEF' as Address

beforeAll(async () => {
  ctx = await setupChain()
  const [alice, bob] = [ctx.walletClients[1]!, ctx.walletClients[2]!]
  const { keyRegistry: registry, messageAnchor, statementVerifier } = ctx.contracts
  const chainId = ctx.anvil.chainId
  const aliceDevice = await registerTestDevice(ctx, alice)
  const bobDevice = await registerTestDevice(ctx, bob)

  const hash = await ctx.walletClient.deployContract({
    abi,
    bytecode: SignedEscrow!.bytecode,
    args: [statementVerifier, alice.account.address, beneficiary, hashBodyV2(1, instruction)],
    value: parseEther('1'),
  })
  escrow = (await ctx.publicClient.waitForTransactionReceipt({ hash })).contractAddress!

  const head = await ctx.publicClient.getBlock()
  const say = (from: Address, device: Hex, key: DeviceSigningKey, body: Uint8Array) =>
    signStatement({
      key,
      statement: {
        version: 2,
        chainId,
        registry,
        from,
        device,
        conversation: toHex(crypto.getRandomValues(new Uint8Array(32))),
        epoch: 1n,
        recipientsRoot: toHex(crypto.getRandomValues(new Uint8Array(32))),
        seq: 1n,
        sentAt: Date.now(),
        block: { number: head.number, hash: head.hash },
        bodyHash: hashBodyV2(1, body),
        salt: toHex(crypto.getRandomValues(new Uint8Array(32))),
      },
    })
  const signed = {
    valid: say(alice.account.address, aliceDevice.deviceId, aliceDevice.keys.signingKey, instruction),
    otherText: say(
      alice.account.address,
      aliceDevice.deviceId,
      aliceDevice.keys.signingKey,
      Uint8Array.of(0x6e, 0x6f),
    ),
    otherAccount: say(bob.account.address, bobDevice.deviceId, bobDevice.keys.signingKey, instruction),
  }
  const leaves = Object.values(signed).map((s) => statementLeaf(s.bytes, s.signature))
  const tree = batchTree(leaves)
  await anchorRoot(ctx.walletClient, { contract: messageAnchor, root: tree.root, leafCount: tree.size })
  await ctx.mine()
  const prepare = (s: (typeof signed)['valid'], index: number) =>
    prepareVerifyCall(ctx.publicClient, {
      registry,
      statement: s.bytes,
      signature: s.signature,
      receipt: {
        submitter: ctx.walletClient.account.address,
        root: tree.root,
        index,
        treeSize: tree.size,
        path: inclusionProof(tree, index),
      },
    })
  inputs.valid = await prepare(signed.valid, 0)
  inputs.otherText = await prepare(signed.otherText, 1)
  inputs.otherAccount = await prepare(signed.otherAccount, 2)
  const sig = new Uint8Array(Buffer.from(signed.valid.signature.slice(2), 'hex'))
  sig[5] = (sig[5] ?? 0) ^ 1
  inputs.forged = { ...inputs.valid, signature: bytesToHex(sig) }
}, 60_000)

afterAll(async () => {
  await ctx?.stop()
})

const release = (input: VerifyCallInput) =>
  ctx.walletClients[5]!.writeContract({
    address: escrow,
    abi,
    functionName: 'release',
    args: verifyArgs(input),
  })

async function revertOf(input: VerifyCallInput): Promise<string | undefined> {
  try {
    await ctx.publicClient.simulateContract({
      account: ctx.walletClients[5]!.account,
      address: escrow,
      abi,
      functionName: 'release',
      args: verifyArgs(input),
    })
    return undefined
  } catch (err) {
    const reverted = (err as BaseError).walk((e) => e instanceof ContractFunctionRevertedError)
    return (reverted as ContractFunctionRevertedError | null)?.data?.errorName
  }
}

describe('SignedEscrow', () => {
  test('refuses another text, another account and a forged signature; pays the beneficiary once on the instruction', async () => {
    expect(await revertOf(inputs.otherText)).toBe('WrongInstruction')
    expect(await revertOf(inputs.otherAccount)).toBe('WrongSigner')
    expect(await revertOf(inputs.forged)).toBe('StatementSignatureInvalid')
    expect(await ctx.publicClient.getBalance({ address: beneficiary })).toBe(0n)

    const hash = await release(inputs.valid)
    const receipt = await ctx.publicClient.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
    expect(await ctx.publicClient.getBalance({ address: beneficiary })).toBe(parseEther('1'))
    expect(await ctx.publicClient.getBalance({ address: escrow })).toBe(0n)
    expect(await revertOf(inputs.valid)).toBe('AlreadyReleased')
  })
})
