/** Public entry point of `sealpost/crypto`: device P-256 keys, statement signatures and MLS crypto providers. */

export {
  ciphersuiteId,
  DEFAULT_CIPHERSUITE,
  getMlsCiphersuite,
  setDefaultMlsCryptoProvider,
  supportedCiphersuites,
  UnsupportedCiphersuiteError,
} from './mls.js'
export {
  createNodeCryptoProvider,
  makeNodeAead,
  makeNodeEd25519,
  makeNodeHash,
  makeNodeKdf,
  type NodeCryptoProviderOptions,
  nodeCryptoProvider,
  nodeRng,
} from './nodeCryptoProvider.js'
export {
  assertValidP256PublicKey,
  DeviceSigningKey,
  InvalidKeyError,
  P256_N,
  P256_PUBLIC_KEY_BYTES,
  P256_SIGNATURE_BYTES,
  type VerifyP256Parameters,
  verifyP256,
} from './p256.js'
export {
  mlsPopMessage,
  type PopContext,
  p256PopMessage,
  proveDeviceKeys,
  signMlsPop,
  signP256Pop,
  verifyMlsPop,
} from './pop.js'
export {
  type SignStatementErrorType,
  type SignStatementParameters,
  signStatement,
  type VerifyStatementSignatureParameters,
  verifyStatementSignature,
} from './statementSignature.js'
