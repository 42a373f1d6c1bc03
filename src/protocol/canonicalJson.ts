/** Canonical JSON (RFC 8785 JCS output for JSON data, plus bigints as decimal strings): the bytes the log hashes. */
import { ValidationError } from '../errors.js'

/** A JSON value as `JSON.parse` returns it. @example const v: JsonValue = { a: [1, 'x', null] } */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }
/** A JSON object. @example const o: JsonObject = { kind: 'sent' } */
export type JsonObject = { [key: string]: JsonValue }
/**
 * What `canonicalJson` accepts: JSON values, plus `bigint` anywhere (written as a decimal string), and
 * read-only arrays.
 *
 * @example const v: CanonicalJsonInput = { seq: 5n, path: ['0xab'] }
 */
export type CanonicalJsonInput =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly CanonicalJsonInput[]
  | { readonly [key: string]: CanonicalJsonInput }

/** Deepest nesting `canonicalJson` accepts (arrays and objects), so hostile input cannot exhaust the stack. @example CANONICAL_JSON_MAX_DEPTH // 64 */
export const CANONICAL_JSON_MAX_DEPTH = 64

/**
 * The value cannot be written as canonical JSON: `undefined`, a function, a symbol, NaN or ±Infinity, a
 * non-plain object (Date, Map, Uint8Array…), a cycle, or nesting deeper than 64. `path` names the place
 * (`$.data.body`), never the value.
 *
 * @example new CanonicalJsonError({ path: '$.at', reason: 'NaN is not JSON' })
 */
export class CanonicalJsonError extends ValidationError {
  override name = 'CanonicalJsonError' as const
  readonly path: string
  constructor({ path, reason }: { path: string; reason: string }) {
    super('Value cannot be encoded as canonical JSON.', {
      metaMessages: [`Path: ${path}`, `Reason: ${reason}`],
      code: 'SEALPOST_CANONICAL_JSON_INVALID',
    })
    this.path = path
  }
}

/**
 * Serialises `value` deterministically: object keys sorted by UTF-16 code units, no whitespace, strings
 * and numbers exactly as `JSON.stringify` writes them (which is what RFC 8785 specifies: shortest round-trip
 * numbers, `-0` as `0`, minimal string escapes), `bigint` as a quoted decimal string. Throws
 * `CanonicalJsonError` for `undefined` (also as an object property), functions, symbols, non-finite numbers,
 * non-plain objects, cycles and nesting deeper than {@link CANONICAL_JSON_MAX_DEPTH}.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null, 'x'], n: 10n }) // '{"a":[true,null,"x"],"b":1,"n":"10"}'
 */
export function canonicalJson(value: CanonicalJsonInput): string {
  const out: string[] = []
  write(value, '$', 0, new Set(), out)
  return out.join('')
}

function write(value: unknown, path: string, depth: number, seen: Set<object>, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value))
      return
    case 'boolean':
      out.push(value ? 'true' : 'false')
      return
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError({ path, reason: `${value} is not JSON` })
      out.push(JSON.stringify(value))
      return
    case 'bigint':
      out.push(`"${value.toString(10)}"`)
      return
    case 'undefined':
      throw new CanonicalJsonError({ path, reason: 'undefined is not JSON' })
    case 'function':
      throw new CanonicalJsonError({ path, reason: 'a function is not JSON' })
    case 'symbol':
      throw new CanonicalJsonError({ path, reason: 'a symbol is not JSON' })
  }
  if (value === null) {
    out.push('null')
    return
  }
  const object = value as object
  if (depth >= CANONICAL_JSON_MAX_DEPTH)
    throw new CanonicalJsonError({ path, reason: `nested deeper than ${CANONICAL_JSON_MAX_DEPTH}` })
  if (seen.has(object)) throw new CanonicalJsonError({ path, reason: 'cycle' })
  seen.add(object)
  if (Array.isArray(object)) {
    out.push('[')
    for (let i = 0; i < object.length; i++) {
      if (i > 0) out.push(',')
      // Holes in sparse arrays read as undefined and are rejected like explicit undefined.
      write(object[i], `${path}[${i}]`, depth + 1, seen, out)
    }
    out.push(']')
  } else {
    const proto = Object.getPrototypeOf(object)
    if (proto !== Object.prototype && proto !== null)
      throw new CanonicalJsonError({ path, reason: 'only plain objects and arrays are JSON' })
    if (Object.getOwnPropertySymbols(object).length > 0)
      throw new CanonicalJsonError({ path, reason: 'symbol keys are not JSON' })
    const record = object as Record<string, unknown>
    // Default sort compares UTF-16 code units, which is RFC 8785's key order.
    const keys = Object.keys(record).sort()
    out.push('{')
    keys.forEach((key, i) => {
      if (i > 0) out.push(',')
      out.push(JSON.stringify(key), ':')
      write(record[key], `${path}${memberPath(key)}`, depth + 1, seen, out)
    })
    out.push('}')
  }
  seen.delete(object)
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

function memberPath(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}
