/** The anchor tap: every `Anchored` log of the MessageAnchor contract as an IDS `anchor` event (front-running). */
import type { Address, Client } from 'viem'
import { getBlockNumber, getContractEvents } from 'viem/actions'
import { messageAnchorAbi } from '../../contracts/artifacts/MessageAnchor.js'
import { decodeAnchoredLogs } from '../chain/messageAnchor.js'
import type { IdsEventSink } from './events.js'

/**
 * Options of `tapAnchorLogs`.
 *
 * @example const o: AnchorTapOptions = { contract: deployment.messageAnchor, pollMs: 2_000 }
 */
export type AnchorTapOptions = {
  /** The MessageAnchor contract whose `Anchored` logs are read. */
  contract: Address
  /** First block read (default: the block after the chain's head when the tap starts: history is not news). */
  fromBlock?: bigint | undefined
  /** Poll period (default 2 s); 0 polls only when `poll()` is called. */
  pollMs?: number | undefined
  /** Blocks read per request at most (default 2,000). */
  maxRange?: bigint | undefined
  now?: (() => number) | undefined
}

/**
 * A running anchor tap: `poll()` reads the blocks up to the head now (resolves with the events emitted),
 * `stop()` ends the polling; `failures` counts polls the chain refused (retried at the next one).
 *
 * @example const tap = tapAnchorLogs(publicClient, ids, { contract }); await tap.poll(); tap.stop()
 */
export type AnchorTap = { poll(): Promise<number>; stop(): void; readonly failures: number }

/**
 * Follows the `Anchored(root, submitter, leafCount, meta)` logs of `contract` and emits `anchor` (root, submitter,
 * block) for each, in block order. Whether the submitter is a known anchorer is the engine's rule
 * (`unknown-anchorer`, docs/ids.md §4), not the tap's: the tap reports every anchor. Polls overlap never: a poll
 * that is still running is awaited, not doubled.
 *
 * @example const tap = tapAnchorLogs(publicClient, liveIds, { contract: deployment.messageAnchor }); …; tap.stop()
 */
export function tapAnchorLogs(client: Client, sink: IdsEventSink, options: AnchorTapOptions): AnchorTap {
  const { contract, pollMs = 2_000, maxRange = 2_000n, now = Date.now } = options
  let next: bigint | undefined = options.fromBlock
  let running: Promise<number> | undefined
  let stopped = false
  let failures = 0

  const readOnce = async (): Promise<number> => {
    const head = await getBlockNumber(client, { cacheTime: 0 })
    if (next === undefined) {
      next = head + 1n
      return 0
    }
    let emitted = 0
    for (let from: bigint = next; from <= head && !stopped; from = next) {
      const to: bigint = from + maxRange - 1n < head ? from + maxRange - 1n : head
      const logs = await getContractEvents(client, {
        address: contract,
        abi: messageAnchorAbi,
        eventName: 'Anchored',
        fromBlock: from,
        toBlock: to,
      })
      for (const e of decodeAnchoredLogs(logs, { contract })) {
        if (stopped) break
        sink.emit({
          v: 1,
          t: now(),
          src: 'chain',
          kind: 'anchor',
          root: e.root.toLowerCase(),
          submitter: e.submitter.toLowerCase(),
          block: Number(e.blockNumber ?? to),
        })
        emitted += 1
      }
      next = to + 1n
    }
    return emitted
  }
  const poll = (): Promise<number> => {
    running ??= readOnce()
      .catch(() => {
        failures += 1
        return 0
      })
      .finally(() => {
        running = undefined
      })
    return running
  }
  void poll()
  const timer = pollMs > 0 ? setInterval(() => void poll(), pollMs) : undefined
  timer?.unref()
  return {
    poll: async () => {
      await running
      return poll()
    },
    stop: () => {
      stopped = true
      if (timer) clearInterval(timer)
    },
    get failures() {
      return failures
    },
  }
}
