/** The mirror keeper: turns the origin's KeyRegistry and MessageAnchor events into SealpostMirrorSender dispatches. */
import type { Address, Client, Hex } from 'viem'
import { getBlockNumber, getContractEvents } from 'viem/actions'
import { keyRegistryAbi } from '../../contracts/artifacts/KeyRegistry.js'
import { messageAnchorAbi } from '../../contracts/artifacts/MessageAnchor.js'
import { withChainErrors } from '../chain/errors.js'
import type { WriteClient } from '../chain/sendAndWait.js'
import { type MirrorDispatch, type MirrorRoute, mirrorAnchors, mirrorDevices } from './dispatchMirror.js'
import { PollLoop } from './pollLoop.js'

/**
 * Parameters of a {@link MirrorKeeper}.
 *
 * @example
 * const p: MirrorKeeperParameters = { client: clientA, wallet: walletA, keyRegistry, messageAnchor, route, fromBlock: 0n }
 */
export type MirrorKeeperParameters = {
  client: Client
  wallet: WriteClient
  keyRegistry: Address
  messageAnchor: Address
  route: MirrorRoute
  fromBlock: bigint
  /** Mirror only the anchors of these submitters (e.g. the relays' anchorers); default: every anchor. */
  anchorSubmitters?: readonly Address[] | undefined
  /** Most records per message (default 32). */
  maxBatch?: number | undefined
}

/**
 * The keeper role: {@link MirrorKeeper.poll} reads DeviceAdded and DeviceRevoked (a rotation emits both) and
 * Anchored logs since its last pass and dispatches each changed device and each new anchor, batched. It chooses
 * only what to mirror: the sender reads every value from the registry and the anchor contract itself, so a faulty
 * or malicious keeper can delay or skip mirroring, never falsify it; anyone may run one.
 *
 * @example
 * const keeper = new MirrorKeeper({ client, wallet, keyRegistry, messageAnchor, route, fromBlock })
 * const dispatches = await keeper.poll()
 */
export class MirrorKeeper {
  private readonly p: MirrorKeeperParameters
  private next: bigint
  private loop: PollLoop<MirrorDispatch[]> | undefined

  constructor(parameters: MirrorKeeperParameters) {
    this.p = parameters
    this.next = parameters.fromBlock
  }

  /**
   * One pass up to the origin's head; returns the dispatches it made (devices first, then anchors).
   *
   * @example
   * for (const d of await keeper.poll()) console.log(d.messageId, d.gasUsed)
   */
  async poll(): Promise<MirrorDispatch[]> {
    const { client, wallet, route } = this.p
    const head = await withChainErrors(() => getBlockNumber(client, { cacheTime: 0 }))
    if (head < this.next) return []
    const range = { fromBlock: this.next, toBlock: head, strict: true } as const
    const [added, revoked, anchored] = await withChainErrors(() =>
      Promise.all([
        getContractEvents(client, {
          address: this.p.keyRegistry,
          abi: keyRegistryAbi,
          eventName: 'DeviceAdded',
          ...range,
        }),
        getContractEvents(client, {
          address: this.p.keyRegistry,
          abi: keyRegistryAbi,
          eventName: 'DeviceRevoked',
          ...range,
        }),
        getContractEvents(client, {
          address: this.p.messageAnchor,
          abi: messageAnchorAbi,
          eventName: 'Anchored',
          ...range,
        }),
      ]),
    )
    const devices = new Map<Hex, { account: Address; deviceId: Hex }>()
    for (const log of [...added, ...revoked]) {
      devices.set(log.args.deviceId, { account: log.args.account, deviceId: log.args.deviceId })
    }
    const only = this.p.anchorSubmitters?.map((a) => a.toLowerCase())
    const anchors = anchored
      .filter((log) => !only || only.includes(log.args.submitter.toLowerCase()))
      .map((log) => ({ submitter: log.args.submitter, root: log.args.root }))
    const max = this.p.maxBatch ?? 32
    const out: MirrorDispatch[] = []
    const list = [...devices.values()]
    for (let i = 0; i < list.length; i += max)
      out.push(await mirrorDevices(wallet, route, list.slice(i, i + max)))
    for (let i = 0; i < anchors.length; i += max)
      out.push(await mirrorAnchors(wallet, route, anchors.slice(i, i + max)))
    this.next = head + 1n
    return out
  }

  /**
   * Polls every `intervalMs` until {@link MirrorKeeper.stop}; each pass's dispatches go to `onDispatches`, a failed
   * pass to `onError` (the next pass starts again from the first block not mirrored).
   *
   * @example
   * keeper.start(500, { onError: (e) => console.error(e) })
   */
  start(
    intervalMs: number,
    {
      onDispatches,
      onError,
    }: {
      onDispatches?: ((d: MirrorDispatch[]) => void) | undefined
      onError?: ((err: unknown) => void) | undefined
    } = {},
  ): void {
    if (this.loop?.active) return
    this.loop = new PollLoop(() => this.poll(), intervalMs, onError, onDispatches)
    this.loop.start()
  }

  /** Stops polling and waits for a pass in progress. @example await keeper.stop() */
  async stop(): Promise<void> {
    await this.loop?.stop()
  }
}
