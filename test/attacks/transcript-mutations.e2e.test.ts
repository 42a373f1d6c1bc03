// Issue 9, transcript findings: a run of mutations of a real exported transcript must never verify, never throw, and
// always fail with a named check and a typed error. Covers the reviewer's classes (duplicate statements in the
// unanchored tail, an early exportedAt, duplicate JSON keys, null, the last entry deleted, entries emptied) plus field-
// and byte-level mutations of every kind.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { verifyTranscript } from '../../src/client/transcript.js'
import type { Transcript } from '../../src/client/transcriptFormat.js'
import type { TranscriptCheckName } from '../../src/client/transcriptReport.js'
import { BaseError } from '../../src/errors.js'
import { hashLogEntry, LOG_GENESIS_HASH, type LogEntry } from '../../src/store/auditLog.js'
import { type TranscriptFixture, transcriptFixture } from './transcript-fixture.js'

let fx: TranscriptFixture
let base: Transcript
/** Entry indexes of the fixture's transcript by role. */
let at: {
  received: number
  sent: number
  rejected: number
  receipt: number
  logAnchor: number
  /** Last entry the anchored head covers. */
  pinned: number
  tailReceived: number
  tailSent: number
}

const CHECKS: TranscriptCheckName[] = [
  'format',
  'chain',
  'contracts',
  'device',
  'hash-chain',
  'export',
  'statement-set',
  'log-chain',
  'equivocation',
  'anchored-prefix',
  'statement',
  'sender',
  'signature',
  'key-valid',
  'block',
  'body',
  'recipients',
  'leaf',
  'receipt-leaf',
  'receipt',
  'log-anchor',
  'rejected',
]

const copy = (): Transcript => structuredClone(base)
/** What a forger holding the file can always do: recompute every hash after an edit. */
function rehash(t: Transcript): Transcript {
  let prevHash = LOG_GENESIS_HASH
  t.entries = t.entries.map((e, index) => {
    const hash = hashLogEntry({ index, at: e.at, kind: e.kind, data: e.data, prevHash })
    const out: LogEntry = { ...e, index, prevHash, hash }
    prevHash = hash
    return out
  })
  return t
}
const edit =
  (f: (t: Transcript) => void, rehashed = false) =>
  () => {
    const t = copy()
    f(t)
    return rehashed ? rehash(t) : t
  }
/** Flips one hex digit of a 0x string at digit `i` (0 = first after 0x). */
const flipHex = (hex: string, i: number) => {
  const p = 2 + i
  const c = hex[p]!
  return `${hex.slice(0, p)}${c === '0' ? '1' : '0'}${hex.slice(p + 1)}`
}
const data = (t: Transcript, i: number) => t.entries[i]!.data as Record<string, unknown>
const receiptOf = (t: Transcript, i: number) => data(t, i).receipt as Record<string, unknown>

type Mutation = { name: string; input: () => unknown; expect?: TranscriptCheckName }

function mutations(): Mutation[] {
  const list: Mutation[] = []
  const add = (name: string, input: () => unknown, check?: TranscriptCheckName) =>
    list.push({ name, input, ...(check ? { expect: check } : {}) })
  const text = JSON.stringify(base)

  // Not a transcript at all, or not strict JSON.
  add('null', () => 'null', 'format')
  add('null value', () => null, 'format')
  add('a number', () => '42', 'format')
  add('an array', () => '[]', 'format')
  add('a string', () => '"transcript"', 'format')
  add('empty text', () => '', 'format')
  add('a PNG header', () => '\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR', 'format')
  add('duplicate top-level key', () => text.replace('{"version":1,', '{"version":1,"version":1,'), 'format')
  add(
    'duplicate key, the first value a reader sees differs',
    () => text.replace(`"chainId":${base.chainId}`, `"chainId":1,"chainId":${base.chainId}`),
    'format',
  )
  add(
    'duplicate key inside entry data',
    () => text.replace('"envelopeId":', '"envelopeId":"0x00","envelopeId":'),
    'format',
  )
  add('trailing data', () => `${text} {}`, 'format')
  add('truncated text', () => text.slice(0, Math.floor(text.length / 2)), 'format')
  add('byte-order mark', () => `\ufeff${text}`, 'format')

  // Header fields.
  add(
    'version 2',
    edit((t) => Object.assign(t, { version: 2 })),
    'format',
  )
  add(
    'chainId as a string',
    edit((t) => Object.assign(t, { chainId: String(t.chainId) })),
    'format',
  )
  add(
    'another chain',
    edit((t) => Object.assign(t, { chainId: 1 })),
    'chain',
  )
  add(
    'another KeyRegistry',
    edit((t) => Object.assign(t, { keyRegistry: t.messageAnchor })),
    'contracts',
  )
  add(
    'another MessageAnchor',
    edit((t) => Object.assign(t, { messageAnchor: t.keyRegistry })),
    'contracts',
  )
  add(
    'another account',
    edit((t) => Object.assign(t, { account: fx.alice.account })),
    'device',
  )
  add(
    'another device',
    edit((t) => Object.assign(t, { deviceId: fx.alice.deviceId })),
    'device',
  )
  add(
    'malformed deviceId',
    edit((t) => Object.assign(t, { deviceId: '0x1234' })),
    'format',
  )
  add(
    'exportedAt in the future',
    edit((t) => Object.assign(t, { exportedAt: Date.now() + 3_600_000 })),
    'format',
  )
  add(
    'exportedAt before the first entry',
    edit((t) => Object.assign(t, { exportedAt: t.entries[0]!.at - 1 })),
    'format',
  )
  add(
    'exportedAt before the last entry',
    edit((t) => Object.assign(t, { exportedAt: t.entries.at(-1)!.at - 1 })),
    'format',
  )
  add(
    'negative exportedAt',
    edit((t) => Object.assign(t, { exportedAt: -1 })),
    'format',
  )
  add(
    'an extra top-level key',
    edit((t) => Object.assign(t, { note: 'trust me' })),
    'format',
  )
  add(
    'entries missing',
    edit((t) => Reflect.deleteProperty(t, 'entries')),
    'format',
  )
  add(
    'entries as an object',
    edit((t) => Object.assign(t, { entries: {} })),
    'format',
  )
  add(
    'an entry that is null',
    edit((t) => (t.entries[1] = null as never)),
    'format',
  )

  // Every entry kind: envelope fields without re-hashing fail the chain, re-hashed ones their own check.
  for (const role of [
    'received',
    'sent',
    'rejected',
    'receipt',
    'logAnchor',
    'tailReceived',
    'tailSent',
  ] as const) {
    const i = at[role]
    add(
      `${role}: hash flipped`,
      edit((t) => (t.entries[i]!.hash = flipHex(t.entries[i]!.hash, 5) as never)),
      'hash-chain',
    )
    add(
      `${role}: prevHash flipped`,
      edit((t) => (t.entries[i]!.prevHash = flipHex(t.entries[i]!.prevHash, 9) as never)),
      'hash-chain',
    )
    add(
      `${role}: at changed`,
      edit((t) => (t.entries[i]!.at += 1)),
      'hash-chain',
    )
    add(
      `${role}: index changed`,
      edit((t) => (t.entries[i]!.index += 1)),
      'hash-chain',
    )
    add(
      `${role}: unknown kind`,
      edit((t) => (t.entries[i]!.kind = 'note' as never)),
      'format',
    )
    add(
      `${role}: extra entry key`,
      edit((t) => Object.assign(t.entries[i]!, { extra: 1 })),
      'format',
    )
    add(
      `${role}: data not an object`,
      edit((t) => (t.entries[i]!.data = [] as never)),
      'format',
    )
  }

  // sent / received: the signed content, re-hashed by the forger.
  for (const role of ['received', 'sent', 'tailReceived', 'tailSent'] as const) {
    const i = at[role]
    for (const digit of [0, 2, 40, 100, 200, 300])
      add(
        `${role}: statement digit ${digit} flipped, re-hashed`,
        edit((t) => (data(t, i).statement = flipHex(String(data(t, i).statement), digit)), true),
      )
    add(
      `${role}: statement cut short, re-hashed`,
      edit((t) => (data(t, i).statement = String(data(t, i).statement).slice(0, 100)), true),
      'statement',
    )
    add(
      `${role}: signature flipped, re-hashed`,
      edit((t) => (data(t, i).signature = flipHex(String(data(t, i).signature), 7)), true),
      'signature',
    )
    add(
      `${role}: leaf flipped, re-hashed`,
      edit((t) => (data(t, i).leaf = flipHex(String(data(t, i).leaf), 3)), true),
      'leaf',
    )
    add(
      `${role}: body edited, re-hashed`,
      edit((t) => (data(t, i).body = `${String(data(t, i).body)}!`), true),
      'body',
    )
    add(
      `${role}: conversation changed, re-hashed`,
      edit((t) => (data(t, i).conversation = flipHex(String(data(t, i).conversation), 1)), true),
      'statement',
    )
    add(
      `${role}: statement removed, re-hashed`,
      edit((t) => Reflect.deleteProperty(data(t, i), 'statement'), true),
      'statement',
    )
  }
  add(
    'sent turned into received, re-hashed',
    edit((t) => (t.entries[at.received]!.kind = 'sent'), true),
    'sender',
  )

  // Duplicates and order, in the unanchored tail (re-hashed: the hash chain alone cannot tell).
  add(
    'the same sent statement twice in the tail',
    edit((t) => t.entries.push({ ...t.entries[at.tailSent]! }), true),
    'statement-set',
  )
  add(
    'a received message spliced in twice',
    edit((t) => t.entries.push({ ...t.entries[at.tailReceived]! }, { ...t.entries[at.tailReceived]! }), true),
    'statement-set',
  )
  add(
    'an anchored received message again in the tail',
    edit((t) => t.entries.push({ ...t.entries[at.received]! }), true),
    'statement-set',
  )
  add(
    'a later statement moved before an earlier one of the same sender',
    edit((t) => {
      const [later] = t.entries.splice(at.tailReceived, 1)
      t.entries.splice(at.received, 0, later!)
    }, true),
    'statement-set',
  )
  add(
    'two entries swapped, not re-hashed',
    edit((t) => {
      ;[t.entries[0], t.entries[1]] = [t.entries[1]!, t.entries[0]!]
    }),
    'hash-chain',
  )
  add(
    'a pinned entry deleted, re-hashed',
    edit((t) => t.entries.splice(at.rejected, 1), true),
    'log-anchor',
  )
  add(
    'a pinned entry deleted, not re-hashed',
    edit((t) => t.entries.splice(1, 1)),
    'hash-chain',
  )
  add(
    'a pinned rejection rewritten, re-hashed',
    edit((t) => (data(t, at.rejected).code = 'SEALPOST_NOTHING'), true),
    'log-anchor',
  )
  // Cut short after export (the hash chain of what is left is intact): the export signed over the last entry catches it.
  add(
    'the last entry deleted',
    edit((t) => t.entries.pop()),
    'export',
  )
  add(
    'entries emptied',
    edit((t) => (t.entries = [])),
    'export',
  )
  add(
    'the tail after the anchor deleted',
    edit((t) => t.entries.splice(at.logAnchor + 1)),
    'export',
  )
  add(
    'the export statement removed',
    edit((t) => Reflect.deleteProperty(t, 'export')),
    'export',
  )
  add(
    'the export signature flipped',
    edit((t) => (t.export!.signature = flipHex(t.export!.signature, 9) as never)),
    'export',
  )
  add(
    'the export statement flipped in its head',
    edit((t) => (t.export!.statement = flipHex(t.export!.statement, 2 * 90 + 3) as never)),
    'export',
  )
  add(
    'an entry appended after export',
    edit((t) => t.entries.push({ ...t.entries[at.rejected]! }), true),
    'export',
  )
  add(
    'an entry inserted into the pinned prefix, re-hashed',
    edit((t) => t.entries.splice(0, 0, { ...t.entries[at.rejected]! }), true),
    'log-anchor',
  )

  // receipt and log-anchor entries: the proof, re-hashed.
  for (const role of ['receipt', 'logAnchor'] as const) {
    const i = at[role]
    add(
      `${role}: path element flipped`,
      edit((t) => {
        const path = receiptOf(t, i).path as string[]
        if (path.length === 0) receiptOf(t, i).path = [`0x${'11'.repeat(32)}`]
        else path[0] = flipHex(path[0]!, 4)
      }, true),
      'receipt',
    )
    add(
      `${role}: root flipped`,
      edit((t) => (receiptOf(t, i).root = flipHex(String(receiptOf(t, i).root), 4)), true),
      'receipt',
    )
    add(
      `${role}: tree size changed`,
      edit((t) => (receiptOf(t, i).treeSize = Number(receiptOf(t, i).treeSize) + 1), true),
      'receipt',
    )
    add(
      `${role}: index changed`,
      edit((t) => (receiptOf(t, i).index = Number(receiptOf(t, i).index) + 1), true),
      'receipt',
    )
    add(
      `${role}: block number changed`,
      edit(
        (t) => (receiptOf(t, i).blockNumber = String(BigInt(String(receiptOf(t, i).blockNumber)) - 1n)),
        true,
      ),
      'receipt',
    )
    add(
      `${role}: block timestamp changed`,
      edit(
        (t) => (receiptOf(t, i).blockTimestamp = String(BigInt(String(receiptOf(t, i).blockTimestamp)) + 1n)),
        true,
      ),
      'receipt',
    )
    add(
      `${role}: txHash flipped`,
      edit((t) => (receiptOf(t, i).txHash = flipHex(String(receiptOf(t, i).txHash), 4)), true),
      'receipt',
    )
    add(
      `${role}: another contract`,
      edit((t) => (receiptOf(t, i).contract = t.keyRegistry), true),
      'receipt',
    )
    add(
      `${role}: another chain`,
      edit((t) => (receiptOf(t, i).chainId = 1), true),
      'receipt',
    )
    add(
      `${role}: receipt removed`,
      edit((t) => Reflect.deleteProperty(data(t, i), 'receipt'), true),
      'receipt',
    )
    add(
      `${role}: receipt null`,
      edit((t) => (data(t, i).receipt = null), true),
      'receipt',
    )
  }
  add(
    'receipt: leaf of another entry',
    edit((t) => (data(t, at.receipt).leaf = data(t, at.tailSent).leaf), true),
    'receipt-leaf',
  )
  add(
    'log-anchor: names a later entry',
    edit((t) => (data(t, at.logAnchor).index = at.logAnchor + 1), true),
    'log-anchor',
  )
  add(
    'log-anchor: head flipped',
    edit((t) => (data(t, at.logAnchor).head = flipHex(String(data(t, at.logAnchor).head), 2)), true),
    'log-anchor',
  )

  // Byte level: one byte of the compact JSON changed (XOR 1, never a mere change of case), anywhere but the value of
  // exportedAt, which nothing signs (the export statement names a block, not a time).
  const exported = text.indexOf('"exportedAt":')
  const exportedEnd = text.indexOf(',', exported)
  let seed = 0x5eed
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed
  }
  for (let n = 0; n < 60; ) {
    const p = next() % text.length
    if (p >= exported && p <= exportedEnd) continue
    const c = text.charCodeAt(p)
    if (c > 0x7e) continue
    n++
    add(
      `byte ${p} (${JSON.stringify(text[p])}) xor 1`,
      () => `${text.slice(0, p)}${String.fromCharCode(c ^ 1)}${text.slice(p + 1)}`,
    )
  }
  return list
}

beforeAll(async () => {
  fx = await transcriptFixture()
  base = fx.transcript
  const kinds = base.entries.map((e) => e.kind)
  const logAnchor = kinds.indexOf('log-anchor')
  const pinned = Number((base.entries[logAnchor]!.data as { index: number }).index)
  const first = (kind: string, from: number, to: number) => {
    const i = kinds.findIndex((k, j) => k === kind && j >= from && j <= to)
    if (i < 0) throw new Error(`fixture has no ${kind} entry in ${from}..${to}: ${kinds.join(',')}`)
    return i
  }
  at = {
    received: first('received', 0, pinned),
    sent: first('sent', 0, pinned),
    rejected: first('rejected', 0, pinned),
    receipt: first('receipt', 0, pinned),
    logAnchor,
    pinned,
    tailReceived: first('received', logAnchor + 1, kinds.length),
    tailSent: first('sent', logAnchor + 1, kinds.length),
  }
}, 240_000)
afterAll(() => fx?.stop())

describe('transcript mutations against the real verifier', () => {
  test('the unmutated transcript verifies', async () => {
    const r = await verifyTranscript({
      transcript: base,
      publicClient: fx.ctx.publicClient,
      deployment: fx.trusted,
    })
    expect(r.checks.filter((c) => !c.ok)).toEqual([])
  })

  test('every mutation fails with a named check and a typed error, and none throws', async () => {
    const list = mutations()
    expect(list.length).toBeGreaterThanOrEqual(200)
    const verdicts: string[] = []
    for (const m of list) {
      const r = await verifyTranscript({
        transcript: m.input(),
        publicClient: fx.ctx.publicClient,
        deployment: fx.trusted,
      })
      const failed = r.checks.filter((c) => !c.ok)
      const named = failed.length > 0 && failed.every((c) => CHECKS.includes(c.check))
      const typed = r.error instanceof BaseError && /^SEALPOST_[A-Z_]+$/.test(r.error.code)
      const expected = m.expect === undefined || failed.some((c) => c.check === m.expect)
      if (r.ok || !named || !typed || !expected)
        verdicts.push(
          `${m.name}: ok=${r.ok} failed=${failed.map((c) => `${c.entry ?? '-'}:${c.check}`).join(',')} error=${r.error?.name}`,
        )
    }
    expect(verdicts).toEqual([])
  }, 600_000)
})
