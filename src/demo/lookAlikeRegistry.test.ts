/** The demo's look-alike KeyRegistry is exactly contracts/test/KeyRegistryLookAlike.sol as solc compiles it today. */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { expect, test } from 'vitest'
import { compilerSettings } from '../../scripts/build-contracts.js'
import { lookAlikeRegistryAbi, lookAlikeRegistryBytecode } from './lookAlikeRegistry.js'

const file = 'KeyRegistryLookAlike.sol'

test('the embedded ABI and bytecode match a fresh compile of the test contract', { timeout: 60_000 }, () => {
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string): string }
  const content = readFileSync(new URL(`../../contracts/test/${file}`, import.meta.url), 'utf8')
  const input = { language: 'Solidity', sources: { [file]: { content } }, settings: compilerSettings }
  const output = JSON.parse(solc.compile(JSON.stringify(input)))
  const fresh = output.contracts[file].KeyRegistryLookAlike
  const stale = `src/demo/lookAlikeRegistry.ts is stale: recompile contracts/test/${file} and paste its ABI and bytecode`
  expect(lookAlikeRegistryAbi, stale).toEqual(fresh.abi)
  expect(lookAlikeRegistryBytecode, stale).toBe(`0x${fresh.evm.bytecode.object}`)
})
