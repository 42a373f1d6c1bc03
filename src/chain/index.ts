/** Chain layer of Sealpost: viem actions for KeyRegistry and MessageAnchor, the anvil launcher, watchers. */
export {
  type Anvil,
  anvilPrivateKeys,
  resolveAnvilBinary,
  type StartAnvilOptions,
  startAnvil,
} from './anvil.js'
export { type DeployProgress, deploySealpost, type SealpostDeployment } from './deploy.js'
export type { Deployment } from './deployment.js'
export {
  AnvilStartError,
  assertChainId,
  ChainRequestError,
  type ContractErrorName,
  ContractRevertError,
  contractErrorCodes,
  InsufficientFundsError,
  mapChainError,
  NoAccountError,
  RpcUnreachableError,
  type SponsorRefusalReason,
  SponsorRefusedError,
  SponsorUnreachableError,
  sponsorRefusalCodes,
  WatcherBehindError,
  WrongChainError,
  withChainErrors,
} from './errors.js'
export {
  type AddDeviceParameters,
  addDevice,
  type DeviceInfo,
  getDevice,
  getDeviceRecord,
  getDevices,
  getRegistryNonce,
  isDeviceKeyValidAt,
  isDeviceValidAt,
  type KeyRegistryActions,
  keyRegistryActions,
  type NewDeviceKeys,
  type RevokeDeviceParameters,
  type RotateDeviceParameters,
  revokeDevice,
  rotateDevice,
} from './keyRegistry.js'
export {
  type AnchoredEvent,
  type AnchorInfo,
  type AnchorRootParameters,
  anchorRoot,
  computeRootOnChain,
  decodeAnchoredLogs,
  findAnchoredEvents,
  findAnchorTransaction,
  type GetAnchorParameters,
  getAnchor,
  type MessageAnchorActions,
  messageAnchorActions,
  type VerifyInclusionOnChainParameters,
  verifyInclusionOnChain,
} from './messageAnchor.js'
export {
  addDeviceTypes,
  deviceIdOf,
  keyRegistryDomain,
  keyRegistryDomainName,
  keyRegistryDomainVersion,
  type RegistrySigner,
  revokeDeviceTypes,
  rotateDeviceTypes,
  type SignAddDeviceParameters,
  type SignRevokeDeviceParameters,
  type SignRotateDeviceParameters,
  signAddDevice,
  signRevokeDevice,
  signRotateDevice,
} from './registryAuthorizations.js'
export {
  type DeviceRecord,
  type RegistryChange,
  RegistryWatcher,
  type RegistryWatcherEvents,
  type RegistryWatcherOptions,
} from './registryWatcher.js'
export type { WriteClient, WriteResult } from './sendAndWait.js'
export {
  postSponsorRequest,
  SPONSOR_PATH,
  type SponsorRequest,
  type SponsorResult,
  sponsorUrlOf,
} from './sponsor.js'
