/** The dashboard's state, built only from validated events. Everything is bounded. */
import type {
  AlertEvent,
  BatchEvent,
  ChainsEvent,
  ClusterEvent,
  DashboardEvent,
  DashboardMessageState,
  DeliveryEvent,
  DeviceEvent,
  GroupEvent,
  HelloEvent,
  KeyChangeDashboardEvent,
  LogEvent,
  MessageEvent,
  ReceiptEvent,
  VerificationEvent,
} from '../../src/dashboard/events.ts'
import { messageStates } from '../../src/dashboard/events.ts'
import { BoundedMap, Ring } from './ring.ts'

export const LIMITS = {
  messages: 10_000,
  history: 20_000,
  baseline: 5_000,
  logs: 20_000,
  alerts: 2_000,
  batches: 5_000,
  deviceEvents: 5_000,
  metrics: 3_600,
  latencies: 20_000,
  perMessage: 16,
  groups: 1_000,
  keyChangesPerAccount: 100,
} as const

/** Rank of each state: the lifecycle order (src/protocol/messageState.ts), then the terminal `rejected`. */
export const stateRank = Object.fromEntries(messageStates.map((state, rank) => [state, rank])) as Record<
  DashboardMessageState,
  number
>

export interface StateStep {
  state: DashboardMessageState
  at: number
  observer: string | undefined
}

export interface MessageRec {
  id: string
  conversation: string
  from: string
  fromDevice: string | undefined
  to: string[]
  state: DashboardMessageState
  history: StateStep[]
  text: string | undefined
  bytes: number | undefined
  seq: string | undefined
  leaf: string | undefined
  firstAt: number
  lastAt: number
}

export interface DeviceRec {
  deviceId: string
  deviceName: string | undefined
  addedBlock: string | undefined
  addedTx: string | undefined
  revokedBlock: string | undefined
  revokedTx: string | undefined
}

/** A contact's key change, once however many local clients reported it (`observers`). */
export interface KeyChangeRec {
  kind: KeyChangeDashboardEvent['kind']
  block: string
  tx: string
  added: string[]
  revoked: string[]
  safetyNumberBefore: string
  safetyNumberAfter: string
  observers: string[]
}

export interface Party {
  account: string
  name: string | undefined
  role: 'honest' | 'tamperer' | 'replayer' | 'revoked' | undefined
  devices: Map<string, DeviceRec>
  firstAt: number
  /** Key changes local clients saw for this account, oldest block first (at most LIMITS.keyChangesPerAccount). */
  keyChanges: KeyChangeRec[]
  /** The newest safety number a local client reported (from a key change or computed at a block). */
  safetyNumber: { value: string; block: string; observer: string } | undefined
}

export interface MetricSample {
  at: number
  /** Envelopes the relay accepted in this one second (bursty: 0, 2, 1, …). */
  throughput: number
  /**
   * Envelopes per second over the last {@link RATE_WINDOW} samples: what the Throughput tile and chart both show,
   * so they always agree.
   */
  rate: number
  queueDepth: number
  connections: number
  pendingLeaves: number
  p50: number | undefined
  p99: number | undefined
  latencyCount: number
}

/** Revision counters: a view re-renders a section only when its counter moved. */
export interface Revs {
  any: number
  participants: number
  messages: number
  verifications: number
  receipts: number
  batches: number
  devices: number
  metrics: number
  alerts: number
  logs: number
  hello: number
  groups: number
  deliveries: number
  cluster: number
  chains: number
}

const newRevs = (): Revs => ({
  any: 0,
  participants: 0,
  messages: 0,
  verifications: 0,
  receipts: 0,
  batches: 0,
  devices: 0,
  metrics: 0,
  alerts: 0,
  logs: 0,
  hello: 0,
  groups: 0,
  deliveries: 0,
  cluster: 0,
  chains: 0,
})

/** How many one-second samples the throughput rate averages. */
export const RATE_WINDOW = 5

/** Whether two receipt events are the same receipt (sender and recipient each report it). */
export function sameReceipt(a: ReceiptEvent, b: ReceiptEvent): boolean {
  return a.leaf === b.leaf && a.txHash === b.txHash && a.root === b.root && a.index === b.index
}

export function percentile(sorted: ArrayLike<number>, p: number): number | undefined {
  if (sorted.length === 0) return undefined
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

/** Per-member signed delivery of one message: member accounts (lower-case) and those that confirmed it. */
export interface DeliveryRec {
  conversation: string
  members: string[]
  memberCount: number
  delivered: Set<string>
}

/**
 * Whether a group report should replace the one kept: a newer epoch wins; at the same epoch the newer report, unless
 * it comes from a device that is no longer in the group while the kept one's still is.
 */
export function newerGroup(kept: GroupEvent | undefined, next: GroupEvent): boolean {
  if (!kept) return true
  const a = BigInt(kept.epoch)
  const b = BigInt(next.epoch)
  if (b !== a) return b > a
  return next.active || !kept.active
}

export type MessageListener = (event: MessageEvent, rec: MessageRec) => void

export class Model {
  hello: HelloEvent | undefined
  /** The newest health and load of a relay cluster's relays and NATS nodes (`up --cluster`), if any. */
  cluster: ClusterEvent | undefined
  /** The newest height and health of each chain and the mirroring lag (`up --chains 2`), if any. */
  chains: ChainsEvent | undefined
  readonly parties = new Map<string, Party>()
  readonly messages = new Map<string, MessageRec>()
  readonly messageOrder = new Ring<string>(LIMITS.messages)
  readonly verifications = new BoundedMap<string, VerificationEvent[]>(LIMITS.messages)
  readonly receiptsById = new BoundedMap<string, ReceiptEvent[]>(LIMITS.messages)
  readonly batches = new Ring<BatchEvent>(LIMITS.batches)
  readonly deviceEvents = new Ring<DeviceEvent>(LIMITS.deviceEvents)
  readonly metrics = new Ring<MetricSample>(LIMITS.metrics)
  readonly latencies = new Ring<number>(LIMITS.latencies)
  readonly alerts = new Ring<AlertEvent>(LIMITS.alerts)
  readonly logs = new Ring<LogEvent>(LIMITS.logs)
  readonly stateCounts = new Map<DashboardMessageState, number>()
  /** Group id (lower-case) → its newest reported state. */
  readonly groups = new BoundedMap<string, GroupEvent>(LIMITS.groups)
  readonly deliveries = new BoundedMap<string, DeliveryRec>(LIMITS.messages)
  readonly revs: Revs = newRevs()
  lastAt = 0
  /** Bumped by reset() (a scrub replays from scratch). */
  generation = 0
  /** Called for message events applied live (not while replaying), to animate the flow view. */
  onLiveMessage: MessageListener | undefined

  reset(): void {
    this.hello = undefined
    this.cluster = undefined
    this.chains = undefined
    this.parties.clear()
    this.messages.clear()
    this.messageOrder.clear()
    this.verifications.clear()
    this.receiptsById.clear()
    this.batches.clear()
    this.deviceEvents.clear()
    this.metrics.clear()
    this.latencies.clear()
    this.alerts.clear()
    this.logs.clear()
    this.stateCounts.clear()
    this.groups.clear()
    this.deliveries.clear()
    this.lastAt = 0
    this.generation++
    for (const k of Object.keys(this.revs) as (keyof Revs)[]) this.revs[k]++
  }

  nameOf(account: string): string {
    const p = this.parties.get(account.toLowerCase())
    return p?.name ?? `${account.slice(0, 6)}…${account.slice(-4)}`
  }

  party(account: string): Party {
    const key = account.toLowerCase()
    let p = this.parties.get(key)
    if (!p) {
      p = {
        account,
        name: undefined,
        role: undefined,
        devices: new Map(),
        firstAt: this.lastAt,
        keyChanges: [],
        safetyNumber: undefined,
      }
      this.parties.set(key, p)
    }
    return p
  }

  private device(p: Party, deviceId: string): DeviceRec {
    let d = p.devices.get(deviceId)
    if (!d) {
      d = {
        deviceId,
        deviceName: undefined,
        addedBlock: undefined,
        addedTx: undefined,
        revokedBlock: undefined,
        revokedTx: undefined,
      }
      p.devices.set(deviceId, d)
    }
    return d
  }

  apply(e: DashboardEvent, live: boolean): void {
    this.revs.any++
    if (e.at > this.lastAt) this.lastAt = e.at
    switch (e.type) {
      case 'hello':
        this.hello = e
        this.revs.hello++
        break
      case 'participant': {
        const p = this.party(e.account)
        if (e.name !== undefined) p.name = e.name
        if (e.role !== undefined) p.role = e.role
        const d = this.device(p, e.deviceId)
        if (e.deviceName !== undefined) d.deviceName = e.deviceName
        this.revs.participants++
        break
      }
      case 'device': {
        const p = this.party(e.account)
        const d = this.device(p, e.deviceId)
        if (e.change === 'added') {
          d.addedBlock = e.block
          d.addedTx = e.tx
        } else {
          d.revokedBlock = e.block
          d.revokedTx = e.tx
        }
        this.deviceEvents.push(e)
        this.revs.devices++
        this.revs.participants++
        break
      }
      case 'message':
        this.applyMessage(e, live)
        break
      case 'verification': {
        const list = this.verifications.get(e.id) ?? []
        list.push(e)
        if (list.length > LIMITS.perMessage) list.shift()
        this.verifications.set(e.id, list)
        this.revs.verifications++
        break
      }
      case 'receipt': {
        for (const id of e.ids) {
          // The same receipt reported again (by the other party, or with more confirmations) replaces the first.
          const list = (this.receiptsById.get(id) ?? []).filter((r) => !sameReceipt(r, e))
          list.push(e)
          if (list.length > LIMITS.perMessage) list.shift()
          this.receiptsById.set(id, list)
        }
        this.revs.receipts++
        break
      }
      case 'batch':
        this.batches.push(e)
        this.revs.batches++
        break
      case 'cluster':
        this.cluster = e
        this.revs.cluster++
        break
      case 'chains':
        this.chains = e
        this.revs.chains++
        break
      case 'metrics': {
        const sorted = Float64Array.from(e.latencies).sort()
        for (const l of e.latencies) this.latencies.push(l)
        let sum = e.throughput
        let n = 1
        for (; n < RATE_WINDOW; n++) {
          const prev = this.metrics.fromNewest(n - 1)
          if (!prev || e.at - prev.at > RATE_WINDOW * 1000) break
          sum += prev.throughput
        }
        this.metrics.push({
          at: e.at,
          throughput: e.throughput,
          rate: sum / n,
          queueDepth: e.queueDepth,
          connections: e.connections,
          pendingLeaves: e.pendingLeaves,
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          latencyCount: sorted.length,
        })
        this.revs.metrics++
        break
      }
      case 'alert':
        this.alerts.push(e)
        this.revs.alerts++
        break
      case 'log':
        this.logs.push(e)
        this.revs.logs++
        break
      case 'group': {
        const key = e.id.toLowerCase()
        if (newerGroup(this.groups.get(key), e)) this.groups.set(key, e)
        this.revs.groups++
        break
      }
      case 'delivery':
        this.applyDelivery(e)
        break
      case 'keyChange':
        this.applyKeyChange(e)
        break
      case 'safetyNumber':
        this.noteSafetyNumber(this.party(e.account), e.safetyNumber, e.block, e.observer)
        this.revs.participants++
        break
    }
  }

  /** One record per change (transaction and kind) however many clients saw it; the safety number after it noted. */
  private applyKeyChange(e: KeyChangeDashboardEvent): void {
    const p = this.party(e.account)
    const known = p.keyChanges.find((c) => c.tx === e.tx && c.kind === e.kind)
    if (known) {
      if (!known.observers.includes(e.observer)) known.observers.push(e.observer)
    } else {
      p.keyChanges.push({
        kind: e.kind,
        block: e.block,
        tx: e.tx,
        added: e.added,
        revoked: e.revoked,
        safetyNumberBefore: e.safetyNumberBefore,
        safetyNumberAfter: e.safetyNumberAfter,
        observers: [e.observer],
      })
      p.keyChanges.sort((a, b) =>
        BigInt(a.block) < BigInt(b.block) ? -1 : BigInt(a.block) > BigInt(b.block) ? 1 : 0,
      )
      if (p.keyChanges.length > LIMITS.keyChangesPerAccount) p.keyChanges.shift()
    }
    this.noteSafetyNumber(p, e.safetyNumberAfter, e.block, e.observer)
    this.revs.participants++
  }

  /** Keeps the safety number of the newest block (a later report at the same block replaces it). */
  private noteSafetyNumber(p: Party, value: string, block: string, observer: string): void {
    if (p.safetyNumber && BigInt(block) < BigInt(p.safetyNumber.block)) return
    p.safetyNumber = { value, block, observer }
  }

  /** Deliveries add up across reporters (each member may hold other members' receipts); the newest member list wins. */
  private applyDelivery(e: DeliveryEvent): void {
    const id = e.id.toLowerCase()
    const rec = this.deliveries.get(id) ?? {
      conversation: e.conversation,
      members: [],
      memberCount: 0,
      delivered: new Set<string>(),
    }
    rec.members = e.members.map((a) => a.toLowerCase())
    rec.memberCount = e.memberCount
    for (const a of e.delivered) rec.delivered.add(a.toLowerCase())
    this.deliveries.set(id, rec)
    this.revs.deliveries++
  }

  private applyMessage(e: MessageEvent, live: boolean): void {
    let rec = this.messages.get(e.id)
    if (!rec) {
      rec = {
        id: e.id,
        conversation: e.conversation,
        from: e.from,
        fromDevice: e.fromDevice,
        to: e.to,
        state: e.state,
        history: [],
        text: e.text,
        bytes: e.bytes,
        seq: e.seq,
        leaf: e.leaf,
        firstAt: e.at,
        lastAt: e.at,
      }
      this.messages.set(e.id, rec)
      const evicted = this.messageOrder.push(e.id)
      if (evicted !== undefined) {
        const old = this.messages.get(evicted)
        if (old) this.stateCounts.set(old.state, (this.stateCounts.get(old.state) ?? 1) - 1)
        this.messages.delete(evicted)
        this.verifications.delete(evicted)
        this.receiptsById.delete(evicted)
      }
      this.stateCounts.set(e.state, (this.stateCounts.get(e.state) ?? 0) + 1)
    } else {
      // States only move forward; `rejected` is terminal and wins.
      if (stateRank[e.state] > stateRank[rec.state]) {
        this.stateCounts.set(rec.state, (this.stateCounts.get(rec.state) ?? 1) - 1)
        this.stateCounts.set(e.state, (this.stateCounts.get(e.state) ?? 0) + 1)
        rec.state = e.state
      }
      // Recipients add up: each recipient's client reports itself (a rejected message lists every refuser).
      for (const a of e.to)
        if (rec.to.length < 64 && !rec.to.some((t) => t.toLowerCase() === a.toLowerCase()))
          rec.to = [...rec.to, a]
      rec.fromDevice ??= e.fromDevice
      rec.text ??= e.text
      rec.bytes ??= e.bytes
      rec.seq ??= e.seq
      rec.leaf ??= e.leaf
      rec.lastAt = Math.max(rec.lastAt, e.at)
    }
    if (rec.history.length < LIMITS.perMessage * 2)
      rec.history.push({ state: e.state, at: e.at, observer: e.observer })
    this.revs.messages++
    if (live) this.onLiveMessage?.(e, rec)
  }
}
