import { describe, expect, it } from 'vitest'
import { compileContracts } from '../scripts/build-contracts.js'
import { keyRegistryAbi, keyRegistryBytecode, keyRegistrySource } from './artifacts/KeyRegistry.js'
import { messageAnchorAbi, messageAnchorBytecode, messageAnchorSource } from './artifacts/MessageAnchor.js'
import {
  sealpostMirrorAbi,
  sealpostMirrorBytecode,
  sealpostMirrorSource,
} from './artifacts/SealpostMirror.js'
import {
  sealpostMirrorSenderAbi,
  sealpostMirrorSenderBytecode,
  sealpostMirrorSenderSource,
} from './artifacts/SealpostMirrorSender.js'
import {
  statementVerifierAbi,
  statementVerifierBytecode,
  statementVerifierSource,
} from './artifacts/StatementVerifier.js'

const stale = 'contracts/artifacts are stale: run `npm run build:contracts` and commit the result.'

describe('committed contract artifacts', () => {
  const result = compileContracts()
  const committed = {
    KeyRegistry: { abi: keyRegistryAbi, bytecode: keyRegistryBytecode, source: keyRegistrySource },
    MessageAnchor: { abi: messageAnchorAbi, bytecode: messageAnchorBytecode, source: messageAnchorSource },
    StatementVerifier: {
      abi: statementVerifierAbi,
      bytecode: statementVerifierBytecode,
      source: statementVerifierSource,
    },
    SealpostMirror: {
      abi: sealpostMirrorAbi,
      bytecode: sealpostMirrorBytecode,
      source: sealpostMirrorSource,
    },
    SealpostMirrorSender: {
      abi: sealpostMirrorSenderAbi,
      bytecode: sealpostMirrorSenderBytecode,
      source: sealpostMirrorSenderSource,
    },
  } as const

  it.each(Object.keys(committed) as (keyof typeof committed)[])('%s matches a fresh compile', (name) => {
    const fresh = result.contracts[name]
    const have = committed[name]
    expect(have.source.inputHash, stale).toBe(result.inputHash)
    expect(have.source.solcVersion, stale).toBe(result.solcVersion)
    expect(have.abi, stale).toEqual(fresh.abi)
    expect(have.bytecode, stale).toBe(fresh.bytecode)
  })
})
