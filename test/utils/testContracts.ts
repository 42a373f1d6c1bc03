/** Test helper: compiles and deploys the test-only contracts in contracts/test/ (never shipped, never in artifacts). */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Abi, Address, Hex } from 'viem'
import { compilerSettings, readImport } from '../../scripts/build-contracts.js'
import type { ChainContext, TestWalletClient } from './anvil.js'

const require = createRequire(import.meta.url)

/**
 * ABI and creation bytecode of one test contract.
 *
 * @example const { abi, bytecode } = compileTestContracts('AnchorWrapper.sol').AnchorWrapper!
 */
export type TestContract = { abi: Abi; bytecode: Hex }

/**
 * Compiles `contracts/test/<file>` with solc-js (same settings and `@openzeppelin/` imports as the shipped contracts) and returns every
 * contract in it by name. Throws with solc's messages on failure.
 *
 * @example const { AnchorWrapper } = compileTestContracts('AnchorWrapper.sol')
 */
export function compileTestContracts(file: string): Record<string, TestContract> {
  const solc = require('solc') as { compile(input: string, callbacks: object): string }
  const content = readFileSync(new URL(`../../contracts/test/${file}`, import.meta.url), 'utf8')
  const input = { language: 'Solidity', sources: { [file]: { content } }, settings: compilerSettings }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: readImport })) as {
    errors?: { severity: string; formattedMessage: string }[]
    contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>
  }
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'))
  return Object.fromEntries(
    Object.entries(output.contracts[file] ?? {}).map(([name, c]) => [
      name,
      { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` as Hex },
    ]),
  )
}

/**
 * Deploys a compiled test contract and returns its address.
 *
 * @example const wrapper = await deployTestContract(ctx.walletClient, ctx.publicClient, AnchorWrapper)
 */
export async function deployTestContract(
  wallet: TestWalletClient,
  publicClient: ChainContext['publicClient'],
  contract: TestContract,
): Promise<Address> {
  const hash = await wallet.deployContract({ abi: contract.abi, bytecode: contract.bytecode, args: [] })
  const { contractAddress } = await publicClient.waitForTransactionReceipt({ hash })
  if (!contractAddress) throw new Error('test contract deployment failed')
  return contractAddress
}
