/** The mirroring lag: origin anchors and registry changes on chain A not yet recorded by the mirror on chain B. */
import type { Address, Client, Hex } from 'viem'
import { getBlock, getBlockNumber, getContractEvents } from 'viem/actions'
import { keyRegistryAbi } from '../../../contracts/artifacts/KeyRegistry.js'
import { messageAnchorAbi } from '../../../contracts/artifacts/MessageAnchor.js'
import { withChainErrors } from '../../chain/errors.js'
import { readMirroredAnchor, readMirroredDevice } from '../../crosschain/mirrorViews.js'
import type { MirrorLag } from '../events.js'

/** A change on A the mirror must record: an anchor, or a device record as of an origin block. */
type Change =
  | { kind: 'anchor'; submitter: Address; root: Hex; block: bigint; timestamp: number }
  | { kind: 'device'; deviceId: Hex; block: bigint; timestamp: number }

/**
 * Parameters of a {@link MirrorLagTracker}.
 *
 * @example const p: MirrorLagParameters = { origin: clientA, destination: clientB, keyRegistry, messageAnchor, mirror, fromBlock }
 */
export type MirrorLagParameters = {
  origin: Client
  destination: Client
  keyRegistry: Address
  messageAnchor: Address
  mirror: Address
  /** First origin block to read (the mirror sender's deployment). */
  fromBlock: bigint
  /** Count only the anchors of these submitters (as the keeper was told); default every anchor. */
  anchorSubmitters?: readonly Address[] | undefined
  /** Most pending changes checked on B per pass (the oldest first). Default 64. */
  maxChecks?: number | undefined
}

/**
 * Follows A's Anchored, DeviceAdded and DeviceRevoked logs and asks B's mirror, on each {@link MirrorLagTracker.poll},
 * which of them it has recorded (an anchor: `anchorOf` non-zero; a device change: `syncedAt` at or after the
 * change's block). What is left is pending; its oldest entry gives the lag in A blocks and in seconds since its
 * block's timestamp (blocks carry whole seconds, so ± 1 s).
 *
 * @example
 * const tracker = new MirrorLagTracker({ origin: clientA, destination: clientB, keyRegistry, messageAnchor, mirror, fromBlock })
 * const { pending, lagBlocks, lagSeconds } = await tracker.poll()
 */
export class MirrorLagTracker {
  private readonly p: MirrorLagParameters
  private next: bigint
  private pending: Change[] = []
  private delivered = 0
  private last: { blocks: number; seconds: number } | undefined

  constructor(parameters: MirrorLagParameters) {
    this.p = parameters
    this.next = parameters.fromBlock
  }

  /**
   * Reads A up to its head, then checks the oldest pending changes on B; returns the lag now.
   *
   * @example const lag = await tracker.poll()
   */
  async poll(now = Date.now()): Promise<MirrorLag> {
    const { origin, destination, mirror } = this.p
    const head = await withChainErrors(() => getBlockNumber(origin, { cacheTime: 0 }))
    if (head >= this.next) {
      this.pending.push(...(await this.read(this.next, head)))
      this.next = head + 1n
    }
    const checks = this.pending.slice(0, this.p.maxChecks ?? 64)
    const done = await Promise.all(
      checks.map(async (c) => {
        if (c.kind === 'anchor')
          return (
            (await readMirroredAnchor(destination, { mirror, submitter: c.submitter, root: c.root })) !==
            undefined
          )
        const d = await readMirroredDevice(destination, { mirror, deviceId: c.deviceId })
        return BigInt(d.syncedAt) >= c.block
      }),
    )
    const seconds = (c: Change) => Math.max(0, now / 1000 - c.timestamp)
    const blocks = (c: Change) => Number(head > c.block ? head - c.block : 0n)
    let newest: Change | undefined
    checks.forEach((c, i) => {
      if (done[i]) {
        this.delivered++
        if (!newest || c.block >= newest.block) newest = c
      }
    })
    if (newest) this.last = { blocks: blocks(newest), seconds: seconds(newest) }
    this.pending = this.pending.filter((c) => !checks.includes(c) || !done[checks.indexOf(c)])
    const oldest = this.pending[0]
    return {
      pending: this.pending.length,
      lagBlocks: oldest ? blocks(oldest) : 0,
      lagSeconds: oldest ? seconds(oldest) : 0,
      delivered: this.delivered,
      ...(this.last ? { lastLagBlocks: this.last.blocks, lastLagSeconds: this.last.seconds } : {}),
    }
  }

  /** The changes of blocks `from`..`to` in block order, each with its block's timestamp. */
  private async read(fromBlock: bigint, toBlock: bigint): Promise<Change[]> {
    const { origin, keyRegistry, messageAnchor } = this.p
    const range = { fromBlock, toBlock, strict: true } as const
    const [added, revoked, anchored] = await withChainErrors(() =>
      Promise.all([
        getContractEvents(origin, {
          address: keyRegistry,
          abi: keyRegistryAbi,
          eventName: 'DeviceAdded',
          ...range,
        }),
        getContractEvents(origin, {
          address: keyRegistry,
          abi: keyRegistryAbi,
          eventName: 'DeviceRevoked',
          ...range,
        }),
        getContractEvents(origin, {
          address: messageAnchor,
          abi: messageAnchorAbi,
          eventName: 'Anchored',
          ...range,
        }),
      ]),
    )
    const only = this.p.anchorSubmitters?.map((a) => a.toLowerCase())
    const times = new Map<bigint, number>()
    const timeOf = async (block: bigint) => {
      let t = times.get(block)
      if (t === undefined) {
        t = Number((await withChainErrors(() => getBlock(origin, { blockNumber: block }))).timestamp)
        times.set(block, t)
      }
      return t
    }
    const changes: Change[] = []
    for (const log of [...added, ...revoked])
      changes.push({
        kind: 'device',
        deviceId: log.args.deviceId,
        block: log.blockNumber,
        timestamp: await timeOf(log.blockNumber),
      })
    for (const log of anchored)
      if (!only || only.includes(log.args.submitter.toLowerCase()))
        changes.push({
          kind: 'anchor',
          submitter: log.args.submitter,
          root: log.args.root,
          block: log.blockNumber,
          timestamp: await timeOf(log.blockNumber),
        })
    return changes.sort((a, b) => (a.block < b.block ? -1 : a.block > b.block ? 1 : 0))
  }
}
