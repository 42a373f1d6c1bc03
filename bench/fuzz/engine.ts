/** Drives one decoder with N generated inputs and sorts every outcome: a value, a typed error, or a crash. */
import { BaseError } from '../../src/errors.js'
import { createRng, mutateBytes, mutateJson } from './mutate.js'
import type { FuzzTarget } from './targets.js'

/** An input that made the decoder throw something other than a `BaseError`. */
export type FuzzCrash = { input: string; error: string; message: string }

/** What one target's run found. */
export type FuzzTargetResult = {
  name: string
  decoder: string
  kind: FuzzTarget['kind']
  runs: number
  /** Inputs the decoder accepted. */
  ok: number
  /** Inputs refused with a `BaseError` subclass, by error name. */
  typed: number
  typedByName: Record<string, number>
  /** Inputs that threw anything else (the failure this fuzzer looks for). */
  untyped: number
  /** The first few untyped throws, with their input (hex, JSON or text), to reproduce them. */
  crashes: FuzzCrash[]
  durationMs: number
  slowestInputMs: number
}

const MAX_CRASHES = 5

function show(input: unknown): string {
  if (input instanceof Uint8Array) return `0x${Buffer.from(input).toString('hex')}`.slice(0, 4096)
  if (typeof input === 'string') return input.slice(0, 4096)
  try {
    return (JSON.stringify(input) ?? String(input)).slice(0, 4096)
  } catch {
    return String(input)
  }
}

/**
 * Runs `runs` inputs through `target.decode`, derived from its seeds with a PRNG seeded by `seed` (the same seed
 * gives the same inputs). Every seed is decoded first and must be accepted. `onProgress` is called about every
 * `progressEvery` inputs.
 *
 * @example const result = runFuzzTarget(target, { runs: 1_000_000, seed: 1 })
 */
export function runFuzzTarget(
  target: FuzzTarget,
  {
    runs,
    seed,
    onProgress,
    progressEvery = 100_000,
  }: { runs: number; seed: number; onProgress?: (done: number) => void; progressEvery?: number },
): FuzzTargetResult {
  for (const s of target.seeds) target.decode(s) // a seed that does not decode is a bug in the seeds: throw
  const rng = createRng(seed)
  const seedBytes =
    target.kind === 'string' ? target.seeds.map((s) => new TextEncoder().encode(s as string)) : []
  const decoder = new TextDecoder()
  const result: FuzzTargetResult = {
    name: target.name,
    decoder: target.decoder,
    kind: target.kind,
    runs,
    ok: 0,
    typed: 0,
    typedByName: {},
    untyped: 0,
    crashes: [],
    durationMs: 0,
    slowestInputMs: 0,
  }
  const started = performance.now()
  for (let i = 0; i < runs; i++) {
    const input =
      target.kind === 'bytes'
        ? mutateBytes(rng, target.seeds as Uint8Array[])
        : target.kind === 'json'
          ? mutateJson(rng, target.seeds)
          : decoder.decode(mutateBytes(rng, seedBytes))
    const t0 = performance.now()
    try {
      target.decode(input)
      result.ok++
    } catch (err) {
      if (err instanceof BaseError) {
        result.typed++
        result.typedByName[err.name] = (result.typedByName[err.name] ?? 0) + 1
      } else {
        result.untyped++
        if (result.crashes.length < MAX_CRASHES)
          result.crashes.push({
            input: show(input),
            error: err instanceof Error ? err.name : typeof err,
            message: (err instanceof Error ? err.message : String(err)).slice(0, 300),
          })
      }
    }
    const dt = performance.now() - t0
    if (dt > result.slowestInputMs) result.slowestInputMs = dt
    if (onProgress && (i + 1) % progressEvery === 0) onProgress(i + 1)
  }
  result.durationMs = performance.now() - started
  return result
}
