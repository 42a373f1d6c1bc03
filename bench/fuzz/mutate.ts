/** The fuzzer's input generators: a seeded PRNG, a byte mutator of valid encodings, and a JSON value mutator. */

/**
 * A seeded PRNG: xoshiro128** (period 2^128 − 1) seeded through splitmix32. Speed and reproducibility, not secrecy.
 *
 * @example const rng = createRng(1); rng.int(10) // 0..9
 */
export function createRng(seed: number) {
  let x = seed >>> 0
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) >>> 0
    let z = x
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  const s = [splitmix(), splitmix(), splitmix(), splitmix()] as [number, number, number, number]
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1
  const rotl = (v: number, k: number) => ((v << k) | (v >>> (32 - k))) >>> 0
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0
    const t = (s[1] << 9) >>> 0
    s[2] = (s[2] ^ s[0]) >>> 0
    s[3] = (s[3] ^ s[1]) >>> 0
    s[1] = (s[1] ^ s[2]) >>> 0
    s[0] = (s[0] ^ s[3]) >>> 0
    s[2] = (s[2] ^ t) >>> 0
    s[3] = rotl(s[3], 11)
    return result
  }
  return {
    /** 0 ≤ n < max. */
    int: (max: number): number => (max <= 0 ? 0 : next() % max),
    chance: (p: number): boolean => next() / 0x1_0000_0000 < p,
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i++) out[i] = next() & 0xff
      return out
    },
    pick<T>(items: readonly T[]): T {
      return items[next() % items.length] as T
    },
  }
}

/** A seeded random source. */
export type Rng = ReturnType<typeof createRng>

const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff]
const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff]

/**
 * One random input derived from `seeds`: 1 to 4 stacked byte mutations (flip, interesting byte or 32-bit value,
 * insert, delete, duplicate, truncate, extend, splice with another seed), or, one time in ten, random bytes.
 *
 * @example const input = mutateBytes(rng, [encodeEnvelope(envelope)])
 */
export function mutateBytes(rng: Rng, seeds: readonly Uint8Array[]): Uint8Array {
  const seed = rng.pick(seeds)
  if (rng.chance(0.1)) return rng.bytes(rng.int(seed.length * 2 + 8))
  let out: Uint8Array = Uint8Array.from(seed)
  const ops = 1 + rng.int(4)
  for (let k = 0; k < ops; k++) {
    const at = rng.int(out.length + 1)
    switch (rng.int(10)) {
      case 0:
        if (out.length) out[at % out.length]! ^= 1 << rng.int(8)
        break
      case 1:
        if (out.length) out[at % out.length] = rng.pick(INTERESTING_BYTES)
        break
      case 2: {
        // A length or count field set to a boundary, big-endian or little-endian.
        if (out.length < 4) break
        const i = rng.int(out.length - 3)
        const v = rng.pick(INTERESTING_U32)
        const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
        view.setUint32(i, v, rng.chance(0.2)) // little-endian one time in five
        break
      }
      case 3:
        out = concat(out.subarray(0, at), rng.bytes(1 + rng.int(16)), out.subarray(at))
        break
      case 4:
        out = concat(out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + rng.int(32))))
        break
      case 5: {
        const len = 1 + rng.int(32)
        out = concat(out.subarray(0, at), out.subarray(at, at + len), out.subarray(at))
        break
      }
      case 6:
        out = out.slice(0, rng.int(out.length + 1))
        break
      case 7:
        out = concat(out, rng.bytes(1 + rng.int(64)))
        break
      case 8: {
        const other = rng.pick(seeds)
        const from = rng.int(other.length + 1)
        out = concat(out.subarray(0, at), other.subarray(from))
        break
      }
      default:
        if (out.length) out[at % out.length] = rng.int(256)
    }
  }
  return out
}

/** Values a JSON leaf is replaced with: wrong types, boundaries, wrong-length hex, deep or huge containers. */
function randomJsonValue(rng: Rng): unknown {
  switch (rng.int(14)) {
    case 0:
      return null
    case 1:
      return rng.chance(0.5)
    case 2:
      return rng.pick([0, -1, 1, 1.5, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, -0, 2 ** 32, 2 ** 64])
    case 3:
      return ''
    case 4:
      return `0x${Buffer.from(rng.bytes(rng.pick([0, 1, 19, 20, 21, 31, 32, 33, 64, 65]))).toString('hex')}`
    case 5:
      return `0x${'zz'.repeat(rng.int(40))}`
    case 6:
      return {}
    case 7:
      return []
    case 8:
      return rng.pick(['1', '-1', '18446744073709551616', '1e3', ' 1', '0x10', 'NaN', '99999999999999999999'])
    case 9: {
      let v: unknown = 1
      for (let i = 0, n = rng.int(200); i < n; i++) v = rng.chance(0.5) ? [v] : { a: v }
      return v
    }
    case 10:
      return Array.from({ length: rng.int(70) }, () => `0x${'ab'.repeat(32)}`)
    case 11:
      return Buffer.from(rng.bytes(rng.int(24))).toString('latin1')
    case 12:
      return rng.pick([
        'sent',
        'received',
        'rejected',
        'receipt',
        'log-anchor',
        'text',
        'eip155:1:0x',
        '__proto__',
      ])
    default:
      return 'x'.repeat(rng.int(5000))
  }
}

/**
 * One random JSON value derived from a seed value: 1 to 3 structural mutations at random places (replace a value,
 * delete or add a key, duplicate or drop an array element, wrap, `__proto__` keys), or one time in twenty a random
 * value. The seed is not modified.
 *
 * @example const input = mutateJson(rng, [JSON.parse(text)])
 */
export function mutateJson(rng: Rng, seeds: readonly unknown[]): unknown {
  if (rng.chance(0.05)) return randomJsonValue(rng)
  const root: { v: unknown } = { v: structuredClone(rng.pick(seeds)) }
  const ops = 1 + rng.int(3)
  for (let k = 0; k < ops; k++) {
    // Walk down from the root to a random container and one of its slots.
    let parent: Record<string, unknown> | unknown[] = root as Record<string, unknown>
    let key: string | number = 'v'
    for (let depth = 0; depth < 8; depth++) {
      const child = (parent as Record<string | number, unknown>)[key]
      if (child === null || typeof child !== 'object' || rng.chance(0.25)) break
      const keys: (string | number)[] = Array.isArray(child) ? child.map((_, i) => i) : Object.keys(child)
      if (keys.length === 0) break
      parent = child as Record<string, unknown> | unknown[]
      key = rng.pick(keys)
    }
    const slot = parent as Record<string | number, unknown>
    switch (rng.int(7)) {
      case 0:
        if (Array.isArray(parent)) parent.splice(Number(key), 1)
        else delete slot[key]
        break
      case 1:
        if (Array.isArray(parent)) parent.splice(Number(key), 0, structuredClone(parent[Number(key)]))
        else slot[`${String(key)}_${rng.int(3)}`] = randomJsonValue(rng)
        break
      case 2:
        slot[key] = [slot[key]]
        break
      case 3:
        if (!Array.isArray(parent))
          Object.defineProperty(parent, '__proto__', {
            value: randomJsonValue(rng),
            enumerable: true,
            configurable: true,
            writable: true,
          })
        break
      default:
        slot[key] = randomJsonValue(rng)
    }
  }
  return root.v
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
