/** Dashboard events: the one schema the server emits and the browser validates (zod) before rendering anything. */
import { z } from 'zod'
import { MESSAGE_STATES } from '../protocol/messageState.js'

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/)
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/)
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
/** Decimal string for u64 values (JSON has no bigint). */
const u64 = z.string().regex(/^\d{1,20}$/)
const at = z.number().int().nonnegative()

/**
 * States a message goes through, as shown in the flow view: the lifecycle (`MESSAGE_STATES`, in order), then the
 * dashboard's own terminal state `rejected` (a recipient refused it), which outranks them all.
 */
export const messageStates = [...MESSAGE_STATES, 'rejected'] as const
export type DashboardMessageState = (typeof messageStates)[number]

/** One verification step with its verdict and the data behind it. */
export const verificationStepSchema = z.object({
  name: z.string().max(64),
  ok: z.boolean(),
  detail: z.string().max(512),
})

/** First event of every stream: what this dashboard is looking at. */
export const helloEventSchema = z.object({
  type: z.literal('hello'),
  at,
  chainId: z.number().int().positive(),
  rpc: z.string().max(256),
  relay: z.string().max(256).optional(),
  keyRegistry: address,
  messageAnchor: address,
  demo: z.boolean(),
})

/** A party the dashboard knows by name (demo) or by address. */
export const participantEventSchema = z.object({
  type: z.literal('participant'),
  at,
  account: address,
  name: z.string().max(64).optional(),
  deviceId: hex32,
  deviceName: z.string().max(64).optional(),
  /** Bad actors of the demo are labelled so the flow view can mark them. */
  role: z.enum(['honest', 'tamperer', 'replayer', 'revoked']).optional(),
})

/**
 * A message moved to a new state. `text` is present only when the message's own client gave it to the dashboard
 * (the local demo parties); relays and the chain never see plaintext, and neither does the dashboard otherwise.
 */
export const messageEventSchema = z.object({
  type: z.literal('message'),
  at,
  id: hex32,
  conversation: hex32,
  from: address,
  fromDevice: hex32.optional(),
  to: z.array(address).max(64),
  state: z.enum(messageStates),
  seq: u64.optional(),
  leaf: hex32.optional(),
  bytes: z.number().int().nonnegative().optional(),
  text: z.string().max(4096).optional(),
  /** Who reports this state (the sender's or a recipient's client, or the relay). */
  observer: z.string().max(64).optional(),
})

/** The full verification chain a recipient ran for a message (inspector). */
export const verificationEventSchema = z.object({
  type: z.literal('verification'),
  at,
  id: hex32,
  by: address,
  ok: z.boolean(),
  steps: z.array(verificationStepSchema).max(32),
  failedStep: z.string().max(64).optional(),
  error: z
    .object({ name: z.string().max(64), code: z.string().max(64), message: z.string().max(256) })
    .optional(),
  statement: z
    .object({
      from: address,
      device: hex32,
      conversation: hex32,
      seq: u64,
      sentAt: z.number().int().nonnegative(),
      blockNumber: u64,
      blockHash: hex32,
      bodyHash: hex32,
    })
    .optional(),
  signature: hex.optional(),
  mls: z.object({ epoch: u64, ciphersuite: z.string().max(80), senderLeaf: z.number().int() }).optional(),
  key: z
    .object({
      deviceId: hex32,
      p256X: hex32,
      p256Y: hex32,
      addedAt: u64,
      revokedAt: u64.optional(),
      addedTx: hex32.optional(),
    })
    .optional(),
})

/** A receipt arrived for a leaf (and the messages it covers) and was checked against the chain. */
export const receiptEventSchema = z.object({
  type: z.literal('receipt'),
  at,
  leaf: hex32,
  ids: z.array(hex32).max(64),
  root: hex32,
  index: z.number().int().nonnegative(),
  treeSize: z.number().int().positive(),
  path: z.array(hex32).max(64),
  txHash: hex32,
  blockNumber: u64,
  blockTimestamp: u64,
  confirmations: u64,
  verified: z.boolean(),
  steps: z.array(verificationStepSchema).max(16).optional(),
})

/** An anchoring batch changed state. */
export const batchEventSchema = z.object({
  type: z.literal('batch'),
  at,
  batchId: z.number().int().nonnegative(),
  status: z.enum(['submitted', 'confirmed', 'reanchored']),
  root: hex32,
  leafCount: z.number().int().positive(),
  txHash: hex32,
  blockNumber: u64.optional(),
  gasUsed: u64.optional(),
  gasPerLeaf: z.number().nonnegative().optional(),
  /** Milliseconds from the oldest leaf's submission to this event. */
  lagMs: z.number().nonnegative().optional(),
})

/** A KeyRegistry change. */
export const deviceEventSchema = z.object({
  type: z.literal('device'),
  at,
  change: z.enum(['added', 'revoked']),
  account: address,
  deviceId: hex32,
  block: u64,
  tx: hex32.optional(),
})

/** A contact's device set changed (added, revoked, rotated) as one local client saw it (its `keyChange` event). */
export const keyChangeEventSchema = z.object({
  type: z.literal('keyChange'),
  at,
  /** The contact whose devices changed. */
  account: address,
  kind: z.enum(['added', 'revoked', 'rotated']),
  added: z.array(hex32).max(64),
  revoked: z.array(hex32).max(64),
  block: u64,
  tx: hex32,
  safetyNumberBefore: z.string().max(128),
  safetyNumberAfter: z.string().max(128),
  observer: z.string().max(64),
})

/** A contact's safety number (protocol §2.5) over its active devices at `block`, as one local client computed it. */
export const safetyNumberEventSchema = z.object({
  type: z.literal('safetyNumber'),
  at,
  account: address,
  safetyNumber: z.string().max(128),
  block: u64,
  devices: z.number().int().nonnegative(),
  observer: z.string().max(64),
})

/** Aggregates for the metrics view, pushed once a second. */
export const metricsEventSchema = z.object({
  type: z.literal('metrics'),
  at,
  /** Envelopes accepted by the relay in the last second. */
  throughput: z.number().nonnegative(),
  /** Delivery latencies (accepted → recipient processed) seen in the last second, ms. */
  latencies: z.array(z.number().nonnegative()).max(10_000),
  queueDepth: z.number().int().nonnegative(),
  connections: z.number().int().nonnegative(),
  pendingLeaves: z.number().int().nonnegative(),
})

/** One relay of a cluster as the dashboard's host sees it (pushed with `cluster`). */
export const clusterRelaySchema = z.object({
  name: z.string().max(64),
  url: z.string().max(256),
  up: z.boolean(),
  connections: z.number().int().nonnegative(),
  /** Envelopes it accepted in the last second. */
  throughput: z.number().nonnegative(),
  /** It holds the anchor lease (the one relay that anchors). */
  anchoring: z.boolean(),
  pendingLeaves: z.number().int().nonnegative(),
})

/** One NATS node of a cluster, from its monitoring endpoint (`/healthz`, `/varz`, `/jsz`). */
export const clusterNatsNodeSchema = z.object({
  name: z.string().max(64),
  url: z.string().max(256),
  /** `/healthz` answered ok. */
  up: z.boolean(),
  /** Leader of JetStream's meta group (the node that places streams). */
  leader: z.boolean(),
  connections: z.number().int().nonnegative(),
  routes: z.number().int().nonnegative(),
  /** Messages in and out per second since the previous sample. */
  inMsgs: z.number().nonnegative(),
  outMsgs: z.number().nonnegative(),
  cpu: z.number().nonnegative(),
  memBytes: z.number().nonnegative(),
  /** JetStream messages and bytes stored on this node. */
  jsMessages: z.number().nonnegative(),
  jsBytes: z.number().nonnegative(),
})

/** Health and load of every relay and NATS node of a cluster (`sealpost up --cluster`), pushed every second. */
export const clusterEventSchema = z.object({
  type: z.literal('cluster'),
  at,
  relays: z.array(clusterRelaySchema).max(64),
  nats: z.array(clusterNatsNodeSchema).max(64),
})

/** One chain of a multi-chain stack (`sealpost up --chains 2`) as the dashboard's host sees it. */
export const chainStatusSchema = z.object({
  name: z.string().max(64),
  chainId: z.number().int().positive(),
  rpc: z.string().max(256),
  /** Its RPC answered this second. */
  up: z.boolean(),
  /** Newest block number, and the seconds since that block's timestamp (0 while down). */
  head: z.number().int().nonnegative(),
  headAgeSeconds: z.number().nonnegative(),
})

/**
 * Mirroring A → B: origin anchors and registry changes seen on A and not yet recorded by the mirror on B, and the lag
 * of the oldest of them (A blocks since its block, seconds since its block's timestamp); `last*` is the lag of the
 * newest delivery seen (from its origin block to the sample that saw it on B).
 */
export const mirrorLagSchema = z.object({
  pending: z.number().int().nonnegative(),
  lagBlocks: z.number().int().nonnegative(),
  lagSeconds: z.number().nonnegative(),
  delivered: z.number().int().nonnegative(),
  lastLagBlocks: z.number().int().nonnegative().optional(),
  lastLagSeconds: z.number().nonnegative().optional(),
})

/** Both chains' health and the mirroring lag (`sealpost up --chains 2`), pushed every second. */
export const chainsEventSchema = z.object({
  type: z.literal('chains'),
  at,
  chains: z.array(chainStatusSchema).max(16),
  mirror: mirrorLagSchema.optional(),
})

/** A rejection or anomaly worth a human's attention. */
export const alertEventSchema = z.object({
  type: z.literal('alert'),
  at,
  source: z.enum(['relay', 'client', 'anchorer', 'ids', 'dashboard']),
  severity: z.enum(['info', 'warning', 'critical']),
  code: z.string().max(64),
  message: z.string().max(512),
  id: hex32.optional(),
  deviceId: hex32.optional(),
  account: address.optional(),
  /** IDS alerts: the incident it belongs to (alerts sharing an entity within 2 h), for grouping on the Alerts tab. */
  incident: z.string().max(64).optional(),
})

/** One entry of a party's tamper-evident log. */
export const logEventSchema = z.object({
  type: z.literal('log'),
  at,
  account: address,
  deviceId: hex32,
  index: z.number().int().nonnegative(),
  kind: z.enum(['sent', 'received', 'rejected', 'receipt', 'log-anchor']),
  hash: hex32,
  prevHash: hex32,
  /** Whether this entry's prevHash is the previous entry's hash (computed by the server from the log). */
  chained: z.boolean(),
  summary: z.string().max(512),
  id: hex32.optional(),
})

/** One member account of a group, with its devices' registry status and whether each is in the ratchet tree. */
export const groupMemberSchema = z.object({
  account: address,
  admin: z.boolean(),
  devices: z
    .array(
      z.object({
        deviceId: hex32,
        status: z.enum(['active', 'revoked']),
        revokedAt: u64.optional(),
        inGroup: z.boolean(),
      }),
    )
    .max(64),
})

/**
 * A group's state as one member device holds it (sent when the collector attaches and on every membership change).
 * `members` is cut at 1,024 accounts; `memberCount` is the full number.
 */
export const groupEventSchema = z.object({
  type: z.literal('group'),
  at,
  id: hex32,
  name: z.string().max(256),
  epoch: u64,
  /** Registry view block of the members' device statuses. */
  block: u64,
  memberCount: z.number().int().nonnegative(),
  members: z.array(groupMemberSchema).max(1024),
  /** The reporting device's account, and whether it is still in the group. */
  by: address,
  active: z.boolean(),
  observer: z.string().max(64).optional(),
})

/**
 * Per-member signed delivery of one message: the member accounts (other than the sender's) with a device whose
 * delivery receipt was verified, out of the group's other member accounts (lists cut at 1,024).
 */
export const deliveryEventSchema = z.object({
  type: z.literal('delivery'),
  at,
  id: hex32,
  conversation: hex32,
  members: z.array(address).max(1024),
  delivered: z.array(address).max(1024),
  memberCount: z.number().int().nonnegative(),
  observer: z.string().max(64).optional(),
})

/** Every event the dashboard stream carries. */
export const dashboardEventSchema = z.discriminatedUnion('type', [
  helloEventSchema,
  participantEventSchema,
  messageEventSchema,
  verificationEventSchema,
  receiptEventSchema,
  batchEventSchema,
  deviceEventSchema,
  keyChangeEventSchema,
  safetyNumberEventSchema,
  metricsEventSchema,
  clusterEventSchema,
  chainsEventSchema,
  alertEventSchema,
  logEventSchema,
  groupEventSchema,
  deliveryEventSchema,
])

export type DashboardEvent = z.infer<typeof dashboardEventSchema>
export type HelloEvent = z.infer<typeof helloEventSchema>
export type ParticipantEvent = z.infer<typeof participantEventSchema>
export type MessageEvent = z.infer<typeof messageEventSchema>
export type VerificationEvent = z.infer<typeof verificationEventSchema>
export type ReceiptEvent = z.infer<typeof receiptEventSchema>
export type BatchEvent = z.infer<typeof batchEventSchema>
export type DeviceEvent = z.infer<typeof deviceEventSchema>
export type KeyChangeDashboardEvent = z.infer<typeof keyChangeEventSchema>
export type SafetyNumberEvent = z.infer<typeof safetyNumberEventSchema>
export type MetricsEvent = z.infer<typeof metricsEventSchema>
export type ClusterEvent = z.infer<typeof clusterEventSchema>
export type ChainsEvent = z.infer<typeof chainsEventSchema>
export type MirrorLag = z.infer<typeof mirrorLagSchema>
export type AlertEvent = z.infer<typeof alertEventSchema>
export type LogEvent = z.infer<typeof logEventSchema>
export type GroupEvent = z.infer<typeof groupEventSchema>
export type DeliveryEvent = z.infer<typeof deliveryEventSchema>

/**
 * Parses one event; returns undefined (never throws) for anything that does not match the schema.
 *
 * @example const event = parseDashboardEvent(JSON.parse(message.data)); if (event) render(event)
 */
export function parseDashboardEvent(value: unknown): DashboardEvent | undefined {
  const result = dashboardEventSchema.safeParse(value)
  return result.success ? result.data : undefined
}
