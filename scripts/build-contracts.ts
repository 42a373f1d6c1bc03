// Compiles contracts/*.sol with solc-js (offline) and writes the committed TypeScript artifacts.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * The contracts this package ships, by name (file `contracts/<name>.sol`).
 *
 * @example
 * for (const name of contractNames) console.log(name)
 */
export const contractNames = [
  'KeyRegistry',
  'MessageAnchor',
  'StatementVerifier',
  'SealpostMirror',
  'SealpostMirrorSender',
  'SealpostInbox',
] as const

/**
 * One of {@link contractNames}.
 *
 * @example
 * const name: ContractName = 'KeyRegistry'
 */
export type ContractName = (typeof contractNames)[number]

/**
 * ABI, creation bytecode and provenance of one compiled contract.
 *
 * @example
 * const { abi, bytecode }: CompiledContract = compileContracts().contracts.KeyRegistry
 */
export type CompiledContract = {
  name: ContractName
  abi: readonly unknown[]
  bytecode: `0x${string}`
}

/**
 * Result of {@link compileContracts}.
 *
 * @example
 * const { inputHash }: CompileResult = compileContracts()
 */
export type CompileResult = {
  solcVersion: string
  /** SHA-256 (hex) of the complete standard-JSON input, every imported source inlined. */
  inputHash: `0x${string}`
  contracts: Record<ContractName, CompiledContract>
}

type SolcOutput = {
  errors?: { severity: string; formattedMessage: string }[]
  contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>
}

/**
 * Solidity compiler settings: optimizer on (200 runs), Prague EVM (runs on anvil's osaka hardfork).
 *
 * @example
 * compilerSettings.optimizer.runs // 200
 */
export const compilerSettings = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'prague',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
} as const

/**
 * solc-js import callback: resolves `@openzeppelin/…` imports from node_modules (offline) and `contracts/X.sol` (a
 * library the contracts share) from the repository; anything else is an error.
 * Shared by the test-contract compiler (test/utils/testContracts.ts).
 *
 * @example solc.compile(JSON.stringify(input), { import: readImport })
 */
export function readImport(path: string): { contents: string } | { error: string } {
  // A shared piece of the contracts themselves (a library such as MerkleInclusion), by its source unit name.
  if (/^contracts\/[A-Za-z0-9]+\.sol$/.test(path)) {
    const own = join(root, path)
    return existsSync(own) ? { contents: readFileSync(own, 'utf8') } : { error: `Not found: ${path}` }
  }
  if (!path.startsWith('@openzeppelin/'))
    return { error: `Import outside @openzeppelin/ and contracts/: ${path}` }
  const file = join(root, 'node_modules', path)
  if (!existsSync(file)) return { error: `Not found: ${path}` }
  return { contents: readFileSync(file, 'utf8') }
}

/**
 * Compiles the Sealpost contracts in-process with solc-js. Imports under `@openzeppelin/` resolve from
 * node_modules. Throws with solc's messages when compilation fails.
 *
 * @example
 * const { contracts, inputHash } = compileContracts()
 * console.log(contracts.KeyRegistry.bytecode.length, inputHash)
 */
export function compileContracts(): CompileResult {
  const solc = require('solc') as { version(): string; compile(input: string, callbacks: object): string }
  const sources: Record<string, { content: string }> = {}
  for (const name of contractNames) {
    sources[`contracts/${name}.sol`] = {
      content: readFileSync(join(root, 'contracts', `${name}.sol`), 'utf8'),
    }
  }
  const input = { language: 'Solidity', sources, settings: compilerSettings }
  const imported: Record<string, { content: string }> = {}
  const findImports = (path: string): { contents: string } | { error: string } => {
    const found = readImport(path)
    if ('contents' in found) imported[path] = { content: found.contents }
    return found
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as SolcOutput
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`)

  // Hash the self-contained input (what a verifier would feed to solc), with keys sorted.
  const fullSources = Object.fromEntries(
    Object.entries({ ...imported, ...sources }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  )
  const fullInput = JSON.stringify({ ...input, sources: fullSources })
  const inputHash = `0x${createHash('sha256').update(fullInput).digest('hex')}` as const

  const contracts = {} as Record<ContractName, CompiledContract>
  for (const name of contractNames) {
    const out = output.contracts?.[`contracts/${name}.sol`]?.[name]
    if (!out) throw new Error(`solc produced no output for ${name}`)
    contracts[name] = { name, abi: out.abi, bytecode: `0x${out.evm.bytecode.object}` }
  }
  return { solcVersion: solc.version(), inputHash, contracts }
}

/**
 * Compiles an example consumer `contracts/examples/<file>` with the shipped contracts it imports (relative imports
 * such as `../StatementVerifier.sol`, read from disk), same settings; returns every contract of the example by
 * name. Examples are not shipped as artifacts: their tests compile them.
 *
 * @example const { SignedEscrow } = compileExample('SignedEscrow.sol')
 */
export function compileExample(file: string): Record<string, { abi: unknown[]; bytecode: `0x${string}` }> {
  const solc = require('solc') as { compile(input: string, callbacks: object): string }
  const sources = {
    [`contracts/examples/${file}`]: {
      content: readFileSync(join(root, 'contracts', 'examples', file), 'utf8'),
    },
  }
  // Only what the example imports is compiled: a shipped contract by its relative path, or OpenZeppelin.
  // Code for the example only (the contracts it calls are deployed from their artifacts).
  const outputSelection = { [`contracts/examples/${file}`]: { '*': ['abi', 'evm.bytecode.object'] } }
  const input = { language: 'Solidity', sources, settings: { ...compilerSettings, outputSelection } }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: readImport })) as SolcOutput
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`)
  return Object.fromEntries(
    Object.entries(output.contracts?.[`contracts/examples/${file}`] ?? {}).map(([name, c]) => [
      name,
      { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` as const },
    ]),
  )
}

const header = '// generated by npm run build:contracts, do not edit'

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

/**
 * Renders the TypeScript artifact module for one compiled contract.
 *
 * @example
 * const ts = renderArtifact(compileContracts(), 'KeyRegistry')
 */
export function renderArtifact(result: CompileResult, name: ContractName): string {
  const id = lowerFirst(name)
  const source = { solcVersion: result.solcVersion, inputHash: result.inputHash }
  return [
    header,
    `/** ABI of ${name}. */`,
    `export const ${id}Abi = ${JSON.stringify(result.contracts[name].abi, null, 2)} as const`,
    '',
    `/** Creation bytecode of ${name}. */`,
    `export const ${id}Bytecode = '${result.contracts[name].bytecode}' as const`,
    '',
    `/** Compiler version and SHA-256 of the standard-JSON input that produced ${name}. */`,
    `export const ${id}Source = ${JSON.stringify(source, null, 2)} as const`,
    '',
  ].join('\n')
}

/**
 * Compiles and writes `contracts/artifacts/<Name>.ts` for every contract.
 *
 * @example
 * buildContracts() // what `npm run build:contracts` does
 */
export function buildContracts(): CompileResult {
  const result = compileContracts()
  for (const name of contractNames) {
    writeFileSync(join(root, 'contracts', 'artifacts', `${name}.ts`), renderArtifact(result, name))
  }
  return result
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = buildContracts()
  for (const name of contractNames) {
    const size = (result.contracts[name].bytecode.length - 2) / 2
    console.log(
      `${name}: ${size} bytes (solc ${result.solcVersion}, input ${result.inputHash.slice(0, 18)}…)`,
    )
  }
}
