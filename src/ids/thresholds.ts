/** The default thresholds: tuned on the training seeds by `npm run ids:eval` (bench/results/ids-thresholds.json, docs/ids.md §4). */
import type { IdsThresholds } from './detectors.js'

/**
 * Thresholds used when the caller gives none.
 *
 * @example new IdsEngine({ thresholds: { ...DEFAULT_THRESHOLDS, mahalanobis: 80 } })
 */
export const DEFAULT_THRESHOLDS: IdsThresholds = {
  z: {
    'device.publishes': 3,
    'device.fanout': 40,
    'device.newPeers': 3,
    'device.fetched': 70,
    'device.kpClaims': 3,
    'device.deniedSubs': 3,
    'device.authFails': 3,
    'ip.authFails': 3,
    'sender.clockSkew': 3,
    'relay.seqGaps': 3,
    'registry.newAccounts': 3,
  },
  minCount: {
    'device.publishes': 5,
    'device.fanout': 20,
    'device.newPeers': 3,
    'device.fetched': 50,
    'device.kpClaims': 5,
    'device.deniedSubs': 4,
    'device.authFails': 5,
    'ip.authFails': 3,
    'sender.clockSkew': 4,
    'relay.seqGaps': 10,
    'registry.newAccounts': 3,
  },
  mahalanobis: 15,
  fixed: {
    'device.publishes': 10,
    'device.fanout': 150,
    'device.newPeers': 3,
    'device.fetched': 1000,
    'device.kpClaims': 4,
    'device.deniedSubs': 3,
    'device.authFails': 3,
    'ip.authFails': 3,
    'sender.clockSkew': 5,
    'relay.seqGaps': 4,
    'registry.newAccounts': 3,
  },
}

/**
 * The thresholds the evaluation sweeps (record mode): low enough that the tuner sees every candidate.
 *
 * @example new IdsEngine({ thresholds: RECORD_THRESHOLDS, fixedBaseline: true })
 */
export const RECORD_THRESHOLDS: IdsThresholds = {
  z: Object.fromEntries(Object.keys(DEFAULT_THRESHOLDS.z).map((k) => [k, 3])) as IdsThresholds['z'],
  minCount: DEFAULT_THRESHOLDS.minCount,
  mahalanobis: 10,
  fixed: Object.fromEntries(
    Object.keys(DEFAULT_THRESHOLDS.fixed).map((k) => [k, 3]),
  ) as IdsThresholds['fixed'],
}
