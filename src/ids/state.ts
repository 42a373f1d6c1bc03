/** The engine's model state as versioned JSON: saved atomically to disk, restored after a restart. */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { type BaselineStats, SeasonalBaseline } from './baseline.js'
import { type Models, newModels, UNIVARIATE, type UnivariateName } from './detectors.js'
import type { IdsStats } from './engine.js'
import { IdsStateInvalidError } from './errors.js'
import type { FeatureWindow } from './window.js'

/** What the engine keeps between events (internal; shared by state.ts and engine.ts). @example const s: EngineInternals = restoreInternals(state) */
export type EngineInternals = {
  window: FeatureWindow | undefined
  firstAt: number | undefined
  models: Models
  peers: Map<string, Set<string>>
  revoked: Set<string>
  oddLinked: Map<string, number>
  anchorers: Set<string>
  dedupe: Set<string>
  seq: number
  shedInWindow: number
  stats: IdsStats
}

/**
 * The saved form (version 1): maps and sets as arrays.
 *
 * @example const state: IdsState = engine.exportState()
 */
export type IdsState = {
  version: 1
  window: Record<string, unknown> | null
  firstAt: number | null
  baselines: Record<string, { population: BaselineStats; stats: [string, BaselineStats][] }>
  carry: Record<string, [string, number][]>
  multivariate: { dim: number; cov: number[]; n: number }
  devices: string[]
  relays: string[]
  peers: [string, string[]][]
  revoked: string[]
  oddLinked: [string, number][]
  anchorers: string[]
  dedupe: string[]
  seq: number
  shedInWindow: number
  stats: IdsStats
}

type SavedWindow = {
  start: number
  events: number
  devices: [string, number[]][]
  ipFails: [string, number][]
  ipDevices: [string, string[]][]
  clockFails: [string, number][]
  clockReceivers: [string, string[]][]
  seqGaps: [string, number][]
  newAccounts: number
  newAccountSubmitters: string[]
}

const mapOfSets = (m: Map<string, Set<string>>): [string, string[]][] => [...m].map(([k, v]) => [k, [...v]])
const setsOf = (a: [string, string[]][]) => new Map(a.map(([k, v]) => [k, new Set(v)]))

/** Snapshot of the internals. @example snapshotInternals(internals).version // 1 */
export function snapshotInternals(s: EngineInternals): IdsState {
  const w = s.window
  return {
    version: 1,
    window: w
      ? {
          start: w.start,
          events: w.events,
          devices: [...w.devices],
          ipFails: [...w.ipFails],
          ipDevices: mapOfSets(w.ipDevices),
          clockFails: [...w.clockFails],
          clockReceivers: mapOfSets(w.clockReceivers),
          seqGaps: [...w.seqGaps],
          newAccounts: w.newAccounts,
          newAccountSubmitters: [...w.newAccountSubmitters],
        }
      : null,
    firstAt: s.firstAt ?? null,
    baselines: Object.fromEntries(
      Object.entries(s.models.baselines).map(([k, b]) => [
        k,
        { population: b.population, stats: [...b.stats] },
      ]),
    ),
    carry: Object.fromEntries(Object.entries(s.models.carry).map(([k, m]) => [k, [...m]])),
    multivariate: s.models.multivariate.state,
    devices: [...s.models.devices],
    relays: [...s.models.relays],
    peers: mapOfSets(s.peers),
    revoked: [...s.revoked],
    oddLinked: [...s.oddLinked],
    anchorers: [...s.anchorers],
    dedupe: [...s.dedupe],
    seq: s.seq,
    shedInWindow: s.shedInWindow,
    stats: { ...s.stats },
  }
}

/** Rebuilds internals from a snapshot; throws IdsStateInvalidError on anything else. @example restoreInternals(state) */
export function restoreInternals(state: IdsState): EngineInternals {
  try {
    if (state?.version !== 1) throw new Error(`version ${String(state?.version)}`)
    const models = newModels()
    for (const name of Object.keys(UNIVARIATE) as UnivariateName[]) {
      const saved = state.baselines[name]
      if (!saved) throw new Error(`no baseline ${name}`)
      const b = new SeasonalBaseline(models.baselines[name].options)
      Object.assign(b.population, saved.population)
      for (const [k, v] of saved.stats) b.stats.set(k, v)
      models.baselines[name] = b
      models.carry[name] = new Map(state.carry[name] ?? [])
    }
    if (state.multivariate.dim !== models.multivariate.state.dim) throw new Error('multivariate dimension')
    models.multivariate.state = { ...state.multivariate, cov: [...state.multivariate.cov] }
    for (const d of state.devices) models.devices.add(d)
    for (const r of state.relays) models.relays.add(r)
    const w = state.window as SavedWindow | null
    return {
      window: w
        ? {
            start: w.start,
            events: w.events,
            devices: new Map(w.devices),
            ipFails: new Map(w.ipFails),
            ipDevices: setsOf(w.ipDevices),
            clockFails: new Map(w.clockFails),
            clockReceivers: setsOf(w.clockReceivers),
            seqGaps: new Map(w.seqGaps),
            newAccounts: w.newAccounts,
            newAccountSubmitters: new Set(w.newAccountSubmitters),
          }
        : undefined,
      firstAt: state.firstAt ?? undefined,
      models,
      peers: setsOf(state.peers),
      revoked: new Set(state.revoked),
      oddLinked: new Map(state.oddLinked),
      anchorers: new Set(state.anchorers),
      dedupe: new Set(state.dedupe),
      seq: state.seq,
      shedInWindow: state.shedInWindow,
      stats: { ...state.stats },
    }
  } catch (err) {
    throw new IdsStateInvalidError({ problem: err instanceof Error ? err.message : String(err) })
  }
}

/**
 * Writes the state to `path` atomically (a temp file renamed over it).
 *
 * @example saveIdsState('ids-state.json', engine.exportState())
 */
export function saveIdsState(path: string, state: IdsState): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(state))
  renameSync(`${path}.tmp`, path)
}

/**
 * Reads a state written by `saveIdsState`; throws IdsStateInvalidError if it does not parse.
 *
 * @example new IdsEngine(config, { state: loadIdsState('ids-state.json') })
 */
export function loadIdsState(path: string): IdsState {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new IdsStateInvalidError({ problem: err instanceof Error ? err.message : 'unreadable' })
  }
  restoreInternals(value as IdsState)
  return value as IdsState
}
