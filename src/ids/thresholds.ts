/** The default thresholds: tuned on the training seeds by `npm run ids:eval` (docs/ids.md §5). */
import type { IdsThresholds } from './detectors.js'

/**
 * Thresholds used when the caller gives none.
 *
 * @example new IdsEngine({ thresholds: { ...DEFAULT_THRESHOLDS, mahalanobis: 80 } })
 */
export const DEFAULT_THRESHOLDS: IdsThresholds = {
  z: {
    'device.publishes': 8,
    'device.fanout': 8,
    'device.newPeers': 8,
    'device.fetched': 8,
    'device.kpClaims': 8,
    'device.deniedSubs': 8,
    'device.authFails': 8,
    'ip.authFails': 8,
    'sender.clockSkew': 8,
    'relay.seqGaps': 8,
    'registry.newAccounts': 8,
  },
  minCount: {
    'device.publishes': 5,
    'device.fanout': 20,
    'device.newPeers': 3,
    'device.fetched': 50,
    'device.kpClaims': 3,
    'device.deniedSubs': 3,
    'device.authFails': 5,
    'ip.authFails': 3,
    'sender.clockSkew': 4,
    'relay.seqGaps': 10,
    'registry.newAccounts': 3,
  },
  mahalanobis: 60,
  fixed: {
    'device.publishes': 40,
    'device.fanout': 400,
    'device.newPeers': 15,
    'device.fetched': 1500,
    'device.kpClaims': 20,
    'device.deniedSubs': 10,
    'device.authFails': 10,
    'ip.authFails': 20,
    'sender.clockSkew': 5,
    'relay.seqGaps': 30,
    'registry.newAccounts': 8,
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
