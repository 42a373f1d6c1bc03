/** The Sealpost SDK client: one device of one account, the façade that wires its rooms and holds its lifecycle. */
import { EventEmitter } from 'node:events'
import type { CiphersuiteImpl } from 'ts-mls'
import { type Address, createPublicClient, getAddress, type Hex, http, type PublicClient } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { mapChainError, WrongChainError } from '../chain/errors.js'
import { type DeviceRecord, RegistryWatcher } from '../chain/registryWatcher.js'
import { getMlsCiphersuite } from '../crypto/mls.js'
import type { DeviceIdentity } from '../protocol/credential.js'
import { decodeEnvelope, type Envelope } from '../protocol/envelope.js'
import type { MessageState } from '../protocol/messageState.js'
import { inboxTopic } from '../protocol/topics.js'
import type { AuditLog } from '../store/auditLog.js'
import { DeviceStore } from '../store/deviceStore.js'
import { AsyncQueue } from './asyncQueue.js'
import { AuditTrail, openAuditLog } from './auditTrail.js'
import { watcherChainView } from './chainView.js'
import type { ClientContext } from './context.js'
import { Conversations } from './conversation.js'
import { type Deployment, readDeployment } from './deployment.js'
import { type DeviceKeys, devicePublicKeys } from './identity.js'
import { LeafSubmitter } from './leafSubmitter.js'
import { Live } from './live.js'
import { groupInfo, openConversation, syncMembers } from './membership.js'
import { MessageView } from './messageView.js'
import { mlsClientConfig, registryAuthService } from './mls.js'
import { openDeviceKeys } from './openDevice.js'
import { Outbox } from './outbox.js'
import { ReceiptChecker } from './receipts.js'
import { consumeDelivery, processEnvelope } from './receive.js'
import { publishKeyPackages, register, registration, revokeDevice } from './registration.js'
import { sendMessage } from './send.js'
import { offlineTransport, type Transport } from './transport.js'
import type { ClientEvents, ClientParameters, ReceivedMessage, ReceiveResult, SyncResult } from './types.js'
import type { ClockPolicy } from './verifyStatement.js'
import { waitForState } from './waitForState.js'

export { Conversation, Conversations } from './conversation.js'
export type {
  ClientEvents,
  ClientParameters,
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
  /** Read-only view of this device's messages (states, verdicts, receipts). */
  readonly messages: MessageView
  /** Typed events: 'message', 'state', 'rejected', 'receipt', 'joined', 'closed'. */
  readonly events = new EventEmitter<ClientEvents>()
  readonly #store: DeviceStore
  readonly #ctx: ClientContext
  readonly #live: Live
  readonly #device: DeviceKeys
  #queue: Promise<unknown> = Promise.resolve()
  #closing = false

  private constructor(init: {
    device: DeviceKeys
    wallet: LocalAccount | undefined
    submitter: LocalAccount | undefined
    chainId: number
    deployment: Deployment
    publicClient: PublicClient
    watcher: RegistryWatcher
    transport: Transport
    store: DeviceStore
    impl: CiphersuiteImpl
    clock: Partial<ClockPolicy> | undefined
    rpc: string
    finality: number
    logAnchorEvery: number
    pollingInterval: number
  }) {
    const { device, store, transport, watcher, publicClient, chainId, deployment } = init
    this.#device = device
    this.#store = store
    this.account = device.account
    this.chainId = chainId
    this.deployment = deployment
    this.publicClient = publicClient
    this.watcher = watcher
    this.transport = transport
    this.messages = new MessageView(store)
    const chain = watcherChainView({ watcher, publicClient, chainId, pollingInterval: init.pollingInterval })
    const log = openAuditLog(store)
    const leaves = new LeafSubmitter({
      transport,
      store,
      inbox: inboxTopic(device.deviceId),
      logAnchors: () => store.pendingLogAnchors() as { hash: Hex }[],
    })
    this.#ctx = {
      chainId,
      account: device.account,
      deviceId: device.deviceId,
      identity: { chainId, account: device.account, deviceId: device.deviceId },
      ciphersuite: device.mls.ciphersuite,
      device,
      wallet: init.wallet,
      submitter: init.submitter,
      rpc: init.rpc,
      deployment,
      publicClient,
      watcher,
      chain,
      transport,
      store,
      impl: init.impl,
      config: mlsClientConfig(
        registryAuthService({
          chainId,
          lookup: async (id) => {
            if (!watcher.device(id)) await watcher.sync()
            return watcher.device(id)
          },
        }),
      ),
      clock: init.clock,
      events: this.events,
      audit: new AuditTrail({
        log,
        store,
        every: init.logAnchorEvery,
        submitHead: leaves.enabled ? (hash) => leaves.submitLogHead(hash) : undefined,
      }),
      outbox: new Outbox({ store, events: this.events, leaves, transport }),
      leaves,
      receipts: new ReceiptChecker({ publicClient, chainId, messageAnchor: deployment.messageAnchor }),
      exclusive: (fn) => this.#exclusive(fn),
      closing: () => this.#closing,
    }
    this.#live = new Live(this.#ctx, { pollingInterval: init.pollingInterval, finality: init.finality })
    const ctx = this.#ctx
    this.conversations = new Conversations({
      open: (peer) =>
        this.#exclusive(async () => {
          const id = await openConversation(ctx, peer)
          this.#live.follow(id)
          return id
        }),
      send: (groupId, text, options) => sendMessage(ctx, groupId, text, options),
      syncMembers: (groupId) => this.#exclusive(() => syncMembers(ctx, groupId)),
      info: (groupId) => groupInfo(ctx, groupId),
      groups: () => store.listGroups(),
      group: (groupId) => store.getGroup(groupId),
      messages: (groupId) => store.listMessages({ conversation: groupId }),
    })
  }

  /**
   * Opens (creating on first use) a device under `home`, connects to the chain and checks the deployment.
   *
   * @example const client = await Client.create({ account, home, rpc, transport })
   */
  static async create(parameters: ClientParameters): Promise<Client> {
    const deployment = parameters.deployment ?? readDeployment(parameters.home)
    const publicClient = createPublicClient({
      transport: http(parameters.rpc, { retryCount: 1 }),
    }) as PublicClient
    const chainId = await publicClient.getChainId().catch((err) => {
      throw mapChainError(err)
    })
    if (chainId !== deployment.chainId)
      throw new WrongChainError({ expected: deployment.chainId, actual: chainId })
    const accountAddress = getAddress(
      typeof parameters.account === 'string' ? parameters.account : parameters.account.address,
    )
    const device = await openDeviceKeys({ ...parameters, accountAddress })
    const impl = await getMlsCiphersuite(device.mls.ciphersuite)
    const store = DeviceStore.open({ path: `${device.dir}/state.sqlite`, storageKey: device.storageKey })
    const watcher = new RegistryWatcher({
      publicClient,
      registry: deployment.keyRegistry,
      fromBlock: deployment.deployBlock,
      ...(parameters.pollingInterval ? { pollingInterval: parameters.pollingInterval } : {}),
    })
    try {
      await watcher.start()
    } catch (err) {
      store.close()
      throw mapChainError(err)
    }
    return new Client({
      device,
      wallet: typeof parameters.account === 'string' ? undefined : parameters.account,
      submitter: parameters.submitter,
      chainId,
      deployment,
      publicClient,
      watcher,
      transport: parameters.transport ?? offlineTransport,
      store,
      impl,
      clock: parameters.clock,
      rpc: parameters.rpc,
      finality: parameters.finality ?? 2,
      logAnchorEvery: parameters.logAnchorEvery ?? 32,
      pollingInterval: parameters.pollingInterval ?? 1000,
    })
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
   * Registers this device on chain (EIP-712 authorisation by the account; submitted by `submitter` or the account),
   * then publishes key packages so peers can add it while it is offline. Idempotent.
   *
   * @example const { txHash, gasUsed } = await client.register()
   */
  register(options: { keyPackages?: number } = {}): Promise<{
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
  revokeDevice(deviceId: Hex): Promise<{ txHash: Hex; gasUsed: bigint; blockNumber: bigint }> {
    return revokeDevice(this.#ctx, deviceId)
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
  async sync(): Promise<SyncResult> {
    const result: SyncResult = { received: [], joined: [], commits: 0, rejected: [] }
    const pullTopic = async (topic: Hex) => {
      for (;;) {
        const after = this.#store.getCursor(topic)
        const deliveries = await this.transport.pull({ topic, after, limit: 256 })
        if (deliveries.length === 0) return
        for (const delivery of deliveries)
          await consumeDelivery(this.#ctx, delivery, result, (c) => this.#live.follow(c))
      }
    }
    await pullTopic(inboxTopic(this.deviceId))
    for (const group of this.#store.listGroups()) await pullTopic(group.groupId as Hex)
    return result
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
    const queue = new AsyncQueue<ReceivedMessage>()
    const onMessage = (m: ReceivedMessage) => queue.push(m)
    const onClose = () => queue.close()
    this.events.on('message', onMessage)
    this.events.once('closed', onClose)
    const original = queue.return.bind(queue)
    queue.return = () => {
      this.events.off('message', onMessage)
      this.events.off('closed', onClose)
      return original()
    }
    return queue
  }

  /**
   * Resolves with the state message `id` reached once it is at least `state` (at once if it already is); rejects
   * with `MessageStateTimeoutError` after `timeoutMs`, or `ClientClosedError` if the client closes first.
   *
   * @example await client.waitForState(sent.id, 'anchored', { timeoutMs: 30_000 })
   */
  waitForState(id: Hex, state: MessageState, options: { timeoutMs: number }): Promise<MessageState> {
    const listen = (onState: (e: { id: Hex; state: MessageState }) => void, onClosed: () => void) => {
      this.events.on('state', onState)
      this.events.on('closed', onClosed)
      return () => {
        this.events.off('state', onState)
        this.events.off('closed', onClosed)
      }
    }
    return waitForState({ messages: this.messages, closed: () => this.#closing, listen }, id, state, options)
  }

  /**
   * Anchors the current head of the tamper-evident log now (the receipt arrives on this device's inbox).
   *
   * @example const head = await client.anchorLogHead()
   */
  anchorLogHead(): Promise<Hex | undefined> {
    return this.#ctx.audit.anchorHead()
  }

  /** Leaves live mode, stops the watcher, closes the transport and the device store. */
  async close(): Promise<void> {
    this.#closing = true
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
