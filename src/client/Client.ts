/** The Sealpost SDK client: one device of one account, its conversations, and its view of the chain. */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import {
  type CiphersuiteImpl,
  type ClientConfig,
  type ClientState,
  createApplicationMessage,
  createCommit,
  createGroup,
  emptyPskIndex,
  joinGroup,
  type KeyPackage,
  makePskIndex,
  type PrivateKeyPackage,
  type Proposal,
  processPrivateMessage,
  zeroOutUint8Array,
} from 'ts-mls'
import {
  type Address,
  bytesToHex,
  createPublicClient,
  createWalletClient,
  getAddress,
  type Hex,
  http,
  isAddressEqual,
  type PublicClient,
} from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { mapChainError, WrongChainError } from '../chain/errors.js'
import {
  addDevice,
  getRegistryNonce,
  revokeDevice,
  signAddDevice,
  signRevokeDevice,
} from '../chain/keyRegistry.js'
import { type DeviceRecord, RegistryWatcher } from '../chain/registryWatcher.js'
import { getMlsCiphersuite } from '../crypto/mls.js'
import { signStatement } from '../crypto/statementSignature.js'
import { BaseError, UsageError, VerificationError } from '../errors.js'
import { decodeApplicationContent, encodeApplicationContent } from '../protocol/content.js'
import type { DeviceIdentity } from '../protocol/credential.js'
import { createEnvelope, decodeEnvelope, type Envelope, encodeEnvelope } from '../protocol/envelope.js'
import { rootFromInclusionProof } from '../protocol/merkle.js'
import type { MessageState } from '../protocol/messageState.js'
import { decodeReceipt, type Receipt, receiptFromJson, receiptToJson } from '../protocol/receipt.js'
import { hashBody, type Statement, statementLeaf } from '../protocol/statement.js'
import { inboxTopic } from '../protocol/topics.js'
import { AuditLog, type LogDataByKind, type LogKind } from '../store/auditLog.js'
import { DeviceStore } from '../store/deviceStore.js'
import { resolvePassphrase } from '../store/keystore.js'
import { AsyncQueue } from './asyncQueue.js'
import { type Deployment, readDeployment } from './deployment.js'
import {
  AccountKeyRequiredError,
  AccountMismatchError,
  DeviceNotRegisteredError,
  KeyPackageRejectedError,
  MlsRejectedError,
  NoKeyPackageError,
  PeerHasNoDevicesError,
  ReplayError,
  UnexpectedEnvelopeKindError,
  UnknownConversationError,
} from './errors.js'
import { createDevice, type DeviceKeys, deviceExists, type KdfParams, loadDevice } from './identity.js'
import { MessageView } from './messageView.js'
import {
  createKeyPackage,
  decodeMls,
  deserializeGroupState,
  encodeMls,
  identityOf,
  membersOf,
  mlsClientConfig,
  registryAuthService,
  senderOf,
  serializeGroupState,
} from './mls.js'
import { type Delivery, offlineTransport, type Transport } from './transport.js'
import { ReceiptVerificationError, verifyReceipt } from './verifyReceipt.js'
import { type ClockPolicy, type VerificationReport, verifyStatement } from './verifyStatement.js'
import { waitForState } from './waitForState.js'

export type ClientParameters = {
  /** The account's wallet (signs device authorisations), or just its address for a device that is already registered. */
  account: LocalAccount | Address
  /** Directory holding this account's keys and device state (`--home`). */
  home: string
  /** JSON-RPC URL of the chain. */
  rpc: string
  /** Message transport (in-process hub or relay connection). Without one, only chain operations work. */
  transport?: Transport | undefined
  /** Contract addresses; defaults to `<home>/deployment.json`. */
  deployment?: Deployment | undefined
  /** Key store passphrase; defaults to `SEALPOST_PASSPHRASE`. */
  passphrase?: string | undefined
  /** Device name under `<home>/devices/`. Default `default`; created on first use. */
  device?: string | undefined
  /** MLS ciphersuite for a new device. Default X-Wing (id 83). */
  ciphersuite?: string | undefined
  /** scrypt cost for newly written key files. */
  kdf?: KdfParams | undefined
  /** Clock bounds for statement verification. */
  clock?: Partial<ClockPolicy> | undefined
  /** Pays gas for registry transactions instead of `account` (anyone may submit). */
  submitter?: LocalAccount | undefined
  /** Milliseconds between chain polls of the registry watcher and the finality check. Default 1000. */
  pollingInterval?: number | undefined
  /** Confirmations after which an anchored message is final. Default 2. */
  finality?: number | undefined
  /** Anchor the head of the tamper-evident log every this many entries (0 disables). Default 32. */
  logAnchorEvery?: number | undefined
}

/** Events a client emits; the dashboard and the stream API are built on them. */
export type ClientEvents = {
  message: [ReceivedMessage]
  state: [{ id: Hex; conversation: Hex; state: MessageState }]
  rejected: [Rejection]
  receipt: [{ leaf: Hex; receipt: Receipt; messages: Hex[]; confirmations: bigint }]
  joined: [{ conversation: Hex; peer: Address }]
  closed: []
}

/**
 * Options of `conversation.send()`. The `unsafe*` switches exist to simulate a misbehaving or compromised sender
 * in tests and the demo (a stolen, revoked key; a replayed sequence number); recipients must reject the result.
 */
export type SendOptions = {
  /** Sign and send even if this device is not (or no longer) registered. */
  unsafeSkipRegistrationCheck?: boolean | undefined
  /** Use this sequence number instead of the next one. */
  unsafeSeq?: bigint | undefined
}

/** After this long without a receipt, an accepted message's leaf is submitted again. */
const LEAF_RESUBMIT_MS = 15_000

/** Key packages a live client keeps published at its relay. */
const KEY_PACKAGE_TARGET = 5

/** A message this device sent. */
export type SentMessage = {
  id: Hex
  conversation: Hex
  statement: Statement
  signature: Hex
  /** The statement's Merkle leaf, what the anchorer commits on chain. */
  leaf: Hex
  envelope: Envelope
  cursor: bigint
}

/** A message this device received and verified. */
export type ReceivedMessage = {
  id: Hex
  conversation: Hex
  from: Address
  device: Hex
  seq: bigint
  sentAt: number
  text: string
  statement: Statement
  signature: Hex
  leaf: Hex
  report: VerificationReport
}

/** What processing one envelope produced. */
export type ReceiveResult =
  | { type: 'message'; message: ReceivedMessage }
  | { type: 'joined'; conversation: Hex; peer: Address }
  | { type: 'commit'; conversation: Hex; epoch: bigint; removed: boolean }
  | { type: 'receipt'; leaf: Hex; messages: Hex[] }

/** An envelope that was refused, with the typed error and (for messages) the verification report. */
export type Rejection = {
  envelopeId: Hex
  topic: Hex
  error: BaseError
  report?: VerificationReport | undefined
}

/** Result of `client.sync()`. */
export type SyncResult = {
  received: ReceivedMessage[]
  joined: Hex[]
  commits: number
  rejected: Rejection[]
}

/** A rejected message carries the report of the checks that ran. */
export type RejectedMessageError = BaseError & { report?: VerificationReport }

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
  readonly store: DeviceStore
  readonly conversations: Conversations
  /** Read-only view of this device's messages (states, verdicts, receipts). */
  readonly messages: MessageView
  readonly #device: DeviceKeys
  readonly #wallet: LocalAccount | undefined
  readonly #submitter: LocalAccount | undefined
  readonly #impl: CiphersuiteImpl
  readonly #config: ClientConfig
  readonly #clock: Partial<ClockPolicy> | undefined
  readonly #rpc: string
  readonly #blocks = new Map<bigint, { hash: Hex; timestamp: bigint }>()
  readonly #log: AuditLog
  readonly #finality: number
  readonly #logAnchorEvery: number
  readonly #pollingInterval: number
  /** Typed events: 'message', 'state', 'rejected', 'receipt', 'joined'. */
  readonly events = new EventEmitter<ClientEvents>()
  #queue: Promise<unknown> = Promise.resolve()
  #live:
    | {
        unsubscribe: Map<Hex, () => void>
        offAcks?: (() => void) | undefined
        offWatcher?: (() => void) | undefined
        timer: NodeJS.Timeout
      }
    | undefined
  #reconcileTimer: NodeJS.Timeout | undefined
  #lastLeafSweep = Date.now()
  #closing = false
  readonly #batchChecks = new Map<string, { at: number; confirmations: bigint }>()
  readonly #members = new Map<Hex, { version: number; others: string[] }>()
  #pendingLogAnchor: { index: number; hash: Hex } | undefined
  #latest: { number: bigint; hash: Hex; at: number } | undefined

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
    this.#device = init.device
    this.#wallet = init.wallet
    this.#submitter = init.submitter
    this.account = init.device.account
    this.chainId = init.chainId
    this.deployment = init.deployment
    this.publicClient = init.publicClient
    this.watcher = init.watcher
    this.transport = init.transport
    this.store = init.store
    this.#impl = init.impl
    this.#clock = init.clock
    this.#rpc = init.rpc
    this.#finality = init.finality
    this.#logAnchorEvery = init.logAnchorEvery
    this.#pollingInterval = init.pollingInterval
    const store = init.store
    this.#log = new AuditLog({
      db: store.db,
      // Entries carry message bodies: sealed at rest like every other secret row of the device store.
      codec: {
        seal: (index, json) =>
          `sealed:${Buffer.from(store.seal('audit_log', String(index), new TextEncoder().encode(json))).toString('base64')}`,
        open: (index, stored) =>
          stored.startsWith('sealed:')
            ? new TextDecoder().decode(
                store.open('audit_log', String(index), Buffer.from(stored.slice(7), 'base64')),
              )
            : stored,
      },
    })
    this.#config = mlsClientConfig(
      registryAuthService({
        chainId: init.chainId,
        lookup: (id) => this.#lookupDevice(id, this.watcher.syncedTo),
      }),
    )
    this.conversations = new Conversations(this)
    this.messages = new MessageView(init.store)
  }

  /**
   * Opens (creating on first use) a device under `home`, connects to the chain and checks the deployment.
   *
   * @example const client = await Client.create({ account, home, rpc, transport })
   */
  static async create(parameters: ClientParameters): Promise<Client> {
    const passphrase = resolvePassphrase({ passphrase: parameters.passphrase })
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
    const name = parameters.device ?? 'default'
    const device = deviceExists(parameters.home, name)
      ? await loadDevice({ home: parameters.home, name, passphrase })
      : await createDevice({
          home: parameters.home,
          name,
          account: accountAddress,
          passphrase,
          ciphersuite: parameters.ciphersuite,
          kdf: parameters.kdf,
        })
    if (!isAddressEqual(device.account, accountAddress))
      throw new AccountMismatchError({ deviceAccount: device.account, givenAccount: accountAddress })
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
    return {
      p256X: this.#device.signingKey.p256X,
      p256Y: this.#device.signingKey.p256Y,
      mlsKey: bytesToHex(this.#device.mls.publicKey),
    }
  }

  /** The identity this device puts in its MLS credentials. */
  get identity(): DeviceIdentity {
    return { chainId: this.chainId, account: this.account, deviceId: this.deviceId }
  }

  /** This device's on-chain record, if registered. */
  async registration(): Promise<DeviceRecord | undefined> {
    await this.watcher.sync()
    return this.watcher.device(this.deviceId)
  }

  /**
   * Registers this device on chain (EIP-712 authorisation by the account; submitted by `submitter` or the account),
   * then publishes key packages so peers can add it while it is offline. Idempotent.
   *
   * @example const { txHash, gasUsed } = await client.register()
   */
  async register({ keyPackages = 5 }: { keyPackages?: number } = {}): Promise<{
    deviceId: Hex
    txHash?: Hex | undefined
    gasUsed?: bigint | undefined
    blockNumber: bigint
  }> {
    let record = await this.registration()
    let txHash: Hex | undefined
    let gasUsed: bigint | undefined
    if (record?.revokedAt !== undefined)
      throw new DeviceNotRegisteredError({ deviceId: this.deviceId, revoked: true })
    if (!record) {
      const wallet = this.#requireWallet()
      const keys = this.devicePublicKeys
      const nonce = await getRegistryNonce(this.publicClient, {
        registry: this.deployment.keyRegistry,
        account: this.account,
      })
      const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
      const signature = await signAddDevice(wallet, {
        registry: this.deployment.keyRegistry,
        chainId: this.chainId,
        ...keys,
        nonce,
        deadline,
      })
      const result = await addDevice(this.#walletClient(), {
        registry: this.deployment.keyRegistry,
        account: this.account,
        ...keys,
        nonce,
        deadline,
        signature,
      })
      txHash = result.hash
      gasUsed = result.gasUsed
      await this.watcher.sync()
      record = this.watcher.device(this.deviceId)
    }
    if (!record) throw new DeviceNotRegisteredError({ deviceId: this.deviceId })
    if (keyPackages > 0) {
      const have = await this.transport.countKeyPackages({ deviceId: this.deviceId })
      if (have < keyPackages) await this.publishKeyPackages(keyPackages - have)
    }
    return { deviceId: this.deviceId, txHash, gasUsed, blockNumber: record.addedAt }
  }

  /**
   * Revokes another device of this account on chain (EIP-712 authorisation by the account).
   *
   * @example await client.revokeDevice(oldDeviceId)
   */
  async revokeDevice(deviceId: Hex): Promise<{ txHash: Hex; gasUsed: bigint; blockNumber: bigint }> {
    const wallet = this.#requireWallet()
    const nonce = await getRegistryNonce(this.publicClient, {
      registry: this.deployment.keyRegistry,
      account: this.account,
    })
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
    const signature = await signRevokeDevice(wallet, {
      registry: this.deployment.keyRegistry,
      chainId: this.chainId,
      deviceId,
      nonce,
      deadline,
    })
    const result = await revokeDevice(this.#walletClient(), {
      registry: this.deployment.keyRegistry,
      account: this.account,
      deviceId,
      nonce,
      deadline,
      signature,
    })
    await this.watcher.sync()
    return { txHash: result.hash, gasUsed: result.gasUsed, blockNumber: result.blockNumber }
  }

  /**
   * Generates `count` key packages signed with this device's registered MLS key, keeps their private parts
   * (sealed) in the device store, and publishes them through the transport.
   *
   * @example await client.publishKeyPackages(10)
   */
  async publishKeyPackages(count: number): Promise<void> {
    const envelopes: Envelope[] = []
    for (let i = 0; i < count; i++) {
      const { publicPackage, privatePackage, ref } = await createKeyPackage({
        identity: this.identity,
        mls: this.#device.mls,
        impl: this.#impl,
      })
      this.store.putKeyPackage({
        ref,
        publicPackage: encodeMls({
          version: 'mls10',
          wireformat: 'mls_key_package',
          keyPackage: publicPackage,
        }),
        privatePackage: encodePrivateKeyPackage(privatePackage),
      })
      envelopes.push(
        createEnvelope({
          kind: 'key-package',
          topic: inboxTopic(this.deviceId),
          payload: encodeMls({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage }),
        }),
      )
    }
    await this.transport.putKeyPackages({ deviceId: this.deviceId, envelopes })
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
        const deliveries = await this.transport.pull({
          topic,
          after: this.store.getCursor(topic),
          limit: 256,
        })
        if (deliveries.length === 0) return
        for (const delivery of deliveries) await this.#consume(delivery, result)
      }
    }
    await pullTopic(inboxTopic(this.deviceId))
    for (const group of this.store.listGroups()) await pullTopic(group.groupId as Hex)
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
    return this.#exclusive(() => this.#process(envelope))
  }

  /**
   * Live mode: subscribes to this device's inbox and every conversation (resuming after the stored cursors),
   * processes deliveries in order as they arrive, re-sends anything the relay has not accepted yet, and tracks
   * delivery, receipts and finality of every message. Idempotent.
   *
   * @example await client.start(); for await (const msg of client.streamAll()) console.log(msg.text)
   */
  async start(): Promise<void> {
    if (this.#live) return
    const timer = setInterval(() => {
      this.#checkFinality().catch((err) => this.#backgroundError(err))
    }, this.#pollingInterval)
    timer.unref()
    this.#live = { unsubscribe: new Map(), timer }
    this.#live.offAcks = this.transport.onAcks?.((topic, acks) => this.#onAcks(topic, acks))
    // Membership follows the registry: a revoked device leaves every group, a new device joins (§3).
    const onChange = () => this.#scheduleReconcile()
    this.watcher.on('change', onChange)
    this.#live.offWatcher = () => this.watcher.off('change', onChange)
    this.#follow(inboxTopic(this.deviceId))
    for (const group of this.store.listGroups()) this.#follow(group.groupId as Hex)
    await this.#resendPending()
    this.#scheduleReconcile()
    // Keep enough key packages at the relay for peers to add this device while it is offline.
    const record = await this.registration()
    if (record && record.revokedAt === undefined) {
      const have = await this.transport.countKeyPackages({ deviceId: this.deviceId })
      if (have < KEY_PACKAGE_TARGET) await this.publishKeyPackages(KEY_PACKAGE_TARGET - have)
    }
  }

  /**
   * Every verified incoming message, live, across conversations (call `start()` first). Ends on `close()`.
   *
   * @example for await (const msg of client.streamAll()) console.log(msg.from, msg.text)
   */
  streamAll(): AsyncIterableIterator<ReceivedMessage> {
    return this.#stream(() => true)
  }

  /** @internal */ streamOf(conversation: Hex): AsyncIterableIterator<ReceivedMessage> {
    return this.#stream((m) => m.conversation.toLowerCase() === conversation.toLowerCase())
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

  /** True once `close()` has begun. */
  get closed(): boolean {
    return this.#closing
  }

  /** The device's tamper-evident log (read-only view). */
  get log(): AuditLog {
    return this.#log
  }

  /** Leaves live mode, stops the watcher, closes the transport and the device store. */
  async close(): Promise<void> {
    this.#closing = true
    if (this.#live) {
      clearInterval(this.#live.timer)
      for (const stop of this.#live.unsubscribe.values()) stop()
      this.#live.offAcks?.()
      this.#live.offWatcher?.()
      clearTimeout(this.#reconcileTimer)
      this.#live = undefined
    }
    this.events.emit('closed')
    await this.#queue.catch(() => undefined)
    this.watcher.stop()
    await this.transport.close?.().catch(() => undefined)
    this.store.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  // ---- internals shared with Conversation --------------------------------------------------------------

  /** @internal */ async openConversation(peer: Address): Promise<Conversation> {
    return this.#exclusive(async () => {
      const existing = this.store.findGroupByPeer(peer)
      if (existing) return new Conversation(this, existing.groupId as Hex, getAddress(peer))
      await this.watcher.sync() // resolve the peer's devices from the freshest registry view
      await this.#assertActive()
      const targets = [
        ...this.watcher.activeDevicesOf(peer),
        ...this.watcher.activeDevicesOf(this.account).filter((d) => d.deviceId !== this.deviceId),
      ]
      if (this.watcher.activeDevicesOf(peer).length === 0) throw new PeerHasNoDevicesError({ account: peer })
      const keyPackages = await this.#claimKeyPackages(targets)
      const groupId = bytesToHex(randomBytes(32))
      const own = await createKeyPackage({ identity: this.identity, mls: this.#device.mls, impl: this.#impl })
      let state = await createGroup(
        Uint8Array.from(Buffer.from(groupId.slice(2), 'hex')),
        own.publicPackage,
        own.privatePackage,
        [],
        this.#impl,
        this.#config,
      )
      const proposals: Proposal[] = keyPackages.map((kp) => ({
        proposalType: 'add',
        add: { keyPackage: kp.keyPackage },
      }))
      const commit = await createCommit(
        { state, cipherSuite: this.#impl },
        { extraProposals: proposals, ratchetTreeExtension: true },
      )
      state = commit.newState
      commit.consumed.forEach(zeroOutUint8Array)
      this.store.putGroup({ groupId, peer, ciphersuite: this.ciphersuite, state: serializeGroupState(state) })
      if (commit.welcome)
        await this.#sendWelcome(
          commit.welcome,
          keyPackages.map((k) => k.deviceId),
        )
      this.#follow(groupId)
      return new Conversation(this, groupId, getAddress(peer))
    })
  }

  /** @internal */ async sendText(
    groupId: Hex,
    text: string,
    options: SendOptions = {},
  ): Promise<SentMessage> {
    const sealed = await this.#exclusive(async () => {
      if (!options.unsafeSkipRegistrationCheck) await this.#assertActive()
      const group = this.#requireGroup(groupId)
      const state = deserializeGroupState(group.state, this.#config)
      const body = new TextEncoder().encode(text)
      const block = await this.#recentBlock()
      const statement: Statement = {
        chainId: this.chainId,
        from: this.account,
        device: this.deviceId,
        conversation: groupId,
        seq: options.unsafeSeq ?? this.store.nextSeq(groupId),
        sentAt: Date.now(),
        block: { number: block.number, hash: block.hash },
        bodyHash: hashBody(body),
        salt: bytesToHex(randomBytes(32)),
      }
      const signed = signStatement({ statement, key: this.#device.signingKey })
      const content = encodeApplicationContent({ signed, contentType: 'text', body })
      const created = await createApplicationMessage(state, content, this.#impl)
      const envelope = createEnvelope({
        kind: 'application',
        topic: groupId,
        payload: encodeMls({
          version: 'mls10',
          wireformat: 'mls_private_message',
          privateMessage: created.privateMessage,
        }),
      })
      const leaf = statementLeaf(signed.bytes, signed.signature)
      this.store.transaction(() => {
        this.store.putGroup({
          groupId,
          peer: group.peer,
          ciphersuite: group.ciphersuite,
          state: serializeGroupState(created.newState),
        })
        this.store.markProcessed(envelope.id, 'sent')
        this.store.putMessage({
          id: envelope.id,
          conversation: groupId,
          direction: 'out',
          from: this.account,
          device: this.deviceId,
          seq: statement.seq,
          sentAt: statement.sentAt,
          body: text,
          report: '{}',
          receivedAt: Date.now(),
          leaf,
          state: 'queued',
          envelope: encodeEnvelope(envelope),
        })
        this.#audit('sent', {
          envelopeId: envelope.id,
          conversation: groupId,
          statement: bytesToHex(signed.bytes),
          signature: signed.signature,
          leaf,
          body: text,
        })
      })
      created.consumed.forEach(zeroOutUint8Array)
      this.#emitState(envelope.id, groupId, 'queued')
      // Publish inside the lock so envelopes reach the transport in sealing order (recipients require strictly
      // increasing sequence numbers); wait for the relay's acceptance outside it.
      const publishing = this.transport.publish(envelope)
      publishing.catch(() => undefined)
      return { statement, signature: signed.signature, leaf, envelope, publishing }
    })
    const { cursor } = await sealed.publishing
    this.#accepted(sealed.envelope.id, groupId, cursor, sealed.leaf)
    return {
      id: sealed.envelope.id,
      conversation: groupId,
      statement: sealed.statement,
      signature: sealed.signature,
      leaf: sealed.leaf,
      envelope: sealed.envelope,
      cursor,
    }
  }

  /**
   * @internal Brings the group in line with the registry: removes revoked devices, adds new active devices of
   * both accounts. Returns the number of changes committed.
   */
  async syncMembers(groupId: Hex): Promise<{ added: Hex[]; removed: Hex[] }> {
    return this.#exclusive(async () => {
      await this.watcher.sync()
      const group = this.#requireGroup(groupId)
      let state = deserializeGroupState(group.state, this.#config)
      const members = membersOf(state)
      const removed = members.filter((m) => this.watcher.device(m.identity.deviceId)?.revokedAt !== undefined)
      const present = new Set(members.map((m) => m.identity.deviceId.toLowerCase()))
      const wanted = [
        ...this.watcher.activeDevicesOf(getAddress(group.peer)),
        ...this.watcher.activeDevicesOf(this.account),
      ]
      const missing = wanted.filter((d) => !present.has(d.deviceId.toLowerCase()))
      if (removed.length === 0 && missing.length === 0) return { added: [], removed: [] }
      // Removals and additions go in separate commits: an added leaf may reuse a removed member's slot, and the
      // removed member must still see its own removal (ts-mls 1.6 misdetects it when both share one commit).
      if (removed.length > 0)
        state = await this.#commit(
          group,
          state,
          removed.map((m): Proposal => ({ proposalType: 'remove', remove: { removed: m.leafIndex } })),
        )
      const keyPackages = await this.#claimKeyPackages(missing)
      if (keyPackages.length > 0) {
        const proposals = keyPackages.map(
          (kp): Proposal => ({ proposalType: 'add', add: { keyPackage: kp.keyPackage } }),
        )
        state = await this.#commit(
          group,
          state,
          proposals,
          keyPackages.map((k) => k.deviceId),
        )
      }
      return { added: keyPackages.map((k) => k.deviceId), removed: removed.map((m) => m.identity.deviceId) }
    })
  }

  /** @internal */ groupInfo(groupId: Hex): { epoch: bigint; members: DeviceIdentity[]; active: boolean } {
    const state = deserializeGroupState(this.#requireGroup(groupId).state, this.#config)
    return {
      epoch: state.groupContext.epoch,
      members: membersOf(state).map((m) => m.identity),
      active: state.groupActiveState.kind === 'active',
    }
  }

  // ---- private ------------------------------------------------------------------------------------------

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => undefined)
    return run
  }

  #stream(filter: (m: ReceivedMessage) => boolean): AsyncIterableIterator<ReceivedMessage> {
    const queue = new AsyncQueue<ReceivedMessage>()
    const onMessage = (m: ReceivedMessage) => {
      if (filter(m)) queue.push(m)
    }
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

  #follow(topic: Hex): void {
    if (!this.#live || this.#live.unsubscribe.has(topic)) return
    const stop = this.transport.subscribe({
      topics: [topic],
      after: (t) => this.store.getCursor(t),
      onDelivery: (delivery) => {
        this.#consumeLive(delivery).catch((err) => this.#backgroundError(err))
      },
    })
    this.#live.unsubscribe.set(topic, stop)
  }

  async #consumeLive(delivery: Delivery): Promise<void> {
    if (!this.store.db.open) return
    if (delivery.cursor <= this.store.getCursor(delivery.topic)) return
    const result: SyncResult = { received: [], joined: [], commits: 0, rejected: [] }
    await this.#consume(delivery, result)
  }

  #backgroundError(err: unknown): void {
    if (!this.store.db.open) return
    const error = err instanceof VerificationError || err instanceof UsageError ? err : wrapUnknown(err)
    this.events.emit('rejected', { envelopeId: '0x' as Hex, topic: '0x' as Hex, error })
  }

  #scheduleReconcile(): void {
    if (!this.#live || this.#reconcileTimer) return
    this.#reconcileTimer = setTimeout(() => {
      this.#reconcileTimer = undefined
      this.#reconcileGroups().catch((err) => this.#backgroundError(err))
    }, 200)
    this.#reconcileTimer.unref()
  }

  /**
   * For every group where this device is the committer (the lowest leaf among members that are still valid, so that
   * members do not race each other), removes revoked devices and adds new ones. Removal matters for security and
   * happens even when an addition cannot (a new device without key packages is retried on the next change).
   */
  async #reconcileGroups(): Promise<void> {
    if (!this.store.db.open) return
    const me = this.watcher.device(this.deviceId)
    if (!me || me.revokedAt !== undefined) return
    for (const group of this.store.listGroups()) {
      const state = deserializeGroupState(group.state, this.#config)
      if (state.groupActiveState.kind !== 'active') continue
      const members = membersOf(state)
      const valid = members.filter((m) => this.watcher.device(m.identity.deviceId)?.revokedAt === undefined)
      const committer = valid.reduce<(typeof valid)[number] | undefined>(
        (low, m) => (low === undefined || m.leafIndex < low.leafIndex ? m : low),
        undefined,
      )
      if (committer?.identity.deviceId.toLowerCase() !== this.deviceId.toLowerCase()) continue
      await this.syncMembers(group.groupId as Hex).catch((err) => {
        if (!(err instanceof NoKeyPackageError)) throw err
      })
    }
  }

  #emitState(id: Hex, conversation: Hex, state: MessageState): void {
    this.events.emit('state', { id, conversation, state })
  }

  #accepted(id: Hex, topic: Hex, cursor: bigint, leaf: Hex): void {
    if (!this.store.db.open) return
    const updated = this.store.updateMessage(id, { state: 'accepted', cursor })
    if (updated?.state === 'accepted') this.#emitState(id, topic, 'accepted')
    this.transport.submitLeaf?.({ topic, leaf }).catch(() => undefined)
  }

  /**
   * A leaf whose receipt is overdue is submitted again (the anchorer keeps one copy of each leaf), so a LEAF lost to
   * a relay crash, an outage or a refused request cannot leave a message unanchored for good.
   */
  #resubmitStaleLeaves(): void {
    const now = Date.now()
    if (!this.transport.submitLeaf || now - this.#lastLeafSweep < LEAF_RESUBMIT_MS) return
    this.#lastLeafSweep = now
    for (const m of this.store.messagesInState(['accepted', 'delivered'], 'out'))
      if (m.leaf && now - m.receivedAt > LEAF_RESUBMIT_MS)
        this.transport
          .submitLeaf({ topic: m.conversation as Hex, leaf: m.leaf as Hex })
          .catch(() => undefined)
  }

  /** Re-sends messages the relay never accepted (after a crash or while it was down), oldest first. */
  async #resendPending(): Promise<void> {
    const pending = this.store.messagesInState(['queued'], 'out')
    const publishes = pending.flatMap((m) => {
      if (!m.envelope) return []
      const envelope = decodeEnvelope(m.envelope)
      return [
        this.transport
          .publish(envelope)
          .then(({ cursor }) => this.#accepted(envelope.id, envelope.topic, cursor, m.leaf as Hex)),
      ]
    })
    // Accepted but not anchored yet: the anchorer may have lost nothing, but a leaf submission is idempotent.
    for (const m of this.store.messagesInState(['accepted', 'delivered'], 'out'))
      if (m.leaf)
        this.transport
          .submitLeaf?.({ topic: m.conversation as Hex, leaf: m.leaf as Hex })
          .catch(() => undefined)
    await Promise.all(publishes)
  }

  #onAcks(topic: Hex, acks: { deviceId: Hex; seq: bigint }[]): void {
    if (!this.store.db.open) return
    const others = this.#otherMembers(topic)
    if (!others || others.length === 0) return
    let min: bigint | undefined
    for (const deviceId of others) {
      const ack = acks.find((a) => a.deviceId.toLowerCase() === deviceId)
      if (!ack) return
      min = min === undefined || ack.seq < min ? ack.seq : min
    }
    if (min === undefined) return
    for (const m of this.store.undeliveredUpTo(topic, min)) {
      const updated = this.store.updateMessage(m.id, { state: 'delivered', delivered: true })
      if (updated?.state === 'delivered') this.#emitState(m.id as Hex, topic, 'delivered')
    }
  }

  /**
   * Device ids (lower case) of the other members of a group. ACKS frames arrive often; the group state is
   * decrypted and decoded only when it changed since the last call.
   */
  #otherMembers(groupId: Hex): string[] | undefined {
    const version = this.store.groupVersion(groupId)
    const cached = this.#members.get(groupId)
    if (cached && cached.version === version) return cached.others
    const group = this.store.getGroup(groupId)
    if (!group) return undefined
    const others = membersOf(deserializeGroupState(group.state, this.#config))
      .map((m) => m.identity.deviceId.toLowerCase())
      .filter((id) => id !== this.deviceId.toLowerCase())
    this.#members.set(groupId, { version, others })
    return others
  }

  async #checkFinality(): Promise<void> {
    if (!this.store.db.open) return
    this.#resubmitStaleLeaves()
    const anchored = this.store.messagesInState(['anchored'])
    if (anchored.length === 0) return
    const head = await this.publicClient.getBlockNumber()
    for (const m of anchored) {
      if (!m.receipt) continue
      const receipt = receiptFromStored(m.receipt)
      if (head - receipt.blockNumber + 1n < BigInt(this.#finality)) continue
      // Re-check on chain before calling it final: a reorg may have removed the anchor since.
      const check = await this.#verifyReceipt(receipt)
      if (!check.ok) continue
      this.store.updateMessage(m.id, { state: 'final' })
      this.#emitState(m.id as Hex, m.conversation as Hex, 'final')
    }
  }

  #audit<K extends LogKind>(kind: K, data: LogDataByKind[K]): void {
    const entry = this.#log.append({ kind, data })
    if (
      this.#logAnchorEvery > 0 &&
      (entry.index + 1) % this.#logAnchorEvery === 0 &&
      this.transport.submitLeaf
    ) {
      this.#pendingLogAnchor = { index: entry.index, hash: entry.hash }
      this.transport.submitLeaf({ topic: inboxTopic(this.deviceId), leaf: entry.hash }).catch(() => undefined)
    }
  }

  /** Anchors the current head of the tamper-evident log now (the receipt arrives on this device's inbox). */
  async anchorLogHead(): Promise<Hex | undefined> {
    const head = this.#log.head()
    if (!head || !this.transport.submitLeaf) return undefined
    this.#pendingLogAnchor = head
    await this.transport.submitLeaf({ topic: inboxTopic(this.deviceId), leaf: head.hash })
    return head.hash
  }

  /**
   * `verifyReceipt`, with the batch's on-chain facts (anchor, block, transaction) checked once per batch for a few
   * seconds: the receipts of one batch share them, and only each leaf's inclusion proof differs.
   */
  async #verifyReceipt(receipt: Receipt): Promise<Awaited<ReturnType<typeof verifyReceipt>>> {
    const key = `${receipt.root}:${receipt.txHash}:${receipt.blockNumber}:${receipt.treeSize}`.toLowerCase()
    const cached = this.#batchChecks.get(key)
    if (cached && Date.now() - cached.at < 10_000) {
      let included = false
      try {
        included =
          rootFromInclusionProof({
            leaf: receipt.leaf,
            index: receipt.index,
            treeSize: receipt.treeSize,
            path: receipt.path,
          }).toLowerCase() === receipt.root.toLowerCase()
      } catch {
        included = false
      }
      if (
        included &&
        receipt.chainId === this.chainId &&
        isAddressEqual(receipt.contract, this.deployment.messageAnchor)
      )
        return {
          ok: true,
          confirmations: cached.confirmations,
          steps: [
            {
              name: 'inclusion',
              ok: true,
              detail: `leaf ${receipt.index} of ${receipt.treeSize} leads to the root`,
            },
            { name: 'anchored', ok: true, detail: 'batch verified on chain moments ago' },
          ],
        }
    }
    const result = await verifyReceipt(this.publicClient, {
      receipt,
      messageAnchor: this.deployment.messageAnchor,
      chainId: this.chainId,
    })
    if (result.ok) {
      this.#batchChecks.set(key, { at: Date.now(), confirmations: result.confirmations })
      if (this.#batchChecks.size > 256)
        this.#batchChecks.delete(this.#batchChecks.keys().next().value as string)
    }
    return result
  }

  async #processReceipt(envelope: Envelope): Promise<ReceiveResult> {
    const receipt = decodeReceipt(envelope.payload)
    const check = await this.#verifyReceipt(receipt)
    if (!check.ok) {
      this.#audit('rejected', {
        envelopeId: envelope.id,
        code: 'SEALPOST_RECEIPT_INVALID',
        step: check.error?.step ?? 'unknown',
      })
      throw check.error ?? new ReceiptVerificationError({ step: 'chain', reason: 'verification failed' })
    }
    const json = JSON.stringify(receiptToJson(receipt))
    const messages = this.store.messagesByLeaf(receipt.leaf)
    this.store.transaction(() => {
      for (const m of messages) this.store.updateMessage(m.id, { state: 'anchored', receipt: json })
      this.store.markProcessed(envelope.id, 'receipt')
      if (messages.length > 0) this.#audit('receipt', { leaf: receipt.leaf, receipt: receiptToJson(receipt) })
      else if (
        this.#pendingLogAnchor &&
        receipt.leaf.toLowerCase() === this.#pendingLogAnchor.hash.toLowerCase()
      )
        this.#audit('log-anchor', {
          index: this.#pendingLogAnchor.index,
          head: receipt.leaf,
          receipt: receiptToJson(receipt),
        })
    })
    for (const m of messages) this.#emitState(m.id as Hex, m.conversation as Hex, 'anchored')
    this.events.emit('receipt', {
      leaf: receipt.leaf,
      receipt,
      messages: messages.map((m) => m.id as Hex),
      confirmations: check.confirmations,
    })
    return { type: 'receipt', leaf: receipt.leaf, messages: messages.map((m) => m.id as Hex) }
  }

  async #consume(delivery: Delivery, result: SyncResult): Promise<void> {
    const { envelope, topic, cursor } = delivery
    try {
      const outcome = await this.#exclusive(() => this.#processPatiently(envelope))
      if (outcome.type === 'message') {
        result.received.push(outcome.message)
        this.events.emit('message', outcome.message)
      } else if (outcome.type === 'joined') {
        result.joined.push(outcome.conversation)
        this.#follow(outcome.conversation)
        this.events.emit('joined', { conversation: outcome.conversation, peer: outcome.peer })
      } else if (outcome.type === 'commit') result.commits++
    } catch (err) {
      if (!(err instanceof ReplayError)) {
        const error = err instanceof VerificationError || err instanceof UsageError ? err : wrapUnknown(err)
        const rejection = {
          envelopeId: envelope.id,
          topic,
          error,
          report: (err as RejectedMessageError).report,
        }
        result.rejected.push(rejection)
        this.events.emit('rejected', rejection)
      }
    }
    if (!this.store.db.open) return
    this.store.setCursor(topic, cursor)
    await this.transport.ack({ topic, cursor })
  }

  /**
   * Processes an envelope, retrying (with backoff, while holding the processing lock so order is kept) as long as
   * the failure is transient: the chain could not be reached to verify it. Acking it instead would lose it.
   */
  async #processPatiently(envelope: Envelope): Promise<ReceiveResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#process(envelope)
      } catch (err) {
        const transient =
          err instanceof BaseError &&
          (err.code === 'SEALPOST_RPC_UNREACHABLE' || err.code === 'SEALPOST_CHAIN_REQUEST_FAILED')
        if (!transient || !this.store.db.open || this.#closing) throw err
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** Math.min(attempt, 6))))
      }
    }
  }

  async #process(envelope: Envelope): Promise<ReceiveResult> {
    const earlier = this.store.processed(envelope.id)
    if (earlier) throw new ReplayError({ messageId: envelope.id, verdict: earlier })
    try {
      switch (envelope.kind) {
        case 'welcome':
          return await this.#processWelcome(envelope)
        case 'application':
        case 'commit':
          return await this.#processGroupMessage(envelope)
        case 'receipt':
          return await this.#processReceipt(envelope)
        default:
          throw new UnexpectedEnvelopeKindError({ kind: envelope.kind })
      }
    } catch (err) {
      // Remember the verdict so a replay of the same bytes is recognised, but leave all other state unchanged.
      if (err instanceof VerificationError && this.store.db.open)
        this.store.transaction(() => {
          this.store.markProcessed(envelope.id, `rejected:${err.code}`)
          this.#audit('rejected', {
            envelopeId: envelope.id,
            code: err.code,
            step: (err as RejectedMessageError).report?.failedStep ?? envelope.kind,
          })
        })
      throw err
    }
  }

  async #processWelcome(envelope: Envelope): Promise<ReceiveResult> {
    const message = decodeMls(envelope.payload, envelope.id)
    if (message.wireformat !== 'mls_welcome')
      throw new MlsRejectedError({ messageId: envelope.id, reason: 'not a Welcome' })
    const welcome = message.welcome
    const wanted = new Set(welcome.secrets.map((s) => bytesToHex(s.newMember).toLowerCase()))
    const mine = this.store.listKeyPackages().find((kp) => wanted.has(kp.ref.toLowerCase()))
    if (!mine)
      throw new MlsRejectedError({
        messageId: envelope.id,
        reason: 'Welcome is for none of our key packages',
      })
    const publicMessage = decodeMls(mine.publicPackage)
    if (publicMessage.wireformat !== 'mls_key_package')
      throw new MlsRejectedError({ reason: 'stored key package is corrupt' })
    await this.watcher.sync()
    let state: ClientState
    try {
      state = await joinGroup(
        welcome,
        publicMessage.keyPackage,
        decodePrivateKeyPackage(mine.privatePackage),
        emptyPskIndex,
        this.#impl,
        undefined,
        undefined,
        this.#config,
      )
    } catch (cause) {
      throw new MlsRejectedError({ messageId: envelope.id, reason: reasonOf(cause), cause })
    }
    const groupId = bytesToHex(state.groupContext.groupId)
    const peers = membersOf(state).filter((m) => !isAddressEqual(m.identity.account, this.account))
    const peer = peers[0]?.identity.account ?? this.account
    this.store.transaction(() => {
      this.store.putGroup({ groupId, peer, ciphersuite: this.ciphersuite, state: serializeGroupState(state) })
      this.store.deleteKeyPackage(mine.ref)
      this.store.markProcessed(envelope.id, 'joined')
    })
    return { type: 'joined', conversation: groupId, peer }
  }

  async #processGroupMessage(envelope: Envelope): Promise<ReceiveResult> {
    const group = this.store.getGroup(envelope.topic)
    if (!group) throw new UnknownConversationError({ topic: envelope.topic })
    const message = decodeMls(envelope.payload, envelope.id)
    if (message.wireformat !== 'mls_private_message')
      throw new MlsRejectedError({
        messageId: envelope.id,
        reason: `unexpected wire format ${message.wireformat}`,
      })
    const state = deserializeGroupState(group.state, this.#config)
    if (state.groupActiveState.kind !== 'active')
      throw new MlsRejectedError({
        messageId: envelope.id,
        reason: 'this device was removed from the conversation',
      })
    const sender = await senderOf(state, message.privateMessage, this.#impl)
    let processed: Awaited<ReturnType<typeof processPrivateMessage>>
    try {
      processed = await processPrivateMessage(
        state,
        message.privateMessage,
        makePskIndex(state, {}),
        this.#impl,
      )
    } catch (cause) {
      throw new MlsRejectedError({ messageId: envelope.id, reason: reasonOf(cause), cause })
    }
    if (processed.kind === 'newState') {
      const newState = processed.newState
      this.store.transaction(() => {
        this.store.putGroup({
          groupId: group.groupId,
          peer: group.peer,
          ciphersuite: group.ciphersuite,
          state: serializeGroupState(newState),
        })
        this.store.markProcessed(envelope.id, 'commit')
      })
      processed.consumed.forEach(zeroOutUint8Array)
      return {
        type: 'commit',
        conversation: group.groupId as Hex,
        epoch: newState.groupContext.epoch,
        removed: newState.groupActiveState.kind !== 'active',
      }
    }
    if (!sender)
      throw new MlsRejectedError({ messageId: envelope.id, reason: 'sender leaf has no Sealpost credential' })
    const content = decodeApplicationContent(processed.message)
    const { statement } = content.signed
    const lastSeq = this.store.lastSeqIn(group.groupId, statement.from, statement.device)
    const { report, error } = await verifyStatement({
      signed: content.signed,
      body: content.body,
      sender: sender.identity,
      groupId: group.groupId as Hex,
      lastSeq,
      messageId: envelope.id,
      clock: this.#clock,
      chain: {
        chainId: this.chainId,
        device: (id, atLeast) => this.#lookupDevice(id, atLeast),
        block: (n) => this.#block(n),
      },
    })
    report.steps.unshift({
      name: 'mls',
      ok: true,
      detail: `decrypted in epoch ${message.privateMessage.epoch} with ${this.ciphersuite}`,
    })
    report.mls = {
      epoch: message.privateMessage.epoch,
      ciphersuite: this.ciphersuite,
      senderLeaf: sender.leafIndex,
    }
    if (error) throw Object.assign(error, { report })
    const text = new TextDecoder('utf-8', { fatal: false }).decode(content.body)
    const received: ReceivedMessage = {
      id: envelope.id,
      conversation: group.groupId as Hex,
      from: statement.from,
      device: statement.device,
      seq: statement.seq,
      sentAt: statement.sentAt,
      text,
      statement,
      signature: content.signed.signature,
      leaf: statementLeaf(content.signed.bytes, content.signed.signature),
      report,
    }
    this.store.transaction(() => {
      this.store.putGroup({
        groupId: group.groupId,
        peer: group.peer,
        ciphersuite: group.ciphersuite,
        state: serializeGroupState(processed.newState),
      })
      this.store.setSeqIn(group.groupId, statement.from, statement.device, statement.seq)
      this.store.markProcessed(envelope.id, 'accepted')
      this.store.putMessage({
        id: envelope.id,
        conversation: group.groupId,
        direction: 'in',
        from: statement.from,
        device: statement.device,
        seq: statement.seq,
        sentAt: statement.sentAt,
        body: text,
        report: JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
        receivedAt: Date.now(),
        leaf: received.leaf,
        state: 'received',
      })
      this.#audit('received', {
        envelopeId: envelope.id,
        conversation: group.groupId as Hex,
        statement: bytesToHex(content.signed.bytes),
        signature: content.signed.signature,
        leaf: received.leaf,
        body: text,
      })
    })
    processed.consumed.forEach(zeroOutUint8Array)
    return { type: 'message', message: received }
  }

  async #commit(
    group: { groupId: string; peer: string; ciphersuite: string },
    current: ClientState,
    proposals: Proposal[],
    welcomeTo: Hex[] = [],
  ): Promise<ClientState> {
    const commit = await createCommit(
      { state: current, cipherSuite: this.#impl },
      { extraProposals: proposals, ratchetTreeExtension: true },
    )
    commit.consumed.forEach(zeroOutUint8Array)
    if (
      commit.commit.wireformat !== 'mls_private_message' &&
      commit.commit.wireformat !== 'mls_public_message'
    )
      throw new MlsRejectedError({ reason: 'unexpected commit wire format' })
    const envelope = createEnvelope({
      kind: 'commit',
      topic: group.groupId as Hex,
      payload: encodeMls(commit.commit),
    })
    this.store.transaction(() => {
      this.store.putGroup({ ...group, state: serializeGroupState(commit.newState) })
      this.store.markProcessed(envelope.id, 'sent')
    })
    await this.transport.publish(envelope)
    if (commit.welcome) await this.#sendWelcome(commit.welcome, welcomeTo)
    return commit.newState
  }

  async #claimKeyPackages(devices: DeviceRecord[]): Promise<{ deviceId: Hex; keyPackage: KeyPackage }[]> {
    const claimed: { deviceId: Hex; keyPackage: KeyPackage }[] = []
    for (const device of devices) {
      const envelope = await this.transport.takeKeyPackage({ deviceId: device.deviceId })
      if (!envelope) throw new NoKeyPackageError({ deviceId: device.deviceId })
      const message = decodeMls(envelope.payload, envelope.id)
      if (message.wireformat !== 'mls_key_package')
        throw new KeyPackageRejectedError({ deviceId: device.deviceId, reason: 'not a key package' })
      const keyPackage = message.keyPackage
      const identity = identityOf(keyPackage.leafNode.credential)
      if (
        !identity ||
        identity.deviceId.toLowerCase() !== device.deviceId.toLowerCase() ||
        identity.chainId !== this.chainId
      )
        throw new KeyPackageRejectedError({
          deviceId: device.deviceId,
          reason: 'credential names another device',
        })
      if (!isAddressEqual(identity.account, device.account))
        throw new KeyPackageRejectedError({
          deviceId: device.deviceId,
          reason: 'credential names another account',
        })
      if (bytesToHex(keyPackage.leafNode.signaturePublicKey).toLowerCase() !== device.mlsKey.toLowerCase())
        throw new KeyPackageRejectedError({
          deviceId: device.deviceId,
          reason: 'MLS key differs from the registered key',
        })
      if (keyPackage.cipherSuite !== this.ciphersuite)
        throw new KeyPackageRejectedError({
          deviceId: device.deviceId,
          reason: `ciphersuite ${keyPackage.cipherSuite}`,
        })
      claimed.push({ deviceId: device.deviceId, keyPackage })
    }
    return claimed
  }

  async #sendWelcome(welcome: import('ts-mls').Welcome, deviceIds: Hex[]): Promise<void> {
    const payload = encodeMls({ version: 'mls10', wireformat: 'mls_welcome', welcome })
    for (const deviceId of deviceIds)
      await this.transport.publish(createEnvelope({ kind: 'welcome', topic: inboxTopic(deviceId), payload }))
  }

  async #lookupDevice(deviceId: Hex, atLeastBlock: bigint): Promise<DeviceRecord | undefined> {
    if (this.watcher.syncedTo < atLeastBlock || !this.watcher.device(deviceId)) await this.watcher.sync()
    return this.watcher.device(deviceId)
  }

  async #block(number: bigint): Promise<{ hash: Hex; timestamp: bigint } | undefined> {
    const cached = this.#blocks.get(number)
    if (cached) return cached
    const block = await this.publicClient.getBlock({ blockNumber: number }).catch((err) => {
      const mapped = mapChainError(err)
      if (mapped.code === 'SEALPOST_RPC_UNREACHABLE') throw mapped
      return undefined
    })
    if (!block?.hash) return undefined
    const value = { hash: block.hash, timestamp: block.timestamp }
    if (this.#blocks.size > 1024) this.#blocks.delete(this.#blocks.keys().next().value as bigint)
    this.#blocks.set(number, value)
    return value
  }

  /** The latest block, fetched at most once per polling interval (statements only need a recent one). */
  async #recentBlock(): Promise<{ number: bigint; hash: Hex }> {
    const cached = this.#latest
    if (cached && Date.now() - cached.at < Math.min(this.#pollingInterval, 2000)) return cached
    const block = await this.publicClient.getBlock({ blockTag: 'latest' }).catch((err) => {
      throw mapChainError(err)
    })
    this.#latest = { number: block.number, hash: block.hash, at: Date.now() }
    return this.#latest
  }

  async #assertActive(): Promise<void> {
    // The watcher follows the chain in the background; only an unknown device forces a sync here.
    const record = this.watcher.device(this.deviceId) ?? (await this.registration())
    if (!record || record.revokedAt !== undefined)
      throw new DeviceNotRegisteredError({
        deviceId: this.deviceId,
        revoked: record?.revokedAt !== undefined,
      })
  }

  #requireGroup(groupId: Hex) {
    const group = this.store.getGroup(groupId)
    if (!group) throw new UnknownConversationError({ topic: groupId })
    return group
  }

  #requireWallet(): LocalAccount {
    if (!this.#wallet) throw new AccountKeyRequiredError()
    return this.#wallet
  }

  #walletClient() {
    const account = this.#submitter ?? this.#requireWallet()
    return createWalletClient({ account, transport: http(this.#rpc, { retryCount: 1 }), chain: undefined })
  }
}

/**
 * The conversations of a client.
 *
 * @example const chat = await client.conversations.open(peer)
 */
export class Conversations {
  readonly #client: Client
  constructor(client: Client) {
    this.#client = client
  }

  /**
   * Opens the 1:1 conversation with `peer`: an MLS group holding every active device of both accounts. Returns
   * the existing conversation if there is one.
   */
  open(peer: Address): Promise<Conversation> {
    return this.#client.openConversation(getAddress(peer))
  }

  /** Every conversation this device is part of. */
  list(): Conversation[] {
    return this.#client.store
      .listGroups()
      .map((g) => new Conversation(this.#client, g.groupId as Hex, getAddress(g.peer)))
  }

  /** A conversation by id. */
  get(id: Hex): Conversation | undefined {
    const group = this.#client.store.getGroup(id)
    return group && new Conversation(this.#client, id, getAddress(group.peer))
  }
}

/**
 * A handle on one conversation (an MLS group).
 *
 * @example await conversation.send('hello')
 */
export class Conversation {
  readonly id: Hex
  readonly peer: Address
  readonly #client: Client
  constructor(client: Client, id: Hex, peer: Address) {
    this.#client = client
    this.id = id
    this.peer = peer
  }

  /** Seals and sends `text`: signed statement + body inside an MLS application message. */
  send(text: string, options?: SendOptions): Promise<SentMessage> {
    return this.#client.sendText(this.id, text, options)
  }

  /** Removes revoked devices and adds newly registered ones, in one MLS commit. */
  syncMembers(): Promise<{ added: Hex[]; removed: Hex[] }> {
    return this.#client.syncMembers(this.id)
  }

  /** Current epoch, members and whether this device is still in the group. */
  info(): { epoch: bigint; members: DeviceIdentity[]; active: boolean } {
    return this.#client.groupInfo(this.id)
  }

  /** Stored messages of this conversation, oldest first. */
  messages() {
    return this.#client.store.listMessages({ conversation: this.id })
  }
}

function encodePrivateKeyPackage(p: PrivateKeyPackage): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      initPrivateKey: bytesToHex(p.initPrivateKey),
      hpkePrivateKey: bytesToHex(p.hpkePrivateKey),
      signaturePrivateKey: bytesToHex(p.signaturePrivateKey),
    }),
  )
}

function decodePrivateKeyPackage(bytes: Uint8Array): PrivateKeyPackage {
  const raw = JSON.parse(new TextDecoder().decode(bytes))
  const h = (x: string) => Uint8Array.from(Buffer.from(x.slice(2), 'hex'))
  return {
    initPrivateKey: h(raw.initPrivateKey),
    hpkePrivateKey: h(raw.hpkePrivateKey),
    signaturePrivateKey: h(raw.signaturePrivateKey),
  }
}

function receiptFromStored(json: string): Receipt {
  return receiptFromJson(JSON.parse(json))
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0]?.slice(0, 200) ?? 'unknown') : 'unknown'
}

function wrapUnknown(err: unknown): BaseError {
  if (err && typeof err === 'object' && 'shortMessage' in err) return err as BaseError
  return new MlsRejectedError({ reason: reasonOf(err), cause: err })
}
