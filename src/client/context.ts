/** What the rooms of a client share: the device, its store, MLS, the chain, the transport, and the processing lock. */
import type { EventEmitter } from 'node:events'
import type { CiphersuiteImpl, ClientConfig } from 'ts-mls'
import type { Address, Hex, PublicClient } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import type { RegistryWatcher } from '../chain/registryWatcher.js'
import type { DeviceIdentity } from '../protocol/credential.js'
import type { DeviceStore } from '../store/deviceStore.js'
import type { AuditTrail } from './auditTrail.js'
import type { WatcherChainView } from './chainView.js'
import type { DeliveryReceipts } from './deliveryReceipts.js'
import type { Deployment } from './deployment.js'
import type { DeviceKeys } from './identity.js'
import type { LeafSubmitter } from './leafSubmitter.js'
import type { Outbox } from './outbox.js'
import type { ReceiptChecker } from './receipts.js'
import type { Transport } from './transport.js'
import type { ClientEvents, GroupAcceptPolicy } from './types.js'
import type { ClockPolicy } from './verifyStatement.js'

/**
 * The parts one client wires together, handed to the functions of its rooms (send, receive, membership, …). Built
 * once by `Client.create`; nothing in it is public API.
 *
 * @example await sendMessage(ctx, groupId, 'hello')
 */
export type ClientContext = {
  chainId: number
  account: Address
  deviceId: Hex
  /** The identity this device puts in its MLS credentials. */
  identity: DeviceIdentity
  ciphersuite: string
  device: DeviceKeys
  /** The account's key, when given (registering and revoking need it). */
  wallet: LocalAccount | undefined
  /** Pays gas for registry transactions instead of `wallet`. */
  submitter: LocalAccount | undefined
  rpc: string
  deployment: Deployment
  publicClient: PublicClient
  watcher: RegistryWatcher
  chain: WatcherChainView
  transport: Transport
  store: DeviceStore
  impl: CiphersuiteImpl
  config: ClientConfig
  clock: Partial<ClockPolicy> | undefined
  events: EventEmitter<ClientEvents>
  audit: AuditTrail
  outbox: Outbox
  leaves: LeafSubmitter
  receipts: ReceiptChecker
  /** Signed delivery receipts this device owes for messages it received, batched per conversation. */
  deliveryReceipts: DeliveryReceipts
  /** Largest estimated ratchet tree a Welcome carries inline; beyond, the tree goes by reference (protocol §3.7). */
  inlineTreeBytes: number
  /** Largest commit published inline on the group topic; beyond, it goes by reference (protocol §3.9). */
  inlineCommitBytes: number
  /** Largest `encrypted_group_info` each trimmed Welcome carries; beyond, it goes by reference (protocol §3.9). */
  inlineGroupInfoBytes: number
  /** Which group invitations are joined at once; the others are held (security E4). */
  groupAccept: GroupAcceptPolicy
  /** Groups this device asked to leave and is still in: the leave is proposed again in each new epoch. */
  leaving: Set<Hex>
  /** Runs `fn` after every earlier processing step (the client's one lock: MLS states change in order). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>
  /** True once `close()` has begun. */
  closing(): boolean
}
