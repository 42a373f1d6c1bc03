/** Rules: what is wrong by definition (a replay, a reused sequence number, a revoked key in use, an unknown anchorer), one event at a time. */
import type { Alert } from './alerts.js'
import type { IdsEvent } from './events.js'

/** An alert before the engine numbers it and logs it. @example const d: AlertDraft = { …alert without id } */
export type AlertDraft = Omit<Alert, 'id'> & {
  /** Rules fire once per window for the same key (a flood is one alert with a count, not thousands). */
  dedupe?: string
}

/**
 * What rules need beyond the event: the anchorers the operator knows, devices revoked on chain, the odd hours.
 *
 * @example const ctx: RuleContext = { knownAnchorers: new Set(['0xA…']), revoked: new Set(), isOddHour: () => false }
 */
export type RuleContext = {
  knownAnchorers: ReadonlySet<string>
  revoked: ReadonlySet<string>
  isOddHour(t: number): boolean
}

const VERIFY_RULES = {
  replayed: { category: 'replay-flood', severity: 'high', rule: 'replay' },
  'stale-seq': { category: 'replay-flood', severity: 'high', rule: 'stale-seq' },
  'revoked-key': { category: 'revoked-key-use', severity: 'critical', rule: 'revoked-key' },
  forged: { category: 'forgery', severity: 'high', rule: 'forged' },
  policy: { category: 'policy-violation', severity: 'high', rule: 'policy' },
  'planted-group': { category: 'policy-violation', severity: 'high', rule: 'planted-group' },
} as const

/** What differs between two rule alerts; the rest (detector, score 1, the dedupe key's prefix) is the rule's. */
type Firing = Pick<AlertDraft, 'entities' | 'summary' | 'evidence'> & {
  score?: number
  /** Fire once per window per `<rule>:<dedupe>`; none when absent. */
  dedupe?: string | undefined
}

/** A refusal's sender as an entity: an account (20 bytes, a direct conversation's peer) or a device. */
const senderEntity = (sender: string): string =>
  /^0x[0-9a-f]{40}$/.test(sender) ? `account:${sender}` : `device:${sender}`

/** The one alert rule `rule` raises at `at`. */
function fire(
  at: number,
  rule: string,
  category: AlertDraft['category'],
  severity: AlertDraft['severity'],
  { score = 1, dedupe, ...rest }: Firing,
): AlertDraft[] {
  const alert: AlertDraft = { at, severity, category, detector: { type: 'rule', name: rule }, score, ...rest }
  return [dedupe === undefined ? alert : { ...alert, dedupe: `${rule}:${dedupe}` }]
}

/**
 * The rule alerts one event raises (none for most events).
 *
 * @example ruleAlerts({ v: 1, t: 5, src: 'client', kind: 'verify-fail', device: 'd1', sender: 'd2', reason: 'replayed' }, ctx)[0]?.category // 'replay-flood'
 */
export function ruleAlerts(e: IdsEvent, ctx: RuleContext): AlertDraft[] {
  switch (e.kind) {
    case 'verify-fail': {
      if (!(e.reason in VERIFY_RULES)) return []
      const r = VERIFY_RULES[e.reason as keyof typeof VERIFY_RULES]
      // An unknown sender may be several: each refused envelope is then its own alert (the same envelope refused by
      // several devices is one). The entity is the sender alone: the refusing device is a target (evidence), and
      // through it every attack on one victim, by anyone, would merge into one incident.
      const unknown = e.sender === 'unknown'
      return fire(e.t, r.rule, r.category, r.severity, {
        entities: [senderEntity(e.sender)],
        summary: `${e.device} refused a ${e.reason} message from ${e.sender}`,
        evidence: {
          receiver: e.device,
          sender: e.sender,
          ...(e.envelope ? { envelopes: [e.envelope] } : {}),
        },
        dedupe: unknown ? e.envelope : e.sender,
      })
    }
    case 'auth':
      if (e.reason !== 'revoked' && !(e.ok && ctx.revoked.has(e.device))) return []
      return fire(e.t, 'revoked-key', 'revoked-key-use', 'critical', {
        entities: [`device:${e.device}`, `ip:${e.ip}`],
        summary: `revoked device ${e.device} tried to authenticate from ${e.ip}`,
        evidence: { device: e.device, ip: e.ip, accepted: e.ok },
        dedupe: e.device,
      })
    case 'publish':
      if (!ctx.revoked.has(e.device)) return []
      return fire(e.t, 'revoked-key', 'revoked-key-use', 'critical', {
        entities: [`device:${e.device}`, `account:${e.account}`],
        summary: `revoked device ${e.device} published on ${e.topic}`,
        evidence: { device: e.device, topic: e.topic },
        dedupe: e.device,
      })
    case 'anchor':
      if (ctx.knownAnchorers.size === 0 || ctx.knownAnchorers.has(e.submitter)) return []
      return fire(e.t, 'unknown-anchorer', 'anchor-front-running', 'high', {
        entities: [`submitter:${e.submitter}`],
        summary: `root ${e.root} anchored by ${e.submitter}, not a known anchorer`,
        evidence: { root: e.root, submitter: e.submitter, blocks: [e.block] },
        dedupe: e.submitter,
      })
    case 'challenge-misuse':
      return fire(e.t, 'challenge-misuse', 'credential-stuffing', 'medium', {
        entities: [`ip:${e.ip}`],
        summary: `challenge misuse from ${e.ip}`,
        evidence: { ip: e.ip },
        dedupe: e.ip,
      })
    case 'welcome':
      if (e.expected) return []
      return fire(e.t, 'unexpected-welcome', 'policy-violation', 'high', {
        entities: [`device:${e.device}`],
        summary: `${e.device} got a Welcome to ${e.group} it did not expect`,
        evidence: { device: e.device, group: e.group },
        dedupe: e.device,
      })
    case 'reorg':
      if (e.depth < 3) return []
      return fire(e.t, 'deep-reorg', 'chain-reorg', 'medium', {
        score: e.depth,
        entities: ['chain'],
        summary: `chain reorganised ${e.depth} blocks at ${e.block}`,
        evidence: { depth: e.depth, blocks: [e.block] },
      })
    case 'device-added':
      if (!ctx.isOddHour(e.t)) return []
      return fire(e.t, 'odd-hour-link', 'compromised-device', 'info', {
        entities: [`device:${e.device}`, `account:${e.account}`],
        summary: `device ${e.device} added to ${e.account} at an hour the organisation is quiet`,
        evidence: { device: e.device, account: e.account, blocks: [e.block] },
      })
    default:
      return []
  }
}
