import { describe, expect, test } from 'vitest'
import { JsonSyntaxError } from './errors.js'
import { parseStrictJson } from './strictJson.js'

const refused = (text: string) => {
  try {
    parseStrictJson(text)
  } catch (err) {
    expect(err).toBeInstanceOf(JsonSyntaxError)
    expect((err as JsonSyntaxError).code).toBe('SEALPOST_JSON_INVALID')
    return (err as JsonSyntaxError).metaMessages[0]
  }
  throw new Error(`accepted ${JSON.stringify(text)}`)
}

describe('parseStrictJson', () => {
  test('reads what JSON.parse reads, for valid RFC 8259 text', () => {
    for (const text of [
      '{"a":[1,-2.5e3,0,true,false,null,"x\\u00e9\\n\\"\\\\\\/"],"b":{}}',
      ' [ ] ',
      '"\\ud83d\\ude00"',
      '0',
      '{"__proto__":{"polluted":1}}',
    ])
      expect(parseStrictJson(text)).toEqual(JSON.parse(text))
    const proto = parseStrictJson('{"__proto__":{"polluted":1}}') as Record<string, unknown>
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype)
    expect(Object.keys(proto)).toEqual(['__proto__'])
  })

  test('refuses a duplicate key at any depth, naming it and its offset', () => {
    expect(refused('{"a":1,"a":2}')).toBe('At offset 7: duplicate key "a"')
    expect(refused('{"x":[{"k":1,"k":1}]}')).toMatch(/duplicate key "k"/)
    expect(refused('{"\\u0061":1,"a":2}')).toMatch(/duplicate key "a"/)
  })

  test('refuses everything outside the grammar', () => {
    expect(refused('')).toMatch(/empty input/)
    expect(refused('  \n')).toMatch(/empty input/)
    for (const text of [
      '{',
      '{"a":1,}',
      '[1,]',
      '01',
      '1.',
      'NaN',
      "{'a':1}",
      '"\t"',
      '"\\x41"',
      '{} {}',
      '\ufeff{}',
      '\ufffdPNG',
      '1e400',
      '['.repeat(70) + ']'.repeat(70),
    ])
      refused(text)
  })
})
