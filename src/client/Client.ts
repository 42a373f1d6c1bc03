/** The Sealpost SDK client: one device of one account, the façade that wires its rooms and holds its lifecycle. */
import { EventEmitter } from 'node:events'
import type { Address, Hex, PublicClient } from 'viem'
import type { DeviceRecord, RegistryWatcher } from '../chain/registryWatcher.js'
import type { DeviceIdentity } from '../protocol/credential.js'
import { decodeEnvelope, type Envelope } from '../protocol/envelope.js'
import type { MessageState } from '../protocol/messageState.js'
import type { AuditLog } from '../store/auditLog.js'
import type { DeviceStore } from '../store/deviceStore.js'
import type { ClientContext } from './context.js'
import { Conversations } from './conversation.js'
import type { Deployment } from './deployment.js'
import { Groups } from './group.js'
import { History } from './history.js'
import { type DeviceKeys, devicePublicKeys } from './identity.js'
import { currentSafetyNumber, type KeyChangeEvent, recordedKeyChanges } from './keyChanges.js'
import { publishKeyPackages } from './keyPackageStock.js'
import { Live } from './live.js'
import { MessageView } from './messageView.js'
import { type ClientParts, openClient } from './openClient.js'
import { processEnvelope, syncAll } from './receive.js'
import {
  type RegisterOptions,
  register,
  registration,
  revokeDevice,
  type SponsorOption,
} from './registration.js'
import { type RevokeOthersResult, revokeOtherDevices } from './revokeOthers.js'
import {
  deviceKeyAge,
  type RotateDeviceOptions,
  type RotateDeviceResult,
  rotateDevice,
} from './rotateDevice.js'
import { streamMessages } from './streamMessages.js'
import type { Transport } from './transport.js'
import type { ClientEvents, ClientParameters, ReceivedMessage, ReceiveResult, SyncResult } from './types.js'
import { clientStateSource, waitForState } from './waitForState.js'
import { conversationHost, groupHost, wireClientContext } from './wiring.js'

export { Conversation, Conversations } from './conversation.js'
export { Group, type GroupDelivery, type GroupInfo, Groups } from './group.js'
export type { GroupChange, GroupMember } from './groups.js'
export { History, type SendHistoryOptions, type SendHistoryResult } from './history.js'
export type { KeyChangeEvent } from './keyChanges.js'
export type {
  ClientEvents,
  ClientParameters,
  GroupAcceptPolicy,
  GroupInvitation,
  ReceivedMessage,
  ReceiveResult,
  RejectedMessageError,
  Rejection,
  SendOptions,
  SentMessage,
  SyncResult,
} from './types.js'

/**
 * One device of one account. Created with `Client.create()`; talks to the chain through viem and to peers
 * through a `Transport`.
 *
 * @example
 * const alice = await Client.create({ account, home: '~/.sealpost', rpc: anvil.rpcUrl, transport })
 * await alice.register()
 * const chat = await alice.conversations.open(bob.address)
 * await chat.send('hello')
 */
export class Client {
  readonly account: Address
  readonly chainId: number
  readonly deployment: Deployment
  readonly publicClient: PublicClient
  readonly watcher: RegistryWatcher
  readonly transport: Transport
  readonly conversations: Conversations
  /** Group conversations: teams of accounts with admins, following the registry. */
  readonly groups: Groups
  /** Read-only view of this device's messages (states, verdicts, receipts). */
  readonly messages: MessageView
  /** History for a new device of this account: `send` an archive; archives that arrive are imported by themselves. */
  readonly history: History
  /** Typed events: 'message', 'state', 'rejected', 'receipt', 'verdict', 'joined', 'membership', 'keyChange', 'closed'. */
  readonly events = new EventEmitter<ClientEvents>()
  readonly #store: DeviceStore
  readonly #ctx: ClientContext
  readonly #live: Live
  readonly #device: DeviceKeys
  #queue: Promise<unknown> = Promise.resolve()
  #closing = false

  private constructor(parts: ClientParts) {
    this.#device = parts.device
    this.#store = parts.store
    this.account = parts.device.account
    this.chainId = parts.chainId
    this.deployment = parts.deployment
    this.publicClient = parts.publicClient
    this.watcher = parts.watcher
    this.transport = parts.transport
    this.messages = new MessageView(parts.store)
    this.#ctx = wireClientContext(parts, {
      events: this.events,
      exclusive: (fn) => this.#exclusive(fn),
      closing: () => this.#closing,
    })
    this.#live = new Live(this.#ctx, { pollingInterval: parts.pollingInterval, finality: parts.finality })
    this.conversations = new Conversations(conversationHost(this.#ctx, (id) => this.#live.follow(id)))
    this.groups = new Groups(groupHost(this.#ctx, (id) => this.#live.follow(id)))
    this.history = new History(this.#ctx)
  }

  /**
   * Opens (creating on first use) a device under `home`, connects to the chain and checks the deployment.
   *
   * @example const client = await Client.create({ account, home, rpc, transport })
   */
  static async create(parameters: ClientParameters): Promise<Client> {
    return new Client(await openClient(parameters))
  }

  /** This device's id (keccak256 of its P-256 public key), as registered on chain. */
  get deviceId(): Hex {
    return this.#device.deviceId
  }

  /** This device's name under `--home`. */
  get deviceName(): string {
    return this.#device.name
  }

  /** The MLS ciphersuite of this device. */
  get ciphersuite(): string {
    return this.#device.mls.ciphersuite
  }

  /** Public keys of this device, as the registry stores them. */
  get devicePublicKeys(): { p256X: Hex; p256Y: Hex; mlsKey: Hex } {
    return devicePublicKeys(this.#device)
  }

  /** The identity this device puts in its MLS credentials. */
  get identity(): DeviceIdentity {
    return this.#ctx.identity
  }

  /** The device's tamper-evident log (read-only view). */
  get log(): AuditLog {
    return this.#ctx.audit.log
  }

  /** True once `close()` has begun. */
  get closed(): boolean {
    return this.#closing
  }

  /** This device's on-chain record, if registered. */
  registration(): Promise<DeviceRecord | undefined> {
    return registration(this.#ctx)
  }

  /**
   * Registers this device on chain (EIP-712 authorisation by the account; submitted by `submitter`, by the
   * `sponsor` relay when the account cannot pay, or by the account),
   * then publishes key packages so peers can add it while it is offline. Idempotent.
   *
   * @example const { txHash, gasUsed } = await client.register()
   */
  register(options: RegisterOptions = {}): Promise<{
    deviceId: Hex
    txHash?: Hex | undefined
    gasUsed?: bigint | undefined
    blockNumber: bigint
  }> {
    return register(this.#ctx, options)
  }

  /**
   * Revokes another device of this account on chain (EIP-712 authorisation by the account).
   *
   * @example await client.revokeDevice(oldDeviceId)
   */
  revokeDevice(
    deviceId: Hex,
    options: { sponsor?: SponsorOption | undefined } = {},
  ): Promise<{ txHash: Hex; gasUsed: bigint; blockNumber: bigint }> {
    return revokeDevice(this.#ctx, deviceId, options)
  }

  /**
   * The safety number of `account` (protocol §2.5) over its active devices at the current block (the registry view is
   * synced first): compare it out of band; it changes exactly when the account's device set changes.
   *
   * @example const { safetyNumber } = await client.safetyNumber(bob.account)
   */
  safetyNumber(
    account: Address,
  ): Promise<{ account: Address; block: bigint; devices: Hex[]; safetyNumber: string }> {
    return currentSafetyNumber(this.#ctx, account)
  }

  /**
   * The key-change alerts this device emitted as `keyChange` events (of one contact, or all), oldest first.
   *
   * @example client.keyChanges({ account: bob.account }).map((c) => c.kind)
   */
  keyChanges(options: { account?: Address | undefined } = {}): KeyChangeEvent[] {
    return recordedKeyChanges(this.#ctx, options)
  }

  /**
   * Replaces this device's P-256 and MLS keys in one registry transaction (docs/key-management.md §6) and closes this
   * client: its device id is revoked from that block on. Open the next client with the returned `keys`; peers'
   * committers then swap the old leaf for the new device in every conversation listed in `conversations`. A device
   * that is not active is refused with `DeviceNotRegisteredError` before any transaction.
   *
   * @example const { keys } = await client.rotateDevice({ passphrase }); const next = await connectClient({ ...params, keys })
   */
  async rotateDevice(options: RotateDeviceOptions = {}): Promise<RotateDeviceResult> {
    // Receipts owed are signed with the old key: send them while it is valid.
    await flushWithin(this.#ctx.deliveryReceipts, RECEIPT_FLUSH_MS)
    const result = await this.#exclusive(() => rotateDevice(this.#ctx, options))
    await this.close()
    return result
  }

  /**
   * Revokes every other active device of this account (a lost or stolen device, docs/key-management.md §7), one
   * authorization each; their leaves are then removed from every conversation.
   *
   * @example const { revoked } = await client.revokeOtherDevices({ sponsor: { url } })
   */
  revokeOtherDevices(
    options: { sponsor?: SponsorOption | undefined; onRevoked?: ((deviceId: Hex) => void) | undefined } = {},
  ): Promise<RevokeOthersResult> {
    return revokeOtherDevices(this.#ctx, options)
  }

  /**
   * Milliseconds since the block that registered this device's keys (undefined while it is not registered).
   *
   * @example if (((await client.keyAge()) ?? 0) > 30 * 86_400_000) await client.rotateDevice()
   */
  keyAge(): Promise<number | undefined> {
    return deviceKeyAge(this.#ctx)
  }

  /**
   * Generates `count` key packages signed with this device's registered MLS key, keeps their private parts
   * (sealed) in the device store, and publishes them through the transport.
   *
   * @example await client.publishKeyPackages(10)
   */
  publishKeyPackages(count: number): Promise<void> {
    return publishKeyPackages(this.#ctx, count)
  }

  /**
   * Pulls everything new on this device's inbox and conversation topics, processes it in order, and acks it.
   * Bad envelopes are rejected (with a typed error) without stopping the others.
   *
   * @example const { received, rejected } = await client.sync()
   */
  sync(): Promise<SyncResult> {
    return syncAll(this.#ctx, (c) => this.#live.follow(c))
  }

  /**
   * Processes one envelope (bytes from the wire or a decoded `Envelope`) and returns what it produced.
   * Throws a typed error if it is rejected; state is then unchanged.
   *
   * @example const result = await client.receive(bytes)
   */
  async receive(input: Uint8Array | Envelope): Promise<ReceiveResult> {
    const envelope = input instanceof Uint8Array ? decodeEnvelope(input) : input
    return this.#exclusive(() => processEnvelope(this.#ctx, envelope))
  }

  /**
   * Live mode: subscribes to this device's inbox and every conversation (resuming after the stored cursors),
   * processes deliveries in order as they arrive, re-sends anything the relay has not accepted yet, and tracks
   * delivery, receipts and finality of every message. Idempotent.
   *
   * @example await client.start(); for await (const msg of client.streamAll()) console.log(msg.text)
   */
  start(): Promise<void> {
    return this.#live.start()
  }

  /**
   * Every verified incoming message, live, across conversations (call `start()` first). Ends on `close()`.
   *
   * @example for await (const msg of client.streamAll()) console.log(msg.from, msg.text)
   */
  streamAll(): AsyncIterableIterator<ReceivedMessage> {
    return streamMessages(this.events)
  }

  /**
   * Resolves with the state message `id` reached once it is at least `state` (at once if it already is); rejects
   * with `MessageStateTimeoutError` after `timeoutMs`, or `ClientClosedError` if the client closes first.
   *
   * @example await client.waitForState(sent.id, 'anchored', { timeoutMs: 30_000 })
   */
  waitForState(id: Hex, state: MessageState, options: { timeoutMs: number }): Promise<MessageState> {
    const source = clientStateSource(this.events, this.messages, () => this.#closing)
    return waitForState(source, id, state, options)
  }

  /**
   * Anchors the current head of the tamper-evident log now (the receipt arrives on this device's inbox).
   *
   * @example const head = await client.anchorLogHead()
   */
  anchorLogHead(): Promise<Hex | undefined> {
    return this.#ctx.audit.anchorHead()
  }

  /**
   * Sends the delivery receipts still owed (for at most 2 s), leaves live mode, stops the watcher, closes the
   * transport and the device store.
   */
  async close(): Promise<void> {
    if (!this.#closing) await flushWithin(this.#ctx.deliveryReceipts, RECEIPT_FLUSH_MS)
    this.#closing = true
    this.#ctx.deliveryReceipts.stop()
    this.#live.stop()
    this.events.emit('closed')
    await this.#queue.catch(() => undefined)
    this.watcher.stop()
    await this.transport.close?.().catch(() => undefined)
    this.#store.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => undefined)
    return run
  }
}

/** How long `close()` waits for the delivery receipts still owed. */
const RECEIPT_FLUSH_MS = 2000

function flushWithin(receipts: { flush(): Promise<void> }, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
    timer.unref()
  })
  return Promise.race([receipts.flush(), timeout]).finally(() => clearTimeout(timer))
}
