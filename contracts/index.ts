/** Generated contract artifacts (ABI, bytecode, compiler provenance); entry point of `sealpost/contracts`. */
export { keyRegistryAbi, keyRegistryBytecode, keyRegistrySource } from './artifacts/KeyRegistry.js'
export { messageAnchorAbi, messageAnchorBytecode, messageAnchorSource } from './artifacts/MessageAnchor.js'
export {
  statementVerifierAbi,
  statementVerifierBytecode,
  statementVerifierSource,
} from './artifacts/StatementVerifier.js'
