/** Public entry point of `sealpost`: the SDK client, its errors, and the types an application needs. */

export {
  encodeVerifyCalldata,
  type OnChainVerdict,
  type StatementVerdict,
  type VerifyOnChainParameters,
  verifyOnChain,
} from './chain/statementVerifier.js'
export {
  Client,
  type ClientEvents,
  type ClientParameters,
  Conversation,
  Conversations,
  Group,
  type GroupAcceptPolicy,
  type GroupChange,
  type GroupDelivery,
  type GroupInfo,
  type GroupInvitation,
  type GroupMember,
  Groups,
  History,
  type KeyChangeEvent,
  type ReceivedMessage,
  type ReceiveResult,
  type Rejection,
  type SendHistoryOptions,
  type SendHistoryResult,
  type SendOptions,
  type SentMessage,
  type SyncResult,
} from './client/Client.js'
export { type ConnectClientParameters, connectClient } from './client/connect.js'
export {
  type Deployment,
  DeploymentNotFoundError,
  readDeployment,
  writeDeployment,
} from './client/deployment.js'
export {
  AccountKeyRequiredError,
  AccountMismatchError,
  ClientClosedError,
  DeviceNotRegisteredError,
  MessageStateTimeoutError,
  NoKeyPackageError,
  PeerHasNoDevicesError,
  ProofMessageUnknownError,
  ProofNotAnchoredError,
  TopicPreimageUnknownError,
  UnexpectedEnvelopeKindError,
  UnknownConversationError,
} from './client/errors.js'
export {
  CommitContentionError,
  GroupChangeError,
  InvitationNotFoundError,
  NotAGroupError,
  NotGroupAdminError,
} from './client/groupErrors.js'
export {
  HistoryArchiveSenderError,
  HistoryArchiveTamperedError,
  HistoryArchiveUnreadableError,
  HistoryRecipientError,
} from './client/historyErrors.js'
export {
  createAccount,
  createDevice,
  type DeviceKeys,
  type DevicePublicInfo,
  IdentityExistsError,
  IdentityNotFoundError,
  type KdfParams,
  listDevices,
  loadAccount,
  loadDevice,
} from './client/identity.js'
export {
  type ApproveLinkRequestParameters,
  approveLinkRequest,
  type CreateLinkRequestParameters,
  createLinkRequest,
  DEFAULT_LINK_TTL_MS,
  type ParsedLinkRequest,
  type ParseLinkRequestOptions,
  parseLinkRequest,
  waitForLinkedDevice,
} from './client/linkDevice.js'
export {
  LinkApprovalDeclinedError,
  LinkRequestExpiredError,
  LinkRequestFingerprintMismatchError,
  LinkRequestProofError,
  LinkRequestReplayedError,
  LinkRequestSignatureError,
  LinkRequestWrongAccountError,
  LinkRequestWrongDeploymentError,
} from './client/linkErrors.js'
export { type MessageRecord, MessageView } from './client/messageView.js'
export {
  RelayAuthError,
  type RelayConnectionState,
  RelayRequestError,
  RelayTransport,
  type RelayTransportParameters,
  RelayUnreachableError,
  TransportClosedError,
} from './client/relayTransport.js'
export type { RevokeOthersResult } from './client/revokeOthers.js'
export type { RotateDeviceOptions, RotateDeviceResult } from './client/rotateDevice.js'
export {
  findLoggedStatement,
  type LoggedStatement,
  loggedStatements,
  type StatementProof,
  statementProofOf,
} from './client/statementProof.js'
export {
  exportTranscript,
  formatVerification,
  parseTranscript,
  type Transcript,
  verifyTranscript,
} from './client/transcript.js'
export {
  type Delivery,
  type ExpiryNotice,
  MemoryHub,
  NoTransportError,
  offlineTransport,
  type Transport,
} from './client/transport.js'
export type { DeliveryEvent, ExpiredEvent, HistoryImported } from './client/types.js'
export {
  BlockReferenceError,
  BodyHashMismatchError,
  ClockSkewError,
  ConversationPolicyError,
  DeliveryReceiptUnknownError,
  KeyNotYetValidError,
  KeyPackageRejectedError,
  KeyRevokedError,
  MlsRejectedError,
  ReplayError,
  SenderBindingError,
  SenderRemovedError,
  StaleSequenceError,
  StatementChainError,
  StatementSignatureError,
  UnknownSenderError,
} from './client/verificationErrors.js'
export {
  type AuthorshipReport,
  type AuthorshipStepName,
  type VerifyAuthorshipParameters,
  verifyAuthorship,
} from './client/verifyAuthorship.js'
export { ReceiptVerificationError, type VerifyReceiptResult, verifyReceipt } from './client/verifyReceipt.js'
export {
  type ChainView,
  type ClockPolicy,
  defaultClockPolicy,
  type VerificationReport,
  type VerificationStep,
  type VerificationStepName,
  verifyStatement,
} from './client/verifyStatement.js'
export {
  BaseError,
  type BaseErrorParameters,
  CodecError,
  formatError,
  InternalError,
  UsageError,
  ValidationError,
  VerificationError,
} from './errors.js'
export { HistoryArchiveFormatError } from './protocol/historyArchive.js'
export { type LinkRequest, LinkRequestCodecError } from './protocol/linkRequest.js'
export type { MessageState } from './protocol/messageState.js'
export { MissingPassphraseError, WrongPassphraseError } from './store/keystore.js'
