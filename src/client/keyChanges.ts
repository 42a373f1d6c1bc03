/** Key-change alerts: a contact's device set changed (added, revoked, rotated); emitted once per change, offline ones on start. */
import { type Address, getAddress, type Hex, isAddressEqual } from 'viem'
import type { DeviceRecord } from '../chain/registryWatcher.js'
import { safetyNumber } from '../protocol/safetyNumber.js'
import {
  contactSeenTo,
  ensureKeyChangeTables,
  hasKeyChange,
  listKeyChanges,
  putKeyChange,
  type StoredKeyChange,
  setContactSeenTo,
  storedConversations,
} from '../store/keyChanges.js'
import type { ClientContext } from './context.js'
import { contextOf, GROUP_PEER } from './conversationPolicy.js'
import { deserializeGroupState } from './mls.js'

/**
 * A contact's device set changed in one registry transaction: `added` (a device registered), `revoked`, or `rotated`
 * (one transaction revoked and added, as `rotateDevice` does). The fingerprints are the account's safety numbers
 * (protocol §2.5) before and after the change.
 *
 * @example client.events.on('keyChange', (c: KeyChangeEvent) => console.log(c.account, c.kind, c.fingerprintAfter))
 */
export type KeyChangeEvent = {
  account: Address
  kind: 'added' | 'revoked' | 'rotated'
  /** Every device the change touched: the revoked ones, then the added ones. */
  deviceIds: Hex[]
  added: Hex[]
  revoked: Hex[]
  block: bigint
  txHash: Hex
  fingerprintBefore: string
  fingerprintAfter: string
}

/**
 * One change of an account's device set, as the registry history shows it (before fingerprints are computed).
 *
 * @example const changes: DeviceSetChange[] = deviceSetChanges(watcher.devicesOf(bob))
 */
export type DeviceSetChange = {
  kind: KeyChangeEvent['kind']
  added: Hex[]
  revoked: Hex[]
  block: bigint
  txHash: Hex
  /** The account's active devices just before and just after this change. */
  before: DeviceRecord[]
  after: DeviceRecord[]
}

/**
 * An account's device-set changes from its registry records, in chain order: the records' additions and revocations
 * grouped by transaction; a transaction that both revokes and adds is a rotation.
 *
 * @example deviceSetChanges(watcher.devicesOf(bob)).map((c) => c.kind) // ['added', 'added', 'rotated']
 */
export function deviceSetChanges(records: readonly DeviceRecord[]): DeviceSetChange[] {
  const byTx = new Map<
    string,
    { block: bigint; txHash: Hex; added: DeviceRecord[]; revoked: DeviceRecord[] }
  >()
  const at = (txHash: Hex, block: bigint) => {
    const key = txHash.toLowerCase()
    let entry = byTx.get(key)
    if (!entry) {
      entry = { block, txHash, added: [], revoked: [] }
      byTx.set(key, entry)
    }
    return entry
  }
  for (const r of records) {
    at(r.addedTx, r.addedAt).added.push(r)
    if (r.revokedAt !== undefined && r.revokedTx) at(r.revokedTx, r.revokedAt).revoked.push(r)
  }
  const ordered = [...byTx.values()].sort((a, b) =>
    a.block === b.block
      ? a.txHash.toLowerCase() < b.txHash.toLowerCase()
        ? -1
        : 1
      : a.block < b.block
        ? -1
        : 1,
  )
  const active = new Map<string, DeviceRecord>()
  return ordered.map((c) => {
    const before = [...active.values()]
    for (const r of c.revoked) active.delete(r.deviceId.toLowerCase())
    for (const r of c.added) active.set(r.deviceId.toLowerCase(), r)
    const kind =
      c.added.length > 0 && c.revoked.length > 0 ? 'rotated' : c.added.length > 0 ? 'added' : 'revoked'
    return {
      kind,
      added: c.added.map((r) => r.deviceId),
      revoked: c.revoked.map((r) => r.deviceId),
      block: c.block,
      txHash: c.txHash,
      before,
      after: [...active.values()],
    }
  })
}

/**
 * The other member accounts of each stored conversation, decoded once per stored version of its group state (a
 * check after every commit would otherwise decode every group again).
 *
 * @example const cache: ContactCache = new Map()
 */
export type ContactCache = Map<string, { version: number; members: Address[] }>

/**
 * The accounts this device shares an active conversation or group with (its contacts), this account excluded; only
 * those of conversation `only` when given.
 *
 * @example contactsOf(ctx).map((a) => a)
 */
export function contactsOf(
  ctx: Pick<ClientContext, 'store' | 'config' | 'account'>,
  only?: Hex,
  cache: ContactCache = new Map(),
): Address[] {
  const found = new Map<string, Address>()
  for (const { groupId, peer } of storedConversations(ctx.store.db)) {
    if (only && groupId.toLowerCase() !== only.toLowerCase()) continue
    const version = ctx.store.groupVersion(groupId)
    let entry = cache.get(groupId)
    if (!entry || entry.version !== version) {
      const group = ctx.store.getGroup(groupId)
      if (!group) continue
      const state = deserializeGroupState(group.state, ctx.config)
      const members =
        state.groupActiveState.kind !== 'active'
          ? []
          : peer !== GROUP_PEER
            ? [getAddress(peer)]
            : contextOf(state).members
      entry = { version, members: members.filter((m) => !isAddressEqual(m, ctx.account)) }
      cache.set(groupId, entry)
    }
    for (const m of entry.members) found.set(m.toLowerCase(), getAddress(m))
  }
  return [...found.values()]
}

/**
 * Follows the device sets of this client's contacts and emits `keyChange` once per change and contact, also for
 * changes made while the client was offline (the registry history is read again on start). A contact is followed
 * from the block at which this device first saw it in a conversation (`note`); what was alerted is recorded in the
 * device store, so a restart does not alert again.
 *
 * @example const monitor = new KeyChangeMonitor(ctx, { onError }); monitor.note(groupId); await monitor.check()
 */
export class KeyChangeMonitor {
  readonly #ctx: ClientContext
  readonly #onError: (err: unknown) => void
  readonly #contacts: ContactCache = new Map()
  #queue: Promise<unknown> = Promise.resolve()
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(ctx: ClientContext, { onError }: { onError: (err: unknown) => void }) {
    this.#ctx = ctx
    this.#onError = onError
    ensureKeyChangeTables(ctx.store.db)
  }

  /**
   * Starts following the contacts of conversation `groupId` that were not followed yet, from the registry view's
   * current block (their earlier history is not a change this device saw).
   *
   * @example monitor.note(groupId)
   */
  note(groupId: Hex): void {
    const { store, watcher } = this.#ctx
    if (this.#stopped || !store.db.open || !store.getGroup(groupId)) return
    for (const account of contactsOf(this.#ctx, groupId, this.#contacts))
      if (contactSeenTo(store.db, account) === undefined)
        setContactSeenTo(store.db, account, watcher.syncedTo)
  }

  /**
   * Checks again shortly (changes arrive in bursts: one check for all of them).
   *
   * @example watcher.on('change', () => monitor.schedule())
   */
  schedule(): void {
    if (this.#stopped || this.#timer) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.check().catch((err) => this.#onError(err))
    }, 100)
    this.#timer.unref()
  }

  /**
   * Emits `keyChange` for every change of a contact's device set not alerted yet, and records it. Calls are
   * serialized. Returns what it emitted.
   *
   * @example const emitted = await monitor.check()
   */
  check(): Promise<KeyChangeEvent[]> {
    const run = this.#queue.then(() => this.#checkOnce())
    this.#queue = run.catch(() => undefined)
    return run
  }

  /**
   * Stops scheduled checks.
   *
   * @example monitor.stop()
   */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #checkOnce(): KeyChangeEvent[] {
    const ctx = this.#ctx
    const { db } = ctx.store
    if (this.#stopped || !db.open) return []
    const emitted: KeyChangeEvent[] = []
    const syncedTo = ctx.watcher.syncedTo
    for (const account of contactsOf(ctx, undefined, this.#contacts)) {
      const seenTo = contactSeenTo(db, account)
      if (seenTo === undefined) {
        setContactSeenTo(db, account, syncedTo)
        continue
      }
      for (const change of deviceSetChanges(ctx.watcher.devicesOf(account))) {
        const id = `${change.txHash}:${account}`
        if (change.block <= seenTo || change.block > syncedTo || hasKeyChange(db, id)) continue
        const event = this.#event(account, change)
        if (putKeyChange(db, stored(id, event))) {
          emitted.push(event)
          ctx.events.emit('keyChange', event)
        }
      }
      setContactSeenTo(db, account, syncedTo)
    }
    return emitted
  }

  #event(account: Address, change: DeviceSetChange): KeyChangeEvent {
    const { chainId, deployment } = this.#ctx
    const fingerprint = (devices: DeviceRecord[]) =>
      safetyNumber({ chainId, registry: deployment.keyRegistry, account, devices })
    return {
      account,
      kind: change.kind,
      deviceIds: [...change.revoked, ...change.added],
      added: change.added,
      revoked: change.revoked,
      block: change.block,
      txHash: change.txHash,
      fingerprintBefore: fingerprint(change.before),
      fingerprintAfter: fingerprint(change.after),
    }
  }
}

/**
 * The key-change alerts this device emitted (of one account, or all), oldest first.
 *
 * @example recordedKeyChanges(ctx, { account: bob }).length
 */
export function recordedKeyChanges(
  ctx: Pick<ClientContext, 'store'>,
  { account }: { account?: Address | undefined } = {},
): KeyChangeEvent[] {
  ensureKeyChangeTables(ctx.store.db)
  return listKeyChanges(ctx.store.db, account ? { account } : {}).map((c) => ({
    account: getAddress(c.account),
    kind: c.kind,
    deviceIds: [...c.revoked, ...c.added] as Hex[],
    added: c.added as Hex[],
    revoked: c.revoked as Hex[],
    block: c.block,
    txHash: c.txHash as Hex,
    fingerprintBefore: c.fingerprintBefore,
    fingerprintAfter: c.fingerprintAfter,
  }))
}

/**
 * The safety number of `account`'s active device set at the registry view's current block (synced first).
 *
 * @example const { safetyNumber, block } = await currentSafetyNumber(ctx, bob)
 */
export async function currentSafetyNumber(
  ctx: Pick<ClientContext, 'watcher' | 'chainId' | 'deployment'>,
  account: Address,
): Promise<{ account: Address; block: bigint; devices: Hex[]; safetyNumber: string }> {
  const block = await ctx.watcher.sync()
  const devices = ctx.watcher.activeDevicesOf(account)
  return {
    account: getAddress(account),
    block,
    devices: devices.map((d) => d.deviceId),
    safetyNumber: safetyNumber({
      chainId: ctx.chainId,
      registry: ctx.deployment.keyRegistry,
      account,
      devices,
    }),
  }
}

function stored(id: string, e: KeyChangeEvent): StoredKeyChange {
  return {
    id,
    account: e.account,
    kind: e.kind,
    added: e.added,
    revoked: e.revoked,
    block: e.block,
    txHash: e.txHash,
    fingerprintBefore: e.fingerprintBefore,
    fingerprintAfter: e.fingerprintAfter,
    emittedAt: Date.now(),
  }
}
