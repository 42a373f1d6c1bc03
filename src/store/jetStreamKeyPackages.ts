/** Relay store on JetStream: one-time and last-resort key packages in the state bucket (`kp.*`, `lastresort.*`). */
import { isConflict, type JetStreamParts, keysOf } from './jetStreamLayout.js'

/**
 * Stores `envelopes` (oldest first by an order token) and the last-resort key package of device token `d`; returns
 * how many one-time key packages it has now.
 *
 * @example await putKeyPackagesOn(parts, deviceToken, [bytes])
 */
export async function putKeyPackagesOn(
  p: JetStreamParts,
  d: string,
  envelopes: Uint8Array[],
  lastResort?: Uint8Array,
): Promise<number> {
  for (const e of envelopes) await p.keyPackages.put(`${d}.${order()}`, e)
  if (lastResort) await p.lastResort.put(d, lastResort)
  return countKeyPackagesOn(p, d)
}

/**
 * Removes and returns the oldest one-time key package of device token `d`, else its last-resort one (kept). Deleting
 * with the entry's revision claims it, so two relays never hand out the same one.
 *
 * @example const kp = await takeKeyPackageOn(parts, deviceToken)
 */
export async function takeKeyPackageOn(p: JetStreamParts, d: string): Promise<Uint8Array | undefined> {
  for (const key of (await keysOf(p.keyPackages, `${d}.*`)).sort()) {
    const e = await p.keyPackages.get(key)
    if (e?.operation !== 'PUT') continue
    try {
      await p.keyPackages.delete(key, { previousSeq: e.revision })
      return e.value
    } catch (err) {
      if (!isConflict(err)) throw err
    }
  }
  const last = await p.lastResort.get(d)
  return last && last.operation === 'PUT' ? last.value : undefined
}

/**
 * How many one-time key packages device token `d` has (the last-resort one is not counted).
 *
 * @example await countKeyPackagesOn(parts, deviceToken) // 3
 */
export async function countKeyPackagesOn(p: JetStreamParts, d: string): Promise<number> {
  return (await keysOf(p.keyPackages, `${d}.*`)).length
}

let counter = 0
/** A key-package order token: sorts by time, then by a process counter, then randomly (ties across relays). */
function order(): string {
  counter = (counter + 1) % 1_000_000
  const rand = Math.floor(Math.random() * 1e6)
  return `${Date.now().toString().padStart(15, '0')}${counter.toString().padStart(6, '0')}${rand.toString().padStart(6, '0')}`
}
