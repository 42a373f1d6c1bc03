/** Client warnings: contacts whose messages are marked suspicious (a revoked key in use by default; more when configured). */

import type { EventEmitter } from 'node:events'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { Hex } from 'viem'
import type { ClientEvents, Rejection } from './types.js'

/**
 * Why a contact is suspicious: the refusal code that marked it (`verify`), an IDS alert an app passed on (`ids`), or
 * the user (`user`). Keyed by the contact's account, lower case.
 *
 * @example const s: Suspicion = { account: '0xab…', reason: 'SEALPOST_KEY_REVOKED', source: 'verify', at: 0, device: '0xcd…' }
 */
export type Suspicion = {
  account: string
  reason: string
  source: 'verify' | 'ids' | 'user'
  /** Unix ms when it was marked. */
  at: number
  /** The device whose message caused it, when known. */
  device?: string | undefined
}

/**
 * Refusal codes that mark the sender's account by default: a message signed with a key revoked on chain is an
 * attack by definition (someone holds a key its owner gave up), so every message of that contact deserves a second
 * look until the user clears it. Other codes (a replay, a forgery) may be the relay's doing, not the contact's, and
 * mark only when listed in `codes`.
 *
 * @example CERTAIN_SUSPICION_CODES.includes('SEALPOST_KEY_REVOKED') // true
 */
export const CERTAIN_SUSPICION_CODES: readonly string[] = [
  'SEALPOST_KEY_REVOKED',
  'SEALPOST_REVOKED_BEFORE_ANCHOR',
]

/** What suspicion reads of a client: its events, and the registry to name a device's account. */
type WatchableClient = {
  readonly events: EventEmitter<ClientEvents>
  readonly watcher: { device(deviceId: Hex): { account: string } | undefined }
}

/**
 * Options of {@link watchSuspicion}.
 *
 * @example const o: SuspicionOptions = { path: join(home, 'suspicion.json'), codes: [...CERTAIN_SUSPICION_CODES, 'SEALPOST_REPLAY'] }
 */
export type SuspicionOptions = {
  /** A JSON file the marks persist in (read on start, rewritten atomically on each change); default memory only. */
  path?: string | undefined
  /** Refusal codes that mark the sender's account (default {@link CERTAIN_SUSPICION_CODES}). */
  codes?: readonly string[] | undefined
  now?: (() => number) | undefined
}

/**
 * The suspicious contacts of one client: `of(message)` tells whether a message's sender is marked, and why.
 *
 * @example const s = watchSuspicion(client, { path }); client.events.on('message', (m) => s.of(m) && warn(m))
 */
export type ContactSuspicion = {
  /** The mark on a message's sender account, if any. */
  of(message: { from: string }): Suspicion | undefined
  /** Marks `account` (an IDS alert an app received, or the user's own doubt). */
  mark(s: Omit<Suspicion, 'at'> & { at?: number | undefined }): void
  /** Clears the mark on `account`; returns whether there was one. */
  clear(account: string): boolean
  list(): Suspicion[]
  /** Stops following the client's events (the marks stay). */
  stop(): void
}

/**
 * Follows a client's refusals: each `rejected` message whose code is in `codes` and whose refused key the checks
 * reached marks the key's account (from the registry) as suspicious. Returns the marks, persisted in `path`.
 *
 * @example const suspicion = watchSuspicion(client, { path: join(home, 'suspicion.json') }); suspicion.of(message)
 */
export function watchSuspicion(client: WatchableClient, options: SuspicionOptions = {}): ContactSuspicion {
  const { codes = CERTAIN_SUSPICION_CODES } = options
  const marks = openSuspicions(options)
  const onRejected = (r: Rejection) => {
    if (!codes.includes(r.error.code as string)) return
    const device = r.report?.key?.deviceId
    const account = device && client.watcher.device(device)?.account
    if (account)
      marks.mark({ account, reason: r.error.code as string, source: 'verify', device: device.toLowerCase() })
  }
  client.events.on('rejected', onRejected)
  return { ...marks, stop: () => client.events.off('rejected', onRejected) }
}

/**
 * The marks alone, without a client (the CLI's `sealpost ids suspects`): read from `path`, rewritten atomically on
 * each change; `stop` does nothing.
 *
 * @example openSuspicions({ path: join(home, 'suspicion.json') }).clear('0xab…')
 */
export function openSuspicions({ path, now = Date.now }: SuspicionOptions = {}): ContactSuspicion {
  const marks = new Map<string, Suspicion>((path ? readSuspicions(path) : []).map((s) => [s.account, s]))
  const save = () => {
    if (!path) return
    writeFileSync(`${path}.tmp`, JSON.stringify({ v: 1, suspicions: [...marks.values()] }), { mode: 0o600 })
    renameSync(`${path}.tmp`, path)
  }
  return {
    of: ({ from }) => marks.get(from.toLowerCase()),
    mark({ at, ...s }) {
      const account = s.account.toLowerCase()
      if (marks.has(account)) return
      marks.set(account, { ...s, account, at: at ?? now() })
      save()
    },
    clear(account) {
      const had = marks.delete(account.toLowerCase())
      if (had) save()
      return had
    },
    list: () => [...marks.values()].sort((a, b) => a.at - b.at),
    stop: () => undefined,
  }
}

/**
 * The marks persisted at `path` (none when absent or unreadable: a damaged file warns about nobody rather than
 * stopping the client).
 *
 * @example readSuspicions(join(home, 'suspicion.json')).map((s) => s.account)
 */
export function readSuspicions(path: string): Suspicion[] {
  if (!existsSync(path)) return []
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as { suspicions?: Suspicion[] }
    return (json.suspicions ?? []).filter(
      (s) => typeof s?.account === 'string' && typeof s.reason === 'string',
    )
  } catch {
    return []
  }
}
