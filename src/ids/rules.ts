/** Rules: what is wrong by definition (a replay, a revoked key in use, an unknown anchorer), one event at a time. */
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
  'revoked-key': { category: 'revoked-key-use', severity: 'critical', rule: 'revoked-key' },
  forged: { category: 'forgery', severity: 'high', rule: 'forged' },
  policy: { category: 'policy-violation', severity: 'high', rule: 'policy' },
  'planted-group': { category: 'policy-violation', severity: 'high', rule: 'planted-group' },
} as const

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
      return [
        {
          at: e.t,
          severity: r.severity,
          category: r.category,
          detector: { type: 'rule', name: r.rule },
          score: 1,
          entities: [`device:${e.sender}`, `device:${e.device}`],
          summary: `${e.device} refused a ${e.reason} message from ${e.sender}`,
          evidence: {
            receiver: e.device,
            sender: e.sender,
            ...(e.envelope ? { envelopes: [e.envelope] } : {}),
          },
          dedupe: `${r.rule}:${e.sender}`,
        },
      ]
    }
    case 'auth':
      if (e.reason !== 'revoked' && !(e.ok && ctx.revoked.has(e.device))) return []
      return [
        {
          at: e.t,
          severity: 'critical',
          category: 'revoked-key-use',
          detector: { type: 'rule', name: 'revoked-key' },
          score: 1,
          entities: [`device:${e.device}`, `ip:${e.ip}`],
          summary: `revoked device ${e.device} tried to authenticate from ${e.ip}`,
          evidence: { device: e.device, ip: e.ip, accepted: e.ok },
          dedupe: `revoked-key:${e.device}`,
        },
      ]
    case 'publish':
      if (!ctx.revoked.has(e.device)) return []
      return [
        {
          at: e.t,
          severity: 'critical',
          category: 'revoked-key-use',
          detector: { type: 'rule', name: 'revoked-key' },
          score: 1,
          entities: [`device:${e.device}`, `account:${e.account}`],
          summary: `revoked device ${e.device} published on ${e.topic}`,
          evidence: { device: e.device, topic: e.topic },
          dedupe: `revoked-key:${e.device}`,
        },
      ]
    case 'anchor':
      if (ctx.knownAnchorers.size === 0 || ctx.knownAnchorers.has(e.submitter)) return []
      return [
        {
          at: e.t,
          severity: 'high',
          category: 'anchor-front-running',
          detector: { type: 'rule', name: 'unknown-anchorer' },
          score: 1,
          entities: [`submitter:${e.submitter}`],
          summary: `root ${e.root} anchored by ${e.submitter}, not a known anchorer`,
          evidence: { root: e.root, submitter: e.submitter, blocks: [e.block] },
          dedupe: `unknown-anchorer:${e.submitter}`,
        },
      ]
    case 'challenge-misuse':
      return [
        {
          at: e.t,
          severity: 'medium',
          category: 'credential-stuffing',
          detector: { type: 'rule', name: 'challenge-misuse' },
          score: 1,
          entities: [`ip:${e.ip}`],
          summary: `challenge misuse from ${e.ip}`,
          evidence: { ip: e.ip },
          dedupe: `challenge-misuse:${e.ip}`,
        },
      ]
    case 'welcome':
      if (e.expected) return []
      return [
        {
          at: e.t,
          severity: 'high',
          category: 'policy-violation',
          detector: { type: 'rule', name: 'unexpected-welcome' },
          score: 1,
          entities: [`device:${e.device}`],
          summary: `${e.device} got a Welcome to ${e.group} it did not expect`,
          evidence: { device: e.device, group: e.group },
          dedupe: `unexpected-welcome:${e.device}`,
        },
      ]
    case 'reorg':
      if (e.depth < 3) return []
      return [
        {
          at: e.t,
          severity: 'medium',
          category: 'chain-reorg',
          detector: { type: 'rule', name: 'deep-reorg' },
          score: e.depth,
          entities: ['chain'],
          summary: `chain reorganised ${e.depth} blocks at ${e.block}`,
          evidence: { depth: e.depth, blocks: [e.block] },
        },
      ]
    case 'device-added':
      if (!ctx.isOddHour(e.t)) return []
      return [
        {
          at: e.t,
          severity: 'info',
          category: 'compromised-device',
          detector: { type: 'rule', name: 'odd-hour-link' },
          score: 1,
          entities: [`device:${e.device}`, `account:${e.account}`],
          summary: `device ${e.device} added to ${e.account} at an hour the organisation is quiet`,
          evidence: { device: e.device, account: e.account, blocks: [e.block] },
        },
      ]
    default:
      return []
  }
}
