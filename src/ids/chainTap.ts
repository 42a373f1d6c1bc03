/** The chain tap: a registry watcher's events as IDS events (device-added, -rotated, -revoked, reorg). */
import type { Address, Hex } from 'viem'
import type { DeviceRecord, RegistryChange, RegistryWatcher } from '../chain/registryWatcher.js'
import type { IdsEvent, IdsEventSink } from './events.js'

/**
 * Options of `tapRegistryWatcher`.
 *
 * @example const o: ChainTapOptions = { submitterOf: async (tx) => (await publicClient.getTransaction({ hash: tx })).from }
 */
export type ChainTapOptions = {
  /** The sender of a registry transaction (who submitted it); without it, or when it fails, `unknown`. */
  submitterOf?: ((tx: Hex) => Promise<Address | string>) | undefined
  now?: (() => number) | undefined
}

type Watcher = Pick<RegistryWatcher, 'on' | 'off' | 'devicesOf'>

/**
 * Follows `watcher` and emits an IDS event for each registry change: `device-added` (with `newAccount` when it is
 * the account's first device), `device-revoked`, `device-rotated` for a device added in the same transaction that
 * revoked another of the account's devices (a rotation), and `reorg` (its depth: blocks rewound from the highest
 * block seen). Returns the function that stops following.
 *
 * @example const untap = tapRegistryWatcher(watcher, ids.sink, { submitterOf }); …; untap()
 */
export function tapRegistryWatcher(
  watcher: Watcher,
  sink: IdsEventSink,
  options: ChainTapOptions = {},
): () => void {
  const now = options.now ?? Date.now
  let highest = 0n
  // Transactions seen recently, to pair a rotation's DeviceRevoked and DeviceAdded (same tx, same account).
  const addedByTx = new Map<Hex, DeviceRecord>()
  const revokedByTx = new Map<Hex, DeviceRecord>()
  const remember = (m: Map<Hex, DeviceRecord>, tx: Hex, r: DeviceRecord) => {
    m.set(tx, r)
    if (m.size > 256) m.delete(m.keys().next().value as Hex)
  }
  const submitter = async (tx: Hex): Promise<string> => {
    if (!options.submitterOf) return 'unknown'
    try {
      return String(await options.submitterOf(tx)).toLowerCase()
    } catch {
      return 'unknown'
    }
  }
  const send = (e: IdsEvent) => sink.emit(e)
  const rotated = (r: DeviceRecord, tx: Hex) =>
    void submitter(tx).then((s) =>
      send({
        v: 1,
        t: now(),
        src: 'chain',
        kind: 'device-rotated',
        ...ids(r),
        submitter: s,
        block: num(r.addedAt),
      }),
    )

  const onAdded = (r: DeviceRecord) => {
    if (r.addedAt > highest) highest = r.addedAt
    const newAccount = watcher.devicesOf(r.account).length <= 1
    remember(addedByTx, r.addedTx, r)
    void submitter(r.addedTx).then((s) =>
      send({
        v: 1,
        t: now(),
        src: 'chain',
        kind: 'device-added',
        ...ids(r),
        submitter: s,
        block: num(r.addedAt),
        newAccount,
      }),
    )
    const old = revokedByTx.get(r.addedTx)
    if (old && sameAccount(old, r)) rotated(r, r.addedTx)
  }
  const onRevoked = (r: DeviceRecord) => {
    const tx = r.revokedTx ?? r.addedTx
    const block = r.revokedAt ?? r.addedAt
    if (block > highest) highest = block
    remember(revokedByTx, tx, r)
    void submitter(tx).then((s) =>
      send({
        v: 1,
        t: now(),
        src: 'chain',
        kind: 'device-revoked',
        ...ids(r),
        submitter: s,
        block: num(block),
      }),
    )
    const added = addedByTx.get(tx)
    if (added && sameAccount(added, r)) rotated(added, tx)
  }
  const onChange = (c: RegistryChange) => {
    if (c.type !== 'reorg') return
    const depth = highest > c.rewoundTo ? Number(highest - c.rewoundTo) : 0
    send({ v: 1, t: now(), src: 'chain', kind: 'reorg', depth, block: num(c.rewoundTo) })
    highest = c.rewoundTo
  }
  watcher.on('device-added', onAdded)
  watcher.on('device-revoked', onRevoked)
  watcher.on('change', onChange)
  return () => {
    watcher.off('device-added', onAdded)
    watcher.off('device-revoked', onRevoked)
    watcher.off('change', onChange)
  }
}

function ids(r: DeviceRecord): { account: string; device: string } {
  return { account: r.account.toLowerCase(), device: r.deviceId.toLowerCase() }
}

function sameAccount(a: DeviceRecord, b: DeviceRecord): boolean {
  return a.account.toLowerCase() === b.account.toLowerCase()
}

function num(block: bigint): number {
  return Number(block)
}
