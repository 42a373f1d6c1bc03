/** ABI and creation bytecode of Hyperlane's core contracts, read from the pinned `@hyperlane-xyz/core` package's files. */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Abi, Hex } from 'viem'
import { HyperlaneArtifactError } from './errors.js'

/**
 * The Hyperlane contracts Sealpost deploys, by name, with their typechain factory file in the package's
 * `dist/typechain/factories/contracts/` folder.
 *
 * @example
 * hyperlaneContracts.Mailbox // 'Mailbox__factory.js'
 */
export const hyperlaneContracts = {
  Mailbox: 'Mailbox__factory.js',
  MerkleTreeHook: 'hooks/MerkleTreeHook__factory.js',
  ProtocolFee: 'hooks/ProtocolFee__factory.js',
  StaticMessageIdMultisigIsmFactory:
    'isms/multisig/StaticMultisigIsm.sol/StaticMessageIdMultisigIsmFactory__factory.js',
  StaticMessageIdMultisigIsm: 'isms/multisig/StaticMultisigIsm.sol/StaticMessageIdMultisigIsm__factory.js',
} as const

/**
 * One of {@link hyperlaneContracts}.
 *
 * @example
 * const name: HyperlaneContractName = 'Mailbox'
 */
export type HyperlaneContractName = keyof typeof hyperlaneContracts

/**
 * ABI and creation bytecode of one shipped Hyperlane contract.
 *
 * @example
 * const { abi, bytecode }: HyperlaneArtifact = hyperlaneArtifact('Mailbox')
 */
export type HyperlaneArtifact = { name: HyperlaneContractName; abi: Abi; bytecode: Hex; version: string }

let packageDir: string | undefined

/**
 * The installed `@hyperlane-xyz/core` directory. Its exports map hides `package.json`, so this resolves the
 * package's entry point (without loading it: the entry imports ethers v5, which the package does not declare)
 * and walks up to its root.
 *
 * @example
 * readFileSync(join(hyperlanePackageDir(), 'contracts', 'libs', 'CheckpointLib.sol'), 'utf8')
 */
export function hyperlanePackageDir(): string {
  if (packageDir) return packageDir
  const require = createRequire(import.meta.url)
  let entry: string
  try {
    entry = require.resolve('@hyperlane-xyz/core')
  } catch (cause) {
    throw new HyperlaneArtifactError({ reason: 'package @hyperlane-xyz/core is not installed', cause })
  }
  let dir = dirname(entry)
  for (let i = 0; i < 6; i++) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }
      if (manifest.name === '@hyperlane-xyz/core') {
        packageDir = dir
        return dir
      }
    } catch {}
    dir = dirname(dir)
  }
  throw new HyperlaneArtifactError({ reason: `no @hyperlane-xyz/core package.json above ${entry}` })
}

/** The package version the artifacts come from, e.g. `12.1.0`. @example hyperlaneVersion() */
export function hyperlaneVersion(): string {
  const manifest = JSON.parse(readFileSync(join(hyperlanePackageDir(), 'package.json'), 'utf8')) as {
    version: string
  }
  return manifest.version
}

/**
 * Turns the typechain `_abi` literal (JavaScript: unquoted keys, double-quoted strings, trailing commas) into JSON.
 * Keys are identifiers at the start of a line; no string value of an ABI spans a line or starts one.
 */
function abiLiteralToJson(literal: string): string {
  return literal.replace(/^(\s*)([A-Za-z_$][\w$]*):/gm, '$1"$2":').replace(/,(\s*[\]}])/g, '$1')
}

const cache = new Map<HyperlaneContractName, HyperlaneArtifact>()

/**
 * Reads the ABI and creation bytecode of `name` from the package's typechain factory file (as data, never executing
 * it). The bytecode is the one Hyperlane ships (its `dist/buildArtifact.json` records solc 0.8.33, cancun, optimizer 3,599 runs).
 *
 * @example
 * const { abi, bytecode } = hyperlaneArtifact('MerkleTreeHook')
 * await deployContract(wallet, { abi, bytecode, args: [mailbox] })
 */
export function hyperlaneArtifact(name: HyperlaneContractName): HyperlaneArtifact {
  const hit = cache.get(name)
  if (hit) return hit
  const file = join(
    hyperlanePackageDir(),
    'dist',
    'typechain',
    'factories',
    'contracts',
    hyperlaneContracts[name],
  )
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (cause) {
    throw new HyperlaneArtifactError({ reason: `cannot read ${file}`, cause })
  }
  const abiMatch = /\nconst _abi = (\[[\s\S]*?\n\]);\n/.exec(text)
  const bytecodeMatch = /\nconst _bytecode = "(0x[0-9a-fA-F]+)";\n/.exec(text)
  if (!abiMatch || !bytecodeMatch)
    throw new HyperlaneArtifactError({ reason: `unexpected layout of ${file}` })
  let abi: Abi
  try {
    abi = JSON.parse(abiLiteralToJson(abiMatch[1]!)) as Abi
  } catch (cause) {
    throw new HyperlaneArtifactError({ reason: `cannot parse the ABI of ${name}`, cause })
  }
  const artifact = { name, abi, bytecode: bytecodeMatch[1] as Hex, version: hyperlaneVersion() }
  cache.set(name, artifact)
  return artifact
}
