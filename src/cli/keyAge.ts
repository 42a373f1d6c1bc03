/** `--max-key-age 30d`: the rotation policy's age, from the flag or SEALPOST_MAX_KEY_AGE. */
import { ArgumentError } from './errors.js'

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * Parses a key age such as `30d`, `12h`, `90m` or `45s` into milliseconds (whole numbers; at least one second).
 *
 * @example parseKeyAge('30d') // 2_592_000_000
 */
export function parseKeyAge(value: string, source = '--max-key-age'): number {
  const match = /^([1-9][0-9]{0,6})([smhd])$/.exec(value.trim())
  const unit = match ? UNITS[match[2] as string] : undefined
  if (!match || unit === undefined)
    throw new ArgumentError(`${source} must be a whole number followed by s, m, h or d (got "${value}").`, {
      metaMessages: ['Example: --max-key-age 30d'],
    })
  return Number(match[1]) * unit
}

/**
 * The rotation policy of a command: `--max-key-age` if given, else SEALPOST_MAX_KEY_AGE, else none.
 *
 * @example const maxKeyAge = resolveMaxKeyAge(values['max-key-age'])
 */
export function resolveMaxKeyAge(flag: string | undefined, env = process.env): number | undefined {
  if (flag !== undefined) return parseKeyAge(flag)
  const fromEnv = env.SEALPOST_MAX_KEY_AGE || undefined
  return fromEnv === undefined ? undefined : parseKeyAge(fromEnv, 'SEALPOST_MAX_KEY_AGE')
}
