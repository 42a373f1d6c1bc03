/** The IDS event schema (metadata only: ids, counts, reasons; never plaintext) and its strict decoder. */
import { z } from 'zod'
import { IdsEventMalformedError } from './errors.js'

const id = z.string().min(1).max(200)
const count = z.number().int().nonnegative().max(1e9)
const base = { v: z.literal(1), t: z.number().int().nonnegative().max(8.64e15) }

const relay = {
  auth: z.strictObject({
    ...base,
    src: z.literal('relay'),
    kind: z.literal('auth'),
    device: id,
    ip: id,
    ok: z.boolean(),
    reason: z.enum(['bad-signature', 'unknown-device', 'revoked', 'expired-challenge']).optional(),
  }),
  challengeMisuse: z.strictObject({
    ...base,
    src: z.literal('relay'),
    kind: z.literal('challenge-misuse'),
    ip: id,
  }),
  frameError: z.strictObject({
    ...base,
    src: z.literal('relay'),
    kind: z.literal('frame-error'),
    ip: id,
    code: id,
  }),
  publish: z.strictObject({
    ...base,
    src: z.literal('relay'),
    kind: z.literal('publish'),
    device: id,
    account: id,
    topic: id,
    recipients: count,
    bytes: count,
    /** Publishes this event stands for (the relay tap folds one commit's publishes per device and topic); default 1. */
    count: count.min(1).optional(),
  }),
  subscribe: z.strictObject({
    ...base,
    src: z.literal('relay'),
    kind: z.literal('subscribe'),
    device: id,
    topic: id,
    denied: z.boolean(),
  }),
  fetch: z.strictObject({
    ...base,
    src: z.literal('relay'),
    kind: z.literal('fetch'),
    device: id,
    topic: id,
    count,
  }),
  kpClaim: z.strictObject({
    ...base,
    src: z.literal('relay'),
    kind: z.literal('kp-claim'),
    device: id,
    target: id,
  }),
  queue: z.strictObject({
    ...base,
    src: z.literal('relay'),
    kind: z.literal('queue'),
    topic: id,
    depth: count,
  }),
  expiry: z.strictObject({ ...base, src: z.literal('relay'), kind: z.literal('expiry'), topic: id, count }),
}

const client = {
  verifyFail: z.strictObject({
    ...base,
    src: z.literal('client'),
    kind: z.literal('verify-fail'),
    device: id,
    sender: id,
    reason: z.enum(['forged', 'replayed', 'stale-seq', 'revoked-key', 'clock', 'planted-group', 'policy']),
    envelope: id.optional(),
    skewMs: z.number().int().optional(),
  }),
  seqGap: z.strictObject({
    ...base,
    src: z.literal('client'),
    kind: z.literal('seq-gap'),
    device: id,
    topic: id,
    relay: id,
    missing: count,
  }),
  keyChange: z.strictObject({
    ...base,
    src: z.literal('client'),
    kind: z.literal('key-change'),
    device: id,
    contact: id,
  }),
  welcome: z.strictObject({
    ...base,
    src: z.literal('client'),
    kind: z.literal('welcome'),
    device: id,
    group: id,
    expected: z.boolean(),
  }),
}

const block = z.number().int().nonnegative()
const chain = {
  deviceAdded: z.strictObject({
    ...base,
    src: z.literal('chain'),
    kind: z.literal('device-added'),
    account: id,
    device: id,
    submitter: id,
    block,
    newAccount: z.boolean(),
  }),
  deviceRotated: z.strictObject({
    ...base,
    src: z.literal('chain'),
    kind: z.literal('device-rotated'),
    account: id,
    device: id,
    submitter: id,
    block,
  }),
  deviceRevoked: z.strictObject({
    ...base,
    src: z.literal('chain'),
    kind: z.literal('device-revoked'),
    account: id,
    device: id,
    submitter: id,
    block,
  }),
  anchor: z.strictObject({
    ...base,
    src: z.literal('chain'),
    kind: z.literal('anchor'),
    root: id,
    submitter: id,
    block,
  }),
  reorg: z.strictObject({ ...base, src: z.literal('chain'), kind: z.literal('reorg'), depth: count, block }),
}

const config = z.strictObject({
  ...base,
  src: z.literal('ids'),
  kind: z.literal('config'),
  knownAnchorers: z.array(id).max(1000),
})

/**
 * Every event the IDS reads: relay, client and chain taps, plus one `config` line (the known anchorers).
 *
 * @example idsEventSchema.parse({ v: 1, t: 0, src: 'relay', kind: 'auth', device: 'd1', ip: '10.0.0.1', ok: true })
 */
export const idsEventSchema = z.discriminatedUnion('kind', [
  relay.auth,
  relay.challengeMisuse,
  relay.frameError,
  relay.publish,
  relay.subscribe,
  relay.fetch,
  relay.kpClaim,
  relay.queue,
  relay.expiry,
  client.verifyFail,
  client.seqGap,
  client.keyChange,
  client.welcome,
  chain.deviceAdded,
  chain.deviceRotated,
  chain.deviceRevoked,
  chain.anchor,
  chain.reorg,
  config,
])

/** One IDS event. @example const e: IdsEvent = { v: 1, t: 0, src: 'chain', kind: 'reorg', depth: 2, block: 10 } */
export type IdsEvent = z.infer<typeof idsEventSchema>
/** The kind of an IDS event. @example const k: IdsEventKind = 'publish' */
export type IdsEventKind = IdsEvent['kind']
/** The event of one kind. @example const p: IdsEventOf<'publish'> = e as IdsEventOf<'publish'> */
export type IdsEventOf<K extends IdsEventKind> = Extract<IdsEvent, { kind: K }>

/**
 * Where taps write events: the engine is one sink, a JSON-lines file another.
 *
 * @example const sink: IdsEventSink = { emit: (e) => engine.ingest(e) }
 */
export type IdsEventSink = { emit(event: IdsEvent): void }

/**
 * Checks an untrusted value against the event schema (unknown keys, wrong types and unknown kinds are refused).
 *
 * @example decodeIdsEvent(JSON.parse(line)) // IdsEvent, or throws IdsEventMalformedError
 */
export function decodeIdsEvent(value: unknown, line?: number): IdsEvent {
  const r = idsEventSchema.safeParse(value)
  if (r.success) return r.data
  const issue = r.error.issues[0]
  throw new IdsEventMalformedError({
    line,
    problem: issue ? `${issue.path.join('.') || '(event)'}: ${issue.message}` : 'invalid',
  })
}

/**
 * Decodes one JSON line (not JSON is malformed too).
 *
 * @example parseIdsEventLine('{"v":1,"t":0,"src":"chain","kind":"reorg","depth":1,"block":5}', 1)
 */
export function parseIdsEventLine(text: string, line?: number): IdsEvent {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new IdsEventMalformedError({ line, problem: 'not JSON' })
  }
  return decodeIdsEvent(value, line)
}

/**
 * The entity keys an event concerns (`device:…`, `ip:…`, `account:…`), used to correlate alerts.
 *
 * @example eventEntities({ v: 1, t: 0, src: 'relay', kind: 'kp-claim', device: 'd1', target: 'd2' }) // ['device:d1']
 */
export function eventEntities(e: IdsEvent): string[] {
  switch (e.kind) {
    case 'auth':
      return [`device:${e.device}`, `ip:${e.ip}`]
    case 'challenge-misuse':
    case 'frame-error':
      return [`ip:${e.ip}`]
    case 'publish':
    case 'subscribe':
    case 'fetch':
    case 'kp-claim':
    case 'key-change':
    case 'welcome':
      return [`device:${e.device}`]
    case 'verify-fail':
      return [`device:${e.device}`, `device:${e.sender}`]
    case 'seq-gap':
      return [`relay:${e.relay}`]
    case 'device-added':
    case 'device-rotated':
    case 'device-revoked':
      return [`account:${e.account}`, `device:${e.device}`]
    case 'anchor':
      return [`submitter:${e.submitter}`]
    default:
      return []
  }
}
