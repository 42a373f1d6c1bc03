/** The later states of messages the dashboard only sees at the relay: delivered from acks, anchored from receipts, final from the chain. */
import type { Address, Hex } from 'viem'
import { DEFAULT_FINALITY } from '../../protocol/messageState.js'
import type { MessageEvent } from '../events.js'
import { REMEMBERED_ENVELOPES } from './collector.js'

/** A leaf submitted this long after its envelope was accepted is not paired with it (a late resubmission). */
export const LEAF_PAIRING_MS = 10_000

type Tracked = {
  id: Hex
  topic: Hex
  seq: bigint
  from: Address
  device: Hex
  to: Address[]
  delivered: boolean
  acceptedAt: number
  leaf?: Hex
  /** Block of the anchor transaction, once a receipt covers the leaf. */
  block?: bigint
  final: boolean
}

/**
 * Follows envelopes from the relay's and the anchorer's events (no client needed) and says which state each
 * reached, as `message` events: `delivered` once a device of another account acked the envelope's sequence
 * number on its topic (`to` names the accounts that acked), `anchored` once the anchorer issued a receipt for
 * the leaf its publisher submitted right after it, `final` once that anchor is `finality` blocks deep.
 *
 * A leaf carries nothing that names its envelope (the statement is inside the encrypted payload): the tracker
 * pairs each new leaf with the oldest envelope its submitter published on the same topic in the last
 * {@link LEAF_PAIRING_MS} that has no leaf yet, which is what a client does (publish, then submit the leaf).
 *
 * Pure state, no I/O: every method returns the events to emit. Bounded to {@link REMEMBERED_ENVELOPES} envelopes.
 *
 * @example
 * const tracker = createRelayStateTracker()
 * tracker.published({ id, topic, seq: 3n, from, device })
 * for (const event of tracker.acked({ topic, seq: 3n, account: bob })) hub.emit(event)
 */
export function createRelayStateTracker({
  finality = DEFAULT_FINALITY,
  limit = REMEMBERED_ENVELOPES,
  now = Date.now,
}: {
  finality?: number
  limit?: number
  now?: () => number
} = {}) {
  const byId = new Map<Hex, Tracked>()
  /** Topic → its envelopes not yet delivered, in sequence order. */
  const undelivered = new Map<Hex, Tracked[]>()
  /** `topic|device` → its envelopes that have no leaf yet, oldest first. */
  const awaitingLeaf = new Map<string, Tracked[]>()
  const byLeaf = new Map<Hex, Tracked>()
  /** Anchored, not final yet. */
  const anchored = new Set<Tracked>()

  const event = (t: Tracked, state: MessageEvent['state'], observer: string): MessageEvent => ({
    type: 'message',
    at: now(),
    id: t.id,
    conversation: t.topic,
    from: t.from,
    fromDevice: t.device,
    to: t.to,
    state,
    seq: t.seq.toString(),
    ...(t.leaf ? { leaf: t.leaf } : {}),
    observer,
  })
  const forget = (t: Tracked) => {
    byId.delete(t.id)
    if (t.leaf) byLeaf.delete(t.leaf)
    anchored.delete(t)
  }

  return {
    /**
     * The relay accepted an application envelope from `device` (of account `from`).
     *
     * @example tracker.published({ id, topic, seq: 3n, from: alice, device })
     */
    published({
      id,
      topic,
      seq,
      from,
      device,
    }: {
      id: Hex
      topic: Hex
      seq: bigint
      from: Address
      device: Hex
    }) {
      if (byId.has(id)) return
      const t: Tracked = {
        id,
        topic,
        seq,
        from,
        device,
        to: [],
        delivered: false,
        acceptedAt: now(),
        final: false,
      }
      byId.set(id, t)
      if (byId.size > limit) {
        const oldest = byId.values().next().value as Tracked
        forget(oldest)
      }
      const list = undelivered.get(topic) ?? []
      list.push(t)
      undelivered.set(topic, list.slice(-limit))
      const key = `${topic}|${device.toLowerCase()}`
      const waiting = (awaitingLeaf.get(key) ?? []).filter((w) => now() - w.acceptedAt <= LEAF_PAIRING_MS)
      waiting.push(t)
      awaitingLeaf.set(key, waiting)
    },

    /**
     * A device of `account` acked `topic` up to `seq`: the envelopes up to there that another account published
     * are delivered (to `account`).
     *
     * @example tracker.acked({ topic, seq: 3n, account: bob })
     */
    acked({ topic, seq, account }: { topic: Hex; seq: bigint; account: Address }): MessageEvent[] {
      const list = undelivered.get(topic)
      if (!list) return []
      const out: MessageEvent[] = []
      for (const t of list) {
        if (t.seq > seq || t.from.toLowerCase() === account.toLowerCase() || !byId.has(t.id)) continue
        if (!t.to.some((a) => a.toLowerCase() === account.toLowerCase())) t.to = [...t.to, account]
        t.delivered = true
        out.push(event(t, 'delivered', 'relay'))
      }
      const rest = list.filter((t) => !t.delivered && byId.has(t.id))
      if (rest.length) undelivered.set(topic, rest)
      else undelivered.delete(topic)
      return out
    },

    /**
     * The anchorer took a new leaf from `submitter` for `topic`: it belongs to that device's oldest envelope on
     * the topic that has none yet (and was accepted less than {@link LEAF_PAIRING_MS} ago).
     *
     * @example tracker.leaf({ leaf, topic, submitter: deviceId })
     */
    leaf({ leaf, topic, submitter }: { leaf: Hex; topic: Hex; submitter: Hex }): void {
      const key = `${topic}|${submitter.toLowerCase()}`
      const waiting = (awaitingLeaf.get(key) ?? []).filter(
        (w) => now() - w.acceptedAt <= LEAF_PAIRING_MS && byId.has(w.id),
      )
      const t = waiting.shift()
      if (waiting.length) awaitingLeaf.set(key, waiting)
      else awaitingLeaf.delete(key)
      if (!t) return
      t.leaf = leaf.toLowerCase() as Hex
      byLeaf.set(t.leaf, t)
    },

    /**
     * The anchorer issued a receipt for `leaf`, anchored in block `blockNumber` (again after a reorg: the block
     * moves, and finality is counted from the new one).
     *
     * @example tracker.receipt({ leaf: receipt.leaf, blockNumber: receipt.blockNumber })
     */
    receipt({ leaf, blockNumber }: { leaf: Hex; blockNumber: bigint }): MessageEvent[] {
      const t = byLeaf.get(leaf.toLowerCase() as Hex)
      if (!t || t.final) return []
      t.block = blockNumber
      anchored.add(t)
      return [event(t, 'anchored', 'anchorer')]
    },

    /**
     * The chain's head is `head`: anchors at least `finality` blocks deep are final.
     *
     * @example for (const e of tracker.head(await publicClient.getBlockNumber())) hub.emit(e)
     */
    head(head: bigint): MessageEvent[] {
      const out: MessageEvent[] = []
      for (const t of anchored) {
        if (t.block === undefined || head - t.block + 1n < BigInt(finality)) continue
        t.final = true
        anchored.delete(t)
        out.push(event(t, 'final', 'chain'))
      }
      return out
    },

    /** Whether some anchored message waits for depth (the caller polls the chain only then). */
    get waitingForDepth(): boolean {
      return anchored.size > 0
    },
  }
}

/**
 * What {@link createRelayStateTracker} returns.
 *
 * @example const tracker: RelayStateTracker = createRelayStateTracker({ finality: 2 })
 */
export type RelayStateTracker = ReturnType<typeof createRelayStateTracker>
