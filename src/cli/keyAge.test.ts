/** The rotation policy's age: `--max-key-age 30d` and SEALPOST_MAX_KEY_AGE parsed, bad values refused. */
import { describe, expect, test } from 'vitest'
import { parseKeyAge, resolveMaxKeyAge } from './keyAge.js'

describe('--max-key-age', () => {
  test('whole numbers with s, m, h or d', () => {
    expect(parseKeyAge('30d')).toBe(30 * 86_400_000)
    expect(parseKeyAge('12h')).toBe(12 * 3_600_000)
    expect(parseKeyAge('90m')).toBe(90 * 60_000)
    expect(parseKeyAge('45s')).toBe(45_000)
  })

  test('anything else is a typed argument error naming where it came from', () => {
    for (const bad of ['30', '0d', '1.5d', '30 days', '-1d', 'd', ''])
      expect(() => parseKeyAge(bad)).toThrowError(/--max-key-age must be a whole number/)
    expect(() => resolveMaxKeyAge(undefined, { SEALPOST_MAX_KEY_AGE: 'soon' })).toThrowError(
      /^SEALPOST_MAX_KEY_AGE/,
    )
  })

  test('the flag wins over the environment; neither means no policy', () => {
    expect(resolveMaxKeyAge('1h', { SEALPOST_MAX_KEY_AGE: '2h' })).toBe(3_600_000)
    expect(resolveMaxKeyAge(undefined, { SEALPOST_MAX_KEY_AGE: '2h' })).toBe(7_200_000)
    expect(resolveMaxKeyAge(undefined, {})).toBeUndefined()
  })
})
