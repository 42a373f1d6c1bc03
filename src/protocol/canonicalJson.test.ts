import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { CANONICAL_JSON_MAX_DEPTH, CanonicalJsonError, canonicalJson } from './canonicalJson.js'

describe('canonicalJson vectors', () => {
  test.each([
    [null, 'null'],
    [true, 'true'],
    [false, 'false'],
    [0, '0'],
    [-0, '0'],
    [1e21, '1e+21'],
    [0.1, '0.1'],
    [123456789012345680000, '123456789012345680000'],
    [5n, '"5"'],
    [-(2n ** 64n), '"-18446744073709551616"'],
    ['', '""'],
    ['a"b\\c\n\u0001é€😀', '"a\\"b\\\\c\\n\\u0001é€😀"'],
    ['\ud800', '"\\ud800"'],
    [[], '[]'],
    [{}, '{}'],
    [[1, [2, [3]]], '[1,[2,[3]]]'],
    [{ b: 1, a: 2 }, '{"a":2,"b":1}'],
    [{ z: { y: 1, x: [{ d: 1, c: 2 }] } }, '{"z":{"x":[{"c":2,"d":1}],"y":1}}'],
  ])('vector %# → %s', (value: unknown, expected: string) => {
    expect(canonicalJson(value as never)).toBe(expected)
  })

  // RFC 8785 §3.2.3 sorts by UTF-16 code units: '\u20ac' (€) < '\ud83d\ude00' (😀) < '\ufb33', unlike code points.
  test('keys sort by UTF-16 code units (RFC 8785 §3.2.3 example)', () => {
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    }
    expect(canonicalJson(value)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    )
  })

  test('a log entry body', () => {
    expect(
      canonicalJson({
        index: 0,
        at: 1700000000000,
        kind: 'rejected',
        data: { step: 'seq', envelopeId: `0x${'ab'.repeat(32)}`, code: 'SEALPOST_REPLAY' },
      }),
    ).toMatchInlineSnapshot(
      `"{"at":1700000000000,"data":{"code":"SEALPOST_REPLAY","envelopeId":"0xabababababababababababababababababababababababababababababababab","step":"seq"},"index":0,"kind":"rejected"}"`,
    )
  })
})

describe('canonicalJson rejects what is not JSON', () => {
  const cases: [string, unknown, string][] = [
    ['undefined', undefined, '$'],
    ['undefined property', { a: { b: undefined } }, '$.a.b'],
    ['undefined in array', [1, undefined], '$[1]'],
    ['sparse array hole', new Array(2).fill(1, 0, 1), '$[1]'],
    ['NaN', { x: Number.NaN }, '$.x'],
    ['Infinity', [Number.POSITIVE_INFINITY], '$[0]'],
    ['function', { f: () => 1 }, '$.f'],
    ['symbol', { 'odd key': Symbol('s') }, '$["odd key"]'],
    ['Date', { d: new Date(0) }, '$.d'],
    ['Uint8Array', { b: new Uint8Array(2) }, '$.b'],
    ['Map', new Map(), '$'],
  ]
  test.each(cases)('%s', (_name, value, path) => {
    const err = (() => {
      try {
        canonicalJson(value as never)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(CanonicalJsonError)
    expect((err as CanonicalJsonError).code).toBe('SEALPOST_CANONICAL_JSON_INVALID')
    expect((err as CanonicalJsonError).path).toBe(path)
  })

  test('cycles and deep nesting', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => canonicalJson(cyclic as never)).toThrowErrorMatchingInlineSnapshot(`
      [CanonicalJsonError: Value cannot be encoded as canonical JSON.

      Path: $.self
      Reason: cycle]
    `)
    let deep: unknown = 1
    for (let i = 0; i < CANONICAL_JSON_MAX_DEPTH + 1; i++) deep = [deep]
    expect(() => canonicalJson(deep as never)).toThrow(CanonicalJsonError)
  })

  test('a shared (non-cyclic) object is fine', () => {
    const shared = { a: 1 }
    expect(canonicalJson({ x: shared, y: shared })).toBe('{"x":{"a":1},"y":{"a":1}}')
  })

  test('an error never contains the value', () => {
    try {
      canonicalJson({ secret: [Number.NaN, 'hunter2'] } as never)
    } catch (e) {
      expect(String(e)).not.toContain('hunter2')
    }
  })
})

describe('canonicalJson properties', () => {
  test('parse(canonicalJson(v)) deep-equals v, and canonicalJson is idempotent on it', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value as never)
        const parsed = JSON.parse(text)
        // -0 is written as 0; everything else round-trips.
        expect(parsed).toEqual(JSON.parse(JSON.stringify(value)))
        expect(canonicalJson(parsed)).toBe(text)
      }),
    )
  })

  test('key insertion order does not matter', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.integer()), (dict) => {
        const reversed = Object.fromEntries(Object.entries(dict).reverse())
        expect(canonicalJson(reversed)).toBe(canonicalJson(dict))
      }),
    )
  })
})
