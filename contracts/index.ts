/** Generated contract artifacts (ABI, bytecode, compiler provenance); entry point of `sealpost/contracts`. */
export { keyRegistryAbi, keyRegistryBytecode, keyRegistrySource } from './artifacts/KeyRegistry.js'
export { messageAnchorAbi, messageAnchorBytecode, messageAnchorSource } from './artifacts/MessageAnchor.js'
export { sealpostInboxAbi, sealpostInboxBytecode, sealpostInboxSource } from './artifacts/SealpostInbox.js'
export {
  sealpostMirrorAbi,
  sealpostMirrorBytecode,
  sealpostMirrorSource,
} from './artifacts/SealpostMirror.js'
export {
  sealpostMirrorSenderAbi,
  sealpostMirrorSenderBytecode,
  sealpostMirrorSenderSource,
} from './artifacts/SealpostMirrorSender.js'
export {
  statementVerifierAbi,
  statementVerifierBytecode,
  statementVerifierSource,
} from './artifacts/StatementVerifier.js'
