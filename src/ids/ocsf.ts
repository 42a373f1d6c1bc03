/** Export of alerts as OCSF 1.3 Detection Finding (class 2004) JSON, the form SIEMs ingest. */
import { type Alert, SEVERITIES } from './alerts.js'

const ANALYTIC_TYPE = { rule: 1, threshold: 1, anomaly: 3, multivariate: 3, engine: 99 } as const

/**
 * One alert as an OCSF Detection Finding: class_uid 2004, activity Create, severity 1 (info) … 5 (critical);
 * Sealpost's entities and evidence go into `unmapped`, the detector into `finding_info.analytic`.
 *
 * @example JSON.stringify(toOcsfDetectionFinding(alert, '0.1.0'))
 */
export function toOcsfDetectionFinding(alert: Alert, productVersion: string): Record<string, unknown> {
  return {
    activity_id: 1,
    activity_name: 'Create',
    category_uid: 2,
    category_name: 'Findings',
    class_uid: 2004,
    class_name: 'Detection Finding',
    type_uid: 200401,
    severity_id: SEVERITIES.indexOf(alert.severity) + 1,
    severity: alert.severity[0]?.toUpperCase() + alert.severity.slice(1),
    status_id: 1,
    time: alert.at,
    message: alert.summary,
    finding_info: {
      uid: alert.id,
      title: alert.category,
      desc: alert.summary,
      types: [alert.category],
      created_time: alert.at,
      analytic: {
        name: alert.detector.name,
        type_id: ANALYTIC_TYPE[alert.detector.type],
        type:
          alert.detector.type === 'rule' || alert.detector.type === 'threshold'
            ? 'Rule'
            : alert.detector.type === 'engine'
              ? 'Other'
              : 'Statistical',
      },
    },
    metadata: {
      version: '1.3.0',
      product: { name: 'Sealpost IDS', vendor_name: 'Sealpost', version: productVersion },
    },
    unmapped: { entities: alert.entities, evidence: alert.evidence, score: alert.score },
  }
}
