/** Alerts and incidents as data: what fired, how sure, the evidence, and the category of attack it points to. */

/**
 * What an alert points to: the attack kinds of the evaluation, plus categories only rules raise.
 *
 * @example const c: AlertCategory = 'exfiltration'
 */
export type AlertCategory =
  | 'credential-stuffing'
  | 'replay-flood'
  | 'spam-fanout'
  | 'enumeration'
  | 'kp-draining'
  | 'exfiltration'
  | 'compromised-device'
  | 'revoked-key-use'
  | 'relay-drop'
  | 'sybil-registration'
  | 'anchor-front-running'
  | 'clock-skew-forgery'
  | 'forgery'
  | 'policy-violation'
  | 'chain-reorg'
  | 'load-shedding'
  | 'clock-jump'

/**
 * Severity, lowest first; `info` alone never makes a reported incident.
 *
 * @example SEVERITIES.indexOf('high') > SEVERITIES.indexOf('low') // true
 */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const
/** One severity. @example const s: Severity = 'high' */
export type Severity = (typeof SEVERITIES)[number]

/**
 * The detector that fired: a rule (wrong by definition), a per-entity anomaly model, the multivariate model, the
 * fixed-threshold baseline, or the engine itself (load shedding, clock jumps).
 *
 * @example const d: Detector = { type: 'anomaly', name: 'device.fetched' }
 */
export type Detector = { type: 'rule' | 'anomaly' | 'multivariate' | 'threshold' | 'engine'; name: string }

/**
 * One alert. `evidence` holds ids and counts only (envelope ids, device ids, blocks), never content.
 *
 * @example const a: Alert = { id: 'a-1', at: 0, severity: 'high', category: 'replay-flood', detector: { type: 'rule', name: 'replay' }, score: 1, entities: ['device:d1'], summary: 'replayed envelope', evidence: { envelopes: ['0x…'] } }
 */
export type Alert = {
  id: string
  /** Event time (Unix ms) when it fired. */
  at: number
  severity: Severity
  category: AlertCategory
  detector: Detector
  /** Rules: 1; anomaly: robust z; multivariate: Mahalanobis d²; threshold: the count. */
  score: number
  /** `device:…`, `ip:…`, `account:…`, `relay:…`, `submitter:…`, `registry`. */
  entities: string[]
  summary: string
  evidence: Record<string, string | number | boolean | string[] | number[]>
}

/**
 * Related alerts grouped by shared entities close in time.
 *
 * @example const i: Incident = { id: 'i-1', start: 0, end: 1, kind: 'exfiltration', severity: 'high', entities: ['device:d1'], alerts: ['a-1'], detectors: ['anomaly:device.fetched'] }
 */
export type Incident = {
  id: string
  start: number
  end: number
  kind: AlertCategory
  severity: Severity
  entities: string[]
  alerts: string[]
  detectors: string[]
}

/**
 * Maps a robust score to a severity for anomaly alerts.
 *
 * @example severityFor(12, 6) // 'high'
 */
export function severityFor(score: number, threshold: number): Severity {
  if (score >= threshold * 4) return 'critical'
  if (score >= threshold * 1.5) return 'high'
  return 'medium'
}
