/** Feeds the dashboard hub from the relay node, the anchorer, the registry watcher and local clients. */
import type { Address, Hex } from 'viem'
import type { DeviceRecord, RegistryWatcher } from '../chain/registryWatcher.js'
import type { Client, ReceivedMessage, Rejection } from '../client/Client.js'
import type { VerificationReport } from '../client/verifyStatement.js'
import { VerificationError } from '../errors.js'
import type { RelayNode } from '../relay/node.js'
import type { DashboardEvent, ParticipantEvent } from './events.js'
import type { DashboardHub } from './server.js'

/** Shared state of the collectors (delivery latency needs the relay's acceptance time of each message). */
export type Collector = {
  hub: DashboardHub
  /** Envelope id → when the relay accepted it. Bounded. */
  acceptedAt: Map<string, number>
  /** Envelope id → the account of the device that published it (as the relay saw it). Bounded. */
  publishers: Map<string, Address>
  latencies: number[]
  published: number
  /** Topics with recent traffic (for the queue-depth metric). */
  topics: Set<Hex>
  /** Gauges sampled once a second; `attachRelay` sets it. */
  sample: () => Omit<MetricsSample, 'throughput' | 'latencies'>
  stop(): void
}

/**
 * Creates the collector and its once-a-second metrics timer.
 *
 * @example const collector = createCollector(hub); attachRelay(collector, node)
 */
export function createCollector(hub: DashboardHub): Collector {
  const collector: Collector = {
    hub,
    acceptedAt: new Map(),
    publishers: new Map(),
    latencies: [],
    published: 0,
    topics: new Set(),
    sample: () => ({ queueDepth: 0, connections: 0, pendingLeaves: 0 }),
    stop: () => clearInterval(timer),
  }
  const timer = setInterval(() => {
    const sample = collector.sample()
    hub.emit({
      type: 'metrics',
      at: Date.now(),
      throughput: collector.published,
      latencies: collector.latencies.splice(0, 10_000),
      ...sample,
    })
    collector.published = 0
  }, 1000)
  timer.unref()
  return collector
}

type MetricsSample = {
  throughput: number
  latencies: number[]
  queueDepth: number
  connections: number
  pendingLeaves: number
}

const remember = (map: Map<string, number>, key: string, value: number) => {
  map.set(key, value)
  if (map.size > 50_000) map.delete(map.keys().next().value as string)
}

/**
 * Relay, anchorer and registry events: acceptance of envelopes, refusals, batches, device changes.
 *
 * @example attachRelay(collector, node)
 */
export function attachRelay(collector: Collector, node: RelayNode): () => void {
  const { hub } = collector
  const accountOf = (deviceId: Hex): Address | undefined => node.watcher.device(deviceId)?.account
  const topics = collector.topics
  collector.sample = () => relayMetrics(node, topics)
  const pendingLeaves: number[] = []
  const offs: (() => void)[] = []
  const on = <T extends unknown[]>(emitter: NodeJS.EventEmitter, name: string, fn: (...args: T) => void) => {
    emitter.on(name, fn as never)
    offs.push(() => emitter.off(name, fn as never))
  }
  on(
    node.server,
    'published',
    (e: { topic: Hex; seq: bigint; id: Hex; kind: string; bytes: number; publisher: Hex }) => {
      if (e.kind !== 'application') return
      collector.published++
      topics.add(e.topic)
      if (topics.size > 1000) topics.delete(topics.values().next().value as Hex)
      remember(collector.acceptedAt, e.id, Date.now())
      const from = accountOf(e.publisher)
      if (!from) return
      hub.emit({
        type: 'message',
        at: Date.now(),
        id: e.id,
        conversation: e.topic,
        from,
        fromDevice: e.publisher,
        to: [],
        state: 'accepted',
        seq: e.seq.toString(),
        bytes: e.bytes,
        observer: 'relay',
      })
    },
  )
  on(node.server, 'rejected', (e: { code: string; deviceId?: Hex }) => {
    hub.emit({
      type: 'alert',
      at: Date.now(),
      source: 'relay',
      severity: e.code === 'RELAY_FRAME_MALFORMED' || e.code === 'RELAY_AUTH_FAILED' ? 'critical' : 'warning',
      code: e.code,
      message: relayAlertText(e.code),
      ...(e.deviceId ? { deviceId: e.deviceId } : {}),
    })
  })
  on(node.server, 'auth', (e: { account: Address; deviceId: Hex; ok: boolean; code?: string }) => {
    if (e.ok) return
    hub.emit({
      type: 'alert',
      at: Date.now(),
      source: 'relay',
      severity: 'critical',
      code: e.code ?? 'RELAY_AUTH_FAILED',
      message: relayAlertText(e.code ?? 'RELAY_AUTH_FAILED'),
      account: e.account,
      deviceId: e.deviceId,
    })
  })
  offs.push(attachWatcher(collector, node.watcher))
  const anchorer = node.anchorer
  if (anchorer) {
    on(anchorer, 'leaf', () => pendingLeaves.push(Date.now()))
    on(anchorer, 'batch-submitted', (e: { batchId: number; root: Hex; leafCount: number; txHash: Hex }) =>
      hub.emit({ type: 'batch', at: Date.now(), status: 'submitted', ...e }),
    )
    on(
      anchorer,
      'batch-confirmed',
      (e: {
        batchId: number
        root: Hex
        leafCount: number
        txHash: Hex
        blockNumber: bigint
        gasUsed: bigint
        gasPerLeaf: number
      }) => {
        const oldest = pendingLeaves.splice(0, e.leafCount)[0]
        hub.emit({
          type: 'batch',
          at: Date.now(),
          status: 'confirmed',
          batchId: e.batchId,
          root: e.root,
          leafCount: e.leafCount,
          txHash: e.txHash,
          blockNumber: e.blockNumber.toString(),
          gasUsed: e.gasUsed.toString(),
          gasPerLeaf: e.gasPerLeaf,
          ...(oldest ? { lagMs: Date.now() - oldest } : {}),
        })
      },
    )
    on(anchorer, 'reanchored', (e: { batchId: number; root: Hex; txHash: Hex; blockNumber: bigint }) => {
      hub.emit({
        type: 'batch',
        at: Date.now(),
        status: 'reanchored',
        batchId: e.batchId,
        root: e.root,
        leafCount: 1,
        txHash: e.txHash,
        blockNumber: e.blockNumber.toString(),
      })
      hub.emit({
        type: 'alert',
        at: Date.now(),
        source: 'anchorer',
        severity: 'warning',
        code: 'ANCHOR_REORGED',
        message: `Batch ${e.batchId} was removed by a reorg and anchored again.`,
      })
    })
    on(anchorer, 'error', (e: { error: { code: string; shortMessage: string } }) =>
      hub.emit({
        type: 'alert',
        at: Date.now(),
        source: 'anchorer',
        severity: 'warning',
        code: e.error.code,
        message: e.error.shortMessage.slice(0, 500),
      }),
    )
  }
  return () => {
    for (const off of offs) off()
  }
}

/**
 * KeyRegistry changes as the watcher sees them (the Keys view).
 *
 * @example const detach = attachWatcher(collector, client.watcher)
 */
export function attachWatcher(collector: Collector, watcher: RegistryWatcher): () => void {
  const { hub } = collector
  const added = (d: DeviceRecord) =>
    hub.emit({
      type: 'device',
      at: Date.now(),
      change: 'added',
      account: d.account,
      deviceId: d.deviceId,
      block: d.addedAt.toString(),
      tx: d.addedTx,
    })
  const revoked = (d: DeviceRecord) =>
    hub.emit({
      type: 'device',
      at: Date.now(),
      change: 'revoked',
      account: d.account,
      deviceId: d.deviceId,
      block: (d.revokedAt ?? 0n).toString(),
      ...(d.revokedTx ? { tx: d.revokedTx } : {}),
    })
  watcher.on('device-added', added)
  watcher.on('device-revoked', revoked)
  return () => {
    watcher.off('device-added', added)
    watcher.off('device-revoked', revoked)
  }
}

/** Metrics the relay node can answer right now (queue depth of recently active topics, connections, leaves). */
export function relayMetrics(
  node: RelayNode,
  topics?: Iterable<Hex>,
): Omit<MetricsSample, 'throughput' | 'latencies'> {
  let queueDepth = 0
  for (const topic of topics ?? []) queueDepth += node.store.depth(topic)
  return {
    queueDepth,
    connections: node.server.connectionCount,
    pendingLeaves: node.anchorer?.stats().pending ?? 0,
  }
}

/**
 * A local client's view: its sent messages (with the text it owns), what it received and verified, its
 * rejections, receipts and log entries.
 *
 * @example attachClient(collector, alice, { name: 'Alice' })
 */
export function attachClient(
  collector: Collector,
  client: Client,
  { name, role, deviceName }: { name: string; role?: ParticipantEvent['role']; deviceName?: string },
): () => void {
  const { hub } = collector
  const emit = (event: DashboardEvent) => hub.emit(event)
  emit({
    type: 'participant',
    at: Date.now(),
    account: client.account,
    name,
    deviceId: client.deviceId,
    ...(deviceName ? { deviceName } : {}),
    ...(role ? { role } : {}),
  })
  let lastLog = client.log.head()?.index ?? -1
  let lastHash: Hex | undefined = client.log.head()?.hash
  const drainLog = () => {
    if (!client.store.db.open) return
    for (const entry of client.log.entries({ from: lastLog + 1, limit: 500 })) {
      const data = entry.data as Record<string, unknown>
      emit({
        type: 'log',
        at: entry.at,
        account: client.account,
        deviceId: client.deviceId,
        index: entry.index,
        kind: entry.kind,
        hash: entry.hash,
        prevHash: entry.prevHash,
        chained: lastHash === undefined ? entry.index === 0 : entry.prevHash === lastHash,
        summary: logSummary(entry.kind, data),
        ...(typeof data.envelopeId === 'string' && /^0x[0-9a-f]{64}$/i.test(data.envelopeId)
          ? { id: data.envelopeId as Hex }
          : {}),
      })
      lastLog = entry.index
      lastHash = entry.hash
    }
  }
  const onState = (e: {
    id: Hex
    conversation: Hex
    state: 'queued' | 'accepted' | 'delivered' | 'received' | 'anchored' | 'final'
  }) => {
    const stored = client.store.getMessage(e.id)
    if (!stored) return
    if (stored.direction === 'in') {
      emit({
        type: 'message',
        at: Date.now(),
        id: e.id,
        conversation: e.conversation,
        from: stored.from as Address,
        to: [client.account],
        state: e.state,
        observer: name,
      })
      drainLog()
      return
    }
    const peer = client.conversations.get(e.conversation)?.peer
    emit({
      type: 'message',
      at: Date.now(),
      id: e.id,
      conversation: e.conversation,
      from: client.account,
      fromDevice: client.deviceId,
      to: peer ? [peer] : [],
      state: e.state,
      seq: stored.seq.toString(),
      ...(stored.leaf ? { leaf: stored.leaf as Hex } : {}),
      text: stored.body.slice(0, 4096),
      observer: name,
    })
    drainLog()
  }
  const onMessage = (m: ReceivedMessage) => {
    const accepted = collector.acceptedAt.get(m.id)
    if (accepted) collector.latencies.push(Date.now() - accepted)
    emit({
      type: 'message',
      at: Date.now(),
      id: m.id,
      conversation: m.conversation,
      from: m.from,
      fromDevice: m.device,
      to: [client.account],
      state: 'received',
      seq: m.seq.toString(),
      leaf: m.leaf,
      text: m.text.slice(0, 4096),
      observer: name,
    })
    emit(verificationEvent(m.id, client.account, m.report, m))
    drainLog()
  }
  const onRejected = (r: Rejection) => {
    const id = /^0x[0-9a-f]{64}$/i.test(r.envelopeId) ? r.envelopeId : undefined
    emit({
      type: 'alert',
      at: Date.now(),
      source: 'client',
      severity: r.error instanceof VerificationError ? 'critical' : 'warning',
      code: r.error.code,
      message: `${name} rejected a message: ${r.error.shortMessage}`.slice(0, 500),
      account: client.account,
      ...(id ? { id } : {}),
    })
    if (id && /^0x[0-9a-f]{64}$/i.test(r.topic)) {
      emit({
        type: 'message',
        at: Date.now(),
        id,
        conversation: r.topic,
        from: collector.publishers.get(id) ?? client.account,
        to: [client.account],
        state: 'rejected',
        observer: name,
      })
      emit(verificationEvent(id, client.account, r.report, undefined, r.error))
    }
    drainLog()
  }
  const onReceipt = (e: {
    leaf: Hex
    receipt: import('../protocol/receipt.js').Receipt
    messages: Hex[]
    confirmations: bigint
  }) => {
    emit({
      type: 'receipt',
      at: Date.now(),
      leaf: e.leaf,
      ids: e.messages.slice(0, 64),
      root: e.receipt.root,
      index: e.receipt.index,
      treeSize: e.receipt.treeSize,
      path: e.receipt.path.slice(0, 64),
      txHash: e.receipt.txHash,
      blockNumber: e.receipt.blockNumber.toString(),
      blockTimestamp: e.receipt.blockTimestamp.toString(),
      confirmations: e.confirmations.toString(),
      verified: true,
    })
    drainLog()
  }
  client.events.on('state', onState)
  client.events.on('message', onMessage)
  client.events.on('rejected', onRejected)
  client.events.on('receipt', onReceipt)
  drainLog()
  return () => {
    client.events.off('state', onState)
    client.events.off('message', onMessage)
    client.events.off('rejected', onRejected)
    client.events.off('receipt', onReceipt)
  }
}

function verificationEvent(
  id: Hex,
  by: Address,
  report: VerificationReport | undefined,
  message?: ReceivedMessage,
  error?: { name: string; code: string; shortMessage: string },
): DashboardEvent {
  const statement = message?.statement
  return {
    type: 'verification',
    at: Date.now(),
    id,
    by,
    ok: report?.ok ?? false,
    steps: (report?.steps ?? [{ name: 'mls', ok: false, detail: error?.shortMessage ?? 'refused' }]).map(
      (s) => ({
        name: s.name,
        ok: s.ok,
        detail: s.detail.slice(0, 500),
      }),
    ),
    ...(report?.failedStep ? { failedStep: report.failedStep } : error ? { failedStep: 'mls' } : {}),
    ...(report?.error
      ? {
          error: {
            name: report.error.name,
            code: report.error.code,
            message: report.error.message.slice(0, 250),
          },
        }
      : error
        ? { error: { name: error.name, code: error.code, message: error.shortMessage.slice(0, 250) } }
        : {}),
    ...(statement
      ? {
          statement: {
            from: statement.from,
            device: statement.device,
            conversation: statement.conversation,
            seq: statement.seq.toString(),
            sentAt: statement.sentAt,
            blockNumber: statement.block.number.toString(),
            blockHash: statement.block.hash,
            bodyHash: statement.bodyHash,
          },
          signature: message.signature,
        }
      : {}),
    ...(report?.mls
      ? {
          mls: {
            epoch: report.mls.epoch.toString(),
            ciphersuite: report.mls.ciphersuite,
            senderLeaf: report.mls.senderLeaf,
          },
        }
      : {}),
    ...(report?.key
      ? {
          key: {
            deviceId: report.key.deviceId,
            p256X: report.key.p256X,
            p256Y: report.key.p256Y,
            addedAt: report.key.addedAt.toString(),
            ...(report.key.revokedAt !== undefined ? { revokedAt: report.key.revokedAt.toString() } : {}),
          },
        }
      : {}),
  }
}

function logSummary(kind: string, data: Record<string, unknown>): string {
  const short = (v: unknown) => (typeof v === 'string' ? `${v.slice(0, 10)}…` : '')
  switch (kind) {
    case 'sent':
    case 'received':
      return `${kind} ${short(data.envelopeId)} leaf ${short(data.leaf)}`
    case 'rejected':
      return `rejected ${short(data.envelopeId)}: ${String(data.code)} at ${String(data.step)}`
    case 'receipt':
      return `receipt for leaf ${short(data.leaf)}`
    default:
      return `log head ${short(data.head)} anchored`
  }
}

function relayAlertText(code: string): string {
  const texts: Record<string, string> = {
    RELAY_AUTH_FAILED: 'A device failed to authenticate (bad signature or reused challenge).',
    RELAY_DEVICE_REVOKED: 'A revoked device tried to use the relay and was refused.',
    RELAY_UNKNOWN_DEVICE: 'An unregistered device tried to authenticate.',
    RELAY_FORBIDDEN: "A device tried to read another device's inbox.",
    RELAY_FRAME_MALFORMED: 'A malformed frame was refused.',
    RELAY_FRAME_TOO_LARGE: 'An oversized frame was refused.',
    RELAY_RATE_LIMITED: 'A device exceeded its rate limit.',
    RELAY_QUEUE_FULL: 'A topic queue is full.',
    RELAY_ENVELOPE_INVALID: 'An invalid envelope was refused.',
    RELAY_UNAUTHENTICATED: 'An unauthenticated client tried to publish or subscribe.',
  }
  return texts[code] ?? `Relay refused a request (${code}).`
}
