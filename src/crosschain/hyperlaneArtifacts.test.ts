import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Abi, type AbiFunction, toEventSelector, toFunctionSelector } from 'viem'
import { describe, expect, test } from 'vitest'
import { mailboxAbi, merkleTreeHookAbi, multisigIsmAbi, multisigIsmFactoryAbi } from './hyperlaneAbi.js'
import {
  hyperlaneArtifact,
  hyperlaneContracts,
  hyperlanePackageDir,
  hyperlaneVersion,
} from './hyperlaneArtifacts.js'

const pinned = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>
  }
).dependencies['@hyperlane-xyz/core']

describe('hyperlaneArtifact', () => {
  test('reads every contract from the pinned package, as data', () => {
    expect(hyperlaneVersion()).toBe(pinned)
    for (const name of Object.keys(hyperlaneContracts) as (keyof typeof hyperlaneContracts)[]) {
      const { abi, bytecode } = hyperlaneArtifact(name)
      expect(abi.length, name).toBeGreaterThan(0)
      expect(bytecode, name).toMatch(/^0x(?:[0-9a-f]{2})+$/)
    }
  })

  const shipped = (name: keyof typeof hyperlaneContracts) => hyperlaneArtifact(name).abi
  const signatureSet = (abi: Abi) =>
    new Set(
      abi.flatMap((item) =>
        item.type === 'function'
          ? [
              `${toFunctionSelector(item)}:${(item as AbiFunction).outputs.map((o) => o.type).join(',')}:${item.stateMutability}`,
            ]
          : item.type === 'event'
            ? [toEventSelector(item)]
            : [],
      ),
    )

  test.each([
    ['Mailbox', mailboxAbi],
    ['MerkleTreeHook', merkleTreeHookAbi],
    ['StaticMessageIdMultisigIsmFactory', multisigIsmFactoryAbi],
    ['StaticMessageIdMultisigIsm', multisigIsmAbi],
  ] as const)(
    'the typed %s fragments are items of the shipped ABI (selector, outputs, mutability)',
    (name, fragments) => {
      const have = signatureSet(shipped(name))
      for (const key of signatureSet(fragments as Abi)) expect(have, `${name} ${key}`).toContain(key)
    },
  )

  test('the checkpoint digest and metadata layout implemented here are the ones in the shipped sources', () => {
    const src = (path: string) => readFileSync(join(hyperlanePackageDir(), 'contracts', path), 'utf8')
    const lib = src('libs/CheckpointLib.sol').replace(/\s+/g, ' ')
    expect(lib).toContain('keccak256(abi.encodePacked(_origin, _merkleTreeHook, "HYPERLANE"))')
    expect(lib).toContain(
      'ECDSA.toEthSignedMessageHash( keccak256( abi.encodePacked( _domainHash, _checkpointRoot, _checkpointIndex, _messageId ) ) )',
    )
    const metadata = src('isms/libs/MessageIdMultisigIsmMetadata.sol')
    for (const line of [
      'MERKLE_ROOT_OFFSET = 32',
      'MERKLE_INDEX_OFFSET = 64',
      'SIGNATURES_OFFSET = 68',
      'SIGNATURE_LENGTH = 65',
    ])
      expect(metadata).toContain(line)
  })
})
