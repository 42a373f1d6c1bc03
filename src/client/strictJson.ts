/** A strict JSON reader for evidence files: RFC 8259 only, and no object may name the same key twice. */
import { JsonSyntaxError } from './errors.js'

/*
 * Why not `JSON.parse`: it keeps the last of two equal keys, while another reader (a person, `jq`, a streaming
 * parser) may see the first, so one file could mean two things. No reviver can tell: it sees the merged object.
 * Why not a dependency: the grammar is small, and the well-kept duplicate-refusing parsers either pull in a schema
 * system or stream tokens we would still have to assemble. This reader is the grammar of RFC 8259 §2-7 and nothing
 * else: no comments, no trailing commas, no BOM, no NaN, no leading zeros, one value and only whitespace around it.
 */

/** Nesting deeper than this is refused (a transcript needs 6). */
const MAX_DEPTH = 64

/**
 * Parses `text` as strict JSON. Throws `JsonSyntaxError` (SEALPOST_JSON_INVALID) with the offset and the reason for
 * anything else: empty input, a syntax error, trailing data, nesting deeper than 64, or an object with a duplicate
 * key (also `__proto__`, which is kept as an ordinary own property).
 *
 * @example parseStrictJson('{"a":1,"a":2}') // throws JsonSyntaxError: duplicate key "a"
 */
export function parseStrictJson(text: string): unknown {
  let at = 0
  const fail = (reason: string): never => {
    throw new JsonSyntaxError({ offset: at, reason })
  }
  const ws = () => {
    while (at < text.length) {
      const c = text.charCodeAt(at)
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) at++
      else break
    }
  }
  const expect = (literal: string, value: unknown) => {
    if (text.startsWith(literal, at)) {
      at += literal.length
      return value
    }
    return fail('unexpected character')
  }
  const string = (): string => {
    at++ // opening quote
    let out = ''
    let start = at
    while (true) {
      if (at >= text.length) fail('unterminated string')
      const c = text.charCodeAt(at)
      if (c === 0x22) {
        out += text.slice(start, at)
        at++
        return out
      }
      if (c < 0x20) fail('control character in a string')
      if (c !== 0x5c) {
        at++
        continue
      }
      out += text.slice(start, at)
      const e = text[at + 1]
      const simple: Record<string, string> = {
        '"': '"',
        '\\': '\\',
        '/': '/',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
      }
      if (e !== undefined && e in simple) {
        out += simple[e]
        at += 2
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(at + 2, at + 6))) {
        out += String.fromCharCode(Number.parseInt(text.slice(at + 2, at + 6), 16))
        at += 6
      } else fail('bad escape in a string')
      start = at
    }
  }
  const number = (): number => {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(at, at + 400))
    if (!match) return fail('bad number')
    at += match[0].length
    const value = Number(match[0])
    return Number.isFinite(value) ? value : fail('number out of range')
  }
  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH}`)
    ws()
    const c = text[at]
    if (c === undefined) return fail(text.trim() === '' ? 'empty input' : 'unexpected end of input')
    if (c === '{') {
      at++
      const obj: Record<string, unknown> = {}
      const seen = new Set<string>()
      ws()
      if (text[at] === '}') {
        at++
        return obj
      }
      while (true) {
        ws()
        if (text[at] !== '"') fail('expected a key')
        const keyAt = at
        const key = string()
        if (seen.has(key)) {
          at = keyAt
          fail(`duplicate key ${JSON.stringify(key.slice(0, 40))}`)
        }
        seen.add(key)
        ws()
        if (text[at] !== ':') fail('expected ":"')
        at++
        // defineProperty: a "__proto__" key stays data, never the object's prototype.
        Object.defineProperty(obj, key, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        })
        ws()
        if (text[at] === ',') at++
        else if (text[at] === '}') {
          at++
          return obj
        } else fail('expected "," or "}"')
      }
    }
    if (c === '[') {
      at++
      const arr: unknown[] = []
      ws()
      if (text[at] === ']') {
        at++
        return arr
      }
      while (true) {
        arr.push(value(depth + 1))
        ws()
        if (text[at] === ',') at++
        else if (text[at] === ']') {
          at++
          return arr
        } else fail('expected "," or "]"')
      }
    }
    if (c === '"') return string()
    if (c === 't') return expect('true', true)
    if (c === 'f') return expect('false', false)
    if (c === 'n') return expect('null', null)
    if (c === '-' || (c >= '0' && c <= '9')) return number()
    return fail(text.charCodeAt(at) === 0xfeff ? 'byte-order mark' : 'unexpected character')
  }
  const result = value(0)
  ws()
  if (at < text.length) fail('trailing data after the JSON value')
  return result
}
