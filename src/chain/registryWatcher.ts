/** Follows KeyRegistry events into an in-memory cache that answers "which devices were valid at block B", ignoring devices whose MLS proof of possession fails. */
import { EventEmitter } from 'node:events'
import type { Address, Client, GetLogsReturnType, Hex } from 'viem'
import { getAbiItem } from 'viem'
import { getBlock, getChainId, getLogs } from 'viem/actions'
import { keyRegistryAbi } from '../../contracts/artifacts/KeyRegistry.js'
import { verifyMlsPop } from '../crypto/pop.js'
import type { BaseError } from '../errors.js'
import { mapChainError, WatcherBehindError } from './errors.js'

/**
 * One device as the watcher saw it in the event log.
 *
 * @example
 * const record: DeviceRecord | undefined = watcher.device(deviceId)
 */
export type DeviceRecord = {
  deviceId: Hex
  account: Address
  p256X: Hex
  p256Y: Hex
  mlsKey: Hex
  /** The MLS key's proof of possession from the DeviceAdded event. */
  mlsPop?: Hex
  addedAt: bigint
  revokedAt?: bigint
  addedTx: Hex
  revokedTx?: Hex
  /**
   * Why the watcher ignores this record (absent for a valid one): `mls-pop`, its MLS proof of possession does
   * not verify (someone registered a key it does not hold); `mls-key-taken`, an earlier record with a valid
   * proof owns the same MLS key. Ignored records are invisible to `device`, `devicesOf`, `activeDevicesOf` and
   * `isValidAt`; `deviceRecord` still shows them.
   */
  invalid?: 'mls-pop' | 'mls-key-taken'
}

/**
 * Payload of the watcher's 'change' event.
 *
 * @example
 * watcher.on('change', (c: RegistryChange) => console.log(c.type))
 */
export type RegistryChange =
  | { type: 'device-added'; record: DeviceRecord }
  | { type: 'device-revoked'; record: DeviceRecord }
  | { type: 'reorg'; rewoundTo: bigint }

/**
 * Events emitted by {@link RegistryWatcher}.
 *
 * @example
 * watcher.on('device-revoked', (record) => console.log(record.deviceId))
 */
export type RegistryWatcherEvents = {
  change: [RegistryChange]
  'device-added': [DeviceRecord]
  'device-revoked': [DeviceRecord]
  /** A DeviceAdded whose record is ignored (see `DeviceRecord.invalid`). */
  'device-ignored': [DeviceRecord]
  /** A background sync failed (only emitted when someone listens; otherwise kept in `lastError`). */
  error: [BaseError]
}

/**
 * Options of {@link RegistryWatcher}.
 *
 * @example
 * new RegistryWatcher({ publicClient, registry, fromBlock: deployBlock, pollingInterval: 500 })
 */
export type RegistryWatcherOptions = {
  publicClient: Client
  registry: Address
  /** First block to read (the registry's deployment block). */
  fromBlock: bigint
  /** Poll interval for new blocks in ms (default 1000). */
  pollingInterval?: number | undefined
  /** Blocks per eth_getLogs request during backfill (default 10000). */
  chunkSize?: bigint | undefined
  /** How many blocks to re-read when a reorg is detected (default 64). */
  reorgDepth?: bigint | undefined
}

const deviceAddedEvent = getAbiItem({ abi: keyRegistryAbi, name: 'DeviceAdded' })
const deviceRevokedEvent = getAbiItem({ abi: keyRegistryAbi, name: 'DeviceRevoked' })

const key = (a: string) => a.toLowerCase()

/** One DeviceAdded or DeviceRevoked log, decoded strictly. */
type RegistryLog = GetLogsReturnType<
  undefined,
  [typeof deviceAddedEvent, typeof deviceRevokedEvent],
  true
>[number]

/**
 * Keeps a local, event-sourced copy of the KeyRegistry.
 *
 * `start()` backfills DeviceAdded/DeviceRevoked logs from `fromBlock` to the head in chunks (a chunk the provider
 * refuses is split in halves), then polls.
 * Every DeviceAdded's MLS proof of possession (`mlsPop`, see `crypto/pop.ts`) is checked against the chain id,
 * registry, account and P-256 key; a record whose proof fails is ignored (as is a later record reusing an MLS
 * key that an earlier valid record owns), so an MLS key squatted under another account binds nobody.
 * Reorgs: before each sync the watcher compares the hash of the block it last synced with the chain's;
 * if it changed, it drops what it learned in the last `reorgDepth` blocks, emits
 * `change {type:'reorg'}`, and reads those blocks again. Deeper reorgs are not detected.
 *
 * @example
 * const watcher = new RegistryWatcher({ publicClient, registry, fromBlock: deployBlock })
 * await watcher.start()
 * watcher.on('device-added', (d) => console.log('new device', d.deviceId))
 * if (block > watcher.syncedTo) await watcher.sync()
 * watcher.isValidAt(account, deviceId, block)
 */
export class RegistryWatcher extends EventEmitter<RegistryWatcherEvents> {
  readonly registry: Address
  readonly fromBlock: bigint
  /** Last error of a background sync, if any. */
  lastError: BaseError | undefined
  readonly #client: Client
  readonly #pollingInterval: number
  readonly #chunkSize: bigint
  readonly #reorgDepth: bigint
  readonly #byId = new Map<Hex, DeviceRecord>()
  readonly #byAccount = new Map<string, DeviceRecord[]>()
  /** MLS key (lower-case hex) → deviceId of the first record with a valid proof that registered it. */
  readonly #mlsOwner = new Map<string, Hex>()
  #chainId: number | undefined
  #syncedTo: bigint
  #syncedHash: Hex | undefined
  #queue: Promise<unknown> = Promise.resolve()
  #timer: NodeJS.Timeout | undefined
  #running = false

  constructor(options: RegistryWatcherOptions) {
    super()
    this.#client = options.publicClient
    this.registry = options.registry
    this.fromBlock = options.fromBlock
    this.#pollingInterval = options.pollingInterval ?? 1000
    this.#chunkSize = options.chunkSize ?? 10_000n
    this.#reorgDepth = options.reorgDepth ?? 64n
    this.#syncedTo = options.fromBlock - 1n
  }

  /** Highest block whose events are in the cache (fromBlock - 1 before the first sync). */
  get syncedTo(): bigint {
    return this.#syncedTo
  }

  /**
   * Backfills to the head, then keeps following new blocks until `stop()`.
   *
   * @example
   * await watcher.start()
   */
  async start(): Promise<void> {
    if (this.#running) return
    this.#running = true
    await this.sync()
    this.#schedule()
  }

  /**
   * Stops following the chain (the cache stays readable).
   *
   * @example
   * watcher.stop()
   */
  stop(): void {
    this.#running = false
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /**
   * Catches up with the chain head now; resolves with the new `syncedTo`. Calls are serialized.
   *
   * @example
   * await watcher.sync()
   */
  sync(): Promise<bigint> {
    const run = this.#queue.then(() => this.#syncOnce())
    this.#queue = run.catch(() => {})
    return run
  }

  /**
   * Every device ever registered by `account`, oldest first.
   *
   * @example
   * watcher.devicesOf(alice).length
   */
  devicesOf(account: Address): DeviceRecord[] {
    return (this.#byAccount.get(key(account)) ?? []).filter((r) => !r.invalid).map((r) => ({ ...r }))
  }

  /**
   * The devices of `account` that are not revoked (as of `syncedTo`).
   *
   * @example
   * const keys = watcher.activeDevicesOf(bob).map((d) => d.mlsKey)
   */
  activeDevicesOf(account: Address): DeviceRecord[] {
    return this.devicesOf(account).filter((r) => r.revokedAt === undefined)
  }

  /**
   * One valid device by id (undefined for an unknown or ignored one).
   *
   * @example
   * watcher.device(deviceId)?.account
   */
  device(deviceId: Hex): DeviceRecord | undefined {
    const r = this.#byId.get(key(deviceId) as Hex)
    return r && !r.invalid ? { ...r } : undefined
  }

  /**
   * The on-chain record of `deviceId`, ignored ones included (`invalid` says why): who owns a key.
   *
   * @example
   * const owner = watcher.deviceRecord(deviceId)?.account
   */
  deviceRecord(deviceId: Hex): DeviceRecord | undefined {
    const r = this.#byId.get(key(deviceId) as Hex)
    return r ? { ...r } : undefined
  }

  /**
   * Same rule as `KeyRegistry.isValidAt`: owned by `account`, addedAt <= block, not revoked at or before
   * `block`. Throws {@link WatcherBehindError} when `block > syncedTo` (call `sync()` first).
   *
   * @example
   * watcher.isValidAt(alice, deviceId, statement.block.number)
   */
  isValidAt(account: Address, deviceId: Hex, block: bigint): boolean {
    if (block > this.#syncedTo) throw new WatcherBehindError({ block, syncedTo: this.#syncedTo })
    const r = this.#byId.get(key(deviceId) as Hex)
    if (!r || r.invalid || key(r.account) !== key(account)) return false
    return r.addedAt <= block && (r.revokedAt === undefined || block < r.revokedAt)
  }

  #schedule(): void {
    if (!this.#running) return
    this.#timer = setTimeout(() => {
      this.sync()
        .catch((err: unknown) => {
          this.lastError = mapChainError(err)
          if (this.listenerCount('error') > 0) this.emit('error', this.lastError)
        })
        .finally(() => this.#schedule())
    }, this.#pollingInterval)
  }

  async #syncOnce(): Promise<bigint> {
    try {
      if (this.#syncedHash !== undefined && this.#syncedTo >= 0n) {
        const block = await getBlock(this.#client, { blockNumber: this.#syncedTo })
        if (block.hash !== this.#syncedHash) this.#rewind()
      }
      this.#chainId ??= await getChainId(this.#client)
      const head = await getBlock(this.#client, { blockTag: 'latest' })
      if (head.number === null || head.hash === null) return this.#syncedTo
      for (let from = this.#syncedTo + 1n; from <= head.number; from += this.#chunkSize) {
        const to = from + this.#chunkSize - 1n < head.number ? from + this.#chunkSize - 1n : head.number
        const logs = await this.#logsIn(from, to)
        for (const log of logs) {
          if (log.blockNumber === null || log.transactionHash === null) continue
          if (log.eventName === 'DeviceAdded') {
            this.#added({
              deviceId: log.args.deviceId,
              account: log.args.account,
              p256X: log.args.p256X,
              p256Y: log.args.p256Y,
              mlsKey: log.args.mlsKey,
              mlsPop: log.args.mlsPop,
              addedAt: log.blockNumber,
              addedTx: log.transactionHash,
            })
          } else {
            this.#revoked(log.args.deviceId, log.blockNumber, log.transactionHash)
          }
        }
        this.#syncedTo = to
      }
      this.#syncedTo = head.number
      this.#syncedHash = head.hash
      this.lastError = undefined
      return this.#syncedTo
    } catch (err) {
      throw mapChainError(err)
    }
  }

  /**
   * The registry's DeviceAdded and DeviceRevoked logs of blocks `from`..`to`. A request that fails over more than one
   * block is split in two halves, recursively: a provider refuses a range whose answer is too large (viem stops at a
   * 10 MB response; 10,000 registrations are 11.4 MB, report §5.5a), and a transient failure costs only more requests.
   * A single block that still fails throws.
   */
  async #logsIn(from: bigint, to: bigint): Promise<RegistryLog[]> {
    try {
      return await getLogs(this.#client, {
        address: this.registry,
        events: [deviceAddedEvent, deviceRevokedEvent],
        fromBlock: from,
        toBlock: to,
        strict: true,
      })
    } catch (err) {
      if (to <= from) throw err
      const middle = from + (to - from) / 2n
      return [...(await this.#logsIn(from, middle)), ...(await this.#logsIn(middle + 1n, to))]
    }
  }

  #added(record: DeviceRecord): void {
    const id = key(record.deviceId) as Hex
    if (this.#byId.has(id)) return
    const popValid = verifyMlsPop({
      chainId: this.#chainId ?? 0,
      registry: this.registry,
      account: record.account,
      p256X: record.p256X,
      p256Y: record.p256Y,
      mlsKey: record.mlsKey,
      mlsPop: record.mlsPop ?? '0x',
    })
    const mls = key(record.mlsKey)
    if (!popValid) record.invalid = 'mls-pop'
    else if (this.#mlsOwner.has(mls)) record.invalid = 'mls-key-taken'
    else this.#mlsOwner.set(mls, id)
    this.#byId.set(id, record)
    const list = this.#byAccount.get(key(record.account)) ?? []
    list.push(record)
    this.#byAccount.set(key(record.account), list)
    if (record.invalid) {
      this.emit('device-ignored', { ...record })
      return
    }
    this.emit('device-added', { ...record })
    this.emit('change', { type: 'device-added', record: { ...record } })
  }

  #revoked(deviceId: Hex, block: bigint, tx: Hex): void {
    const r = this.#byId.get(key(deviceId) as Hex)
    if (!r || r.revokedAt !== undefined) return
    r.revokedAt = block
    r.revokedTx = tx
    if (r.invalid) return
    this.emit('device-revoked', { ...r })
    this.emit('change', { type: 'device-revoked', record: { ...r } })
  }

  #rewind(): void {
    const floor = this.fromBlock - 1n
    const target = this.#syncedTo - this.#reorgDepth > floor ? this.#syncedTo - this.#reorgDepth : floor
    for (const [id, r] of this.#byId) {
      if (r.addedAt > target) {
        this.#byId.delete(id)
        if (this.#mlsOwner.get(key(r.mlsKey)) === id) this.#mlsOwner.delete(key(r.mlsKey))
        const list = this.#byAccount.get(key(r.account)) ?? []
        const kept = list.filter((x) => x !== r)
        if (kept.length > 0) this.#byAccount.set(key(r.account), kept)
        else this.#byAccount.delete(key(r.account))
      } else if (r.revokedAt !== undefined && r.revokedAt > target) {
        delete r.revokedAt
        delete r.revokedTx
      }
    }
    this.#syncedTo = target
    this.#syncedHash = undefined
    this.emit('change', { type: 'reorg', rewoundTo: target })
  }
}
